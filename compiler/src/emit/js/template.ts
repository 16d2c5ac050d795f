// The built-ins table (stdlib/src/catalog.ts) writes a function's inline implementation as a
// small JavaScript template — `Math.abs($0)`, `$0.length`, `($0 ? 1 : 0)` — and a null-tolerant
// function's value for null the same way (`"null"`). This parses those templates once into the
// syntax tree, so they are printed like any other expression: the tree, never text, is filled in.
// The grammar is the little the table uses: names, `$N`, numbers, string literals, `true`,
// `false`, `null`, member access, calls, parentheses and `? :`.
import { bool, call, cond, member, NULL, num, paren, str, type Expr } from "./ast";

/** A parsed template: an expression in which `{ kind: "hole" }` stands for argument `index`. */
export type Template = Expr | Hole;
interface Hole {
  kind: "hole";
  index: number;
}

const TOKEN = /\s*(\$\d+|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*"|[().,?:])/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) {
      if (text.slice(at).trim() === "") break;
      throw new Error(`internal: the inline template ${JSON.stringify(text)} is not in the template grammar (at ${at})`);
    }
    out.push(m[1]!);
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly text: string, private readonly tokens: string[]) {}

  parse(): Template {
    const e = this.cond();
    if (this.i !== this.tokens.length) this.fail();
    return e;
  }

  private fail(): never {
    throw new Error(`internal: the inline template ${JSON.stringify(this.text)} is not in the template grammar`);
  }

  private expect(t: string) {
    if (this.tokens[this.i++] !== t) this.fail();
  }

  private cond(): Template {
    const test = this.postfix();
    if (this.tokens[this.i] !== "?") return test;
    this.i++;
    const then = this.cond();
    this.expect(":");
    const otherwise = this.cond();
    return cond(test as Expr, then as Expr, otherwise as Expr);
  }

  private postfix(): Template {
    let e = this.primary();
    for (;;) {
      const t = this.tokens[this.i];
      if (t === ".") {
        const name = this.tokens[this.i + 1];
        if (name === undefined || !/^[A-Za-z_]/.test(name)) this.fail();
        this.i += 2;
        e = member(e as Expr, name);
      } else if (t === "(") {
        this.i++;
        const args: Template[] = [];
        while (this.tokens[this.i] !== ")") {
          if (args.length) this.expect(",");
          args.push(this.cond());
        }
        this.i++;
        e = call(e as Expr, args as Expr[]);
      } else return e;
    }
  }

  private primary(): Template {
    const t = this.tokens[this.i++];
    if (t === undefined) this.fail();
    if (t === "(") {
      const e = this.cond();
      this.expect(")");
      return paren(e as Expr);
    }
    if (t.startsWith("$")) return { kind: "hole", index: Number(t.slice(1)) };
    if (t.startsWith('"')) return str(JSON.parse(t) as string);
    if (/^\d/.test(t)) return num(Number(t));
    if (t === "true" || t === "false") return bool(t === "true");
    if (t === "null") return NULL;
    if (/^[A-Za-z_]/.test(t)) return { kind: "id", name: t };
    return this.fail();
  }
}

const parsed = new Map<string, Template>();

/** The template's tree (parsed once per distinct template). */
export function parseTemplate(text: string): Template {
  let t = parsed.get(text);
  if (t === undefined) {
    t = new Parser(text, tokenize(text)).parse();
    parsed.set(text, t);
  }
  return t;
}

/**
 * The template with its holes filled: `arg(i, bare)` gives argument i's tree, `bare` when the
 * hole is a whole call argument (no parentheses can be needed there).
 */
export function fillTemplate(t: Template, arg: (index: number, bare: boolean) => Expr): Expr {
  const fill = (x: Template, bare: boolean): Expr => {
    switch (x.kind) {
      case "hole":
        return arg(x.index, bare);
      case "member":
        return member(fill(x.object, false), x.name);
      case "call":
        return call(fill(x.callee, false), x.args.map((a) => fill(a, true)));
      case "cond":
        return cond(fill(x.test, false), fill(x.then, false), fill(x.else, false));
      case "paren":
        return paren(fill(x.expr, false));
      default:
        return x;
    }
  };
  return fill(t, false);
}
