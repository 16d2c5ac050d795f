// The formatter (`flowc fmt`, the language server's formatting): prints a parsed program in one
// canonical layout, decided by the syntax tree alone, so formatting a formatted file changes
// nothing. Pipelines put one stage per line behind an aligned `|`; lists (select items, agg
// items, record types and literals, test rows) stay on one line when it fits in WIDTH columns and
// otherwise take one item per line with a trailing comma. Literals and names are printed as they
// were written (`1_000`, `5m`, `` `type` ``). Comments are kept: a comment on its own line stays
// before what follows it, a comment at the end of a line stays at the end of that line. No Node
// imports: the playground formats with it too.
import type * as A from "../syntax/ast";
import { parse } from "../syntax/parse";
import type { Diagnostic } from "../diagnostics/catalogue";

export const WIDTH = 100;
const INDENT = "  ";

export type FormatResult = { ok: true; text: string } | { ok: false; diagnostics: Diagnostic[] };

/** Formats `source`; a program with syntax errors is left alone (its errors are returned). */
export function format(source: string): FormatResult {
  const parsed = parse(source);
  if (parsed.diagnostics.some((d) => d.severity === "error")) return { ok: false, diagnostics: parsed.diagnostics };
  return { ok: true, text: new Printer(source, parsed.program).program() };
}

// Binding strength of each expression form (higher binds tighter), as in flow.ohm.
const PREC = { if: 0, or: 1, and: 2, not: 3, cmp: 4, coalesce: 5, add: 6, mul: 7, unary: 8, postfix: 9, atom: 10 } as const;

function precOf(e: A.Expr): number {
  switch (e.kind) {
    case "If":
      return PREC.if;
    case "Binary":
      if (e.op === "or") return PREC.or;
      if (e.op === "and") return PREC.and;
      if (e.op === "??") return PREC.coalesce;
      if (e.op === "+" || e.op === "-") return PREC.add;
      if (e.op === "*" || e.op === "/" || e.op === "%") return PREC.mul;
      return PREC.cmp;
    case "In":
      return PREC.cmp;
    case "Unary":
      return e.op === "not" ? PREC.not : PREC.unary;
    case "Int":
    case "Float":
      return e.value < 0 ? PREC.unary : PREC.atom; // a folded `-5`
    case "Duration":
      return e.ms < 0 ? PREC.unary : PREC.atom;
    case "Field":
    case "Index":
    case "Call":
      return PREC.postfix;
    default:
      return PREC.atom;
  }
}

class Printer {
  private readonly comments: A.Comment[];
  /** Index of the next comment not printed yet. */
  private next = 0;
  private readonly out: string[] = [];

  constructor(
    private readonly src: string,
    private readonly ast: A.Program,
  ) {
    this.comments = ast.comments;
  }

  // ---- comments ---------------------------------------------------------------------------------

  /** Comments that start before `pos`, not printed yet, each on its own line at `indent`. */
  private leading(pos: number, indent: string): void {
    while (this.next < this.comments.length && this.comments[this.next]!.span.start < pos) {
      const c = this.comments[this.next++]!;
      this.blankBefore(c.span.start, indent);
      this.out.push(indent + c.text.trimEnd());
    }
  }

  /** A comment that starts on the same source line as `end` (after it): appended to the last line. */
  private trailing(end: number): void {
    const c = this.comments[this.next];
    if (!c || c.span.start < end) return;
    // Only commas and spaces between: the comment ends this construct's line, not a later one's.
    const between = this.src.slice(end, c.span.start);
    if (between.includes("\n") || between.replace(/,/g, "").trim() !== "" || c.text.includes("\n")) return;
    this.next++;
    this.out[this.out.length - 1] += " " + c.text.trimEnd();
  }

  /** Comments inside [start, end) that an inline rendering would swallow. */
  private hasCommentIn(span: A.Span): boolean {
    for (let i = this.next; i < this.comments.length; i++) {
      const c = this.comments[i]!;
      if (c.span.start >= span.end) return false;
      if (c.span.start >= span.start) return true;
    }
    return false;
  }

  /** One blank line before a line whose source had a blank line before it (never two, never at the top). */
  private blankBefore(pos: number, indent: string): void {
    if (this.out.length === 0 || this.out.at(-1) === "" || indent !== "") return;
    let i = pos - 1;
    while (i >= 0 && (this.src[i] === " " || this.src[i] === "\t" || this.src[i] === "\r")) i--;
    if (this.src[i] !== "\n") return;
    i--;
    while (i >= 0 && (this.src[i] === " " || this.src[i] === "\t" || this.src[i] === "\r")) i--;
    if (i < 0 || this.src[i] === "\n") this.out.push("");
  }

  // ---- declarations -------------------------------------------------------------------------------

  program(): string {
    for (const d of this.ast.decls) {
      this.leading(d.span.start, "");
      this.blankBefore(d.span.start, "");
      this.decl(d);
      this.trailing(d.span.end);
    }
    this.leading(Infinity, "");
    while (this.out.at(-1) === "") this.out.pop();
    return this.out.length === 0 ? "" : this.out.join("\n") + "\n";
  }

  private text(span: A.Span): string {
    return this.src.slice(span.start, span.end);
  }

  private name(id: A.Ident): string {
    return this.text(id.span);
  }

  private decl(d: A.Decl): void {
    switch (d.kind) {
      case "TypeDecl":
        this.out.push(`type ${this.name(d.name)} = ${this.type(d.type, "type ".length + d.name.name.length + 3, "")}`);
        return;
      case "SourceDecl": {
        let line = `source ${this.name(d.name)}: ${this.type(d.type, 0, "")} = ${this.expr(d.connector, 0)}`;
        if (d.key) line += ` key ${d.key.map((k) => this.name(k)).join(", ")}`;
        if (d.eventTime) line += ` event time ${this.expr(d.eventTime, 0)}`;
        if (d.watermark) line += ` watermark ${this.expr(d.watermark, 0)}`;
        if (d.idle) line += ` idle ${this.expr(d.idle, 0)}`;
        this.out.push(line);
        return;
      }
      case "TableDecl":
        this.out.push(`table ${this.name(d.name)}: ${this.type(d.type, 0, "")} = ${this.expr(d.connector, 0)} key ${this.name(d.key)}`);
        return;
      case "LetDecl":
        this.pipelineDecl(`let ${this.name(d.name)} = `, d.pipeline);
        return;
      case "EmitDecl": {
        const head = `emit ${d.final ? "final " : ""}${d.name ? `${this.name(d.name)} = ` : ""}`;
        this.pipelineDecl(head, d.pipeline);
        if (d.sink) {
          this.leading(d.sink.span.start, INDENT);
          const sink = `-> ${this.expr(d.sink, 0)}`;
          if (d.pipeline.stages.length === 0 && this.out.at(-1)!.length + sink.length + 1 <= WIDTH) this.out[this.out.length - 1] += " " + sink;
          else this.out.push(INDENT + sink);
        }
        return;
      }
      case "FnDecl": {
        const params = d.params.map((p) => `${this.name(p.name)}: ${this.type(p.type, 0, "")}`).join(", ");
        const head = `fn ${this.name(d.name)}(${params})${d.returnType ? `: ${this.type(d.returnType, 0, "")}` : ""} = `;
        this.out.push(head + this.expr(d.body, head.length));
        return;
      }
      case "ImportDecl":
        this.out.push(`import { ${d.names.map((n) => this.name(n)).join(", ")} } from ${this.text(d.from.span)}`);
        return;
      case "TestDecl":
        this.test(d);
        return;
    }
  }

  private test(d: A.TestDecl): void {
    this.out.push(`test ${this.text(d.name.span)} {`);
    for (const item of d.items) {
      this.leading(item.span.start, INDENT);
      const head =
        item.kind === "TestInput"
          ? `${INDENT}input ${this.name(item.target)} = `
          : `${INDENT}expect ${this.name(item.target)}${item.mode ? ` ${item.mode}` : ""} = `;
      this.pushValue(head, item.value, INDENT);
      this.trailing(item.span.end);
    }
    this.leading(d.span.end - 1, INDENT);
    this.out.push("}");
  }

  /** `head` followed by an expression; a list too long for one line gets one element per line. */
  private pushValue(head: string, e: A.Expr, indent: string): void {
    if (e.kind === "ArrayLit" && e.elements.length > 0) {
      const one = head + this.expr(e, head.length);
      if (one.length <= WIDTH && !one.includes("\n") && !this.hasCommentIn(e.span)) {
        this.out.push(one);
        return;
      }
      this.out.push(head + "[");
      const inner = indent + INDENT;
      for (const x of e.elements) {
        this.leading(x.span.start, inner);
        this.out.push(inner + this.expr(x, inner.length) + ",");
        this.trailing(x.span.end);
      }
      this.leading(e.span.end - 1, inner);
      this.out.push(indent + "]");
      return;
    }
    this.out.push(head + this.expr(e, head.length));
  }

  // ---- pipelines -----------------------------------------------------------------------------------

  private pipelineDecl(head: string, p: A.Pipeline): void {
    this.out.push(head + this.headText(p));
    this.trailing(p.alias?.span.end ?? p.head.span.end);
    for (const s of p.stages) {
      this.leading(s.span.start, INDENT);
      this.stageLines(s, INDENT);
      this.trailing(s.span.end);
    }
  }

  private headText(p: A.Pipeline): string {
    const h = p.head;
    let text: string;
    switch (h.kind) {
      case "NameHead":
        text = this.name(h.name);
        break;
      case "ParenHead":
        text = `(${this.inlinePipeline(h.pipeline)})`;
        break;
      case "UnionHead":
        text = `union(${h.inputs.map((i) => this.inlinePipeline(i)).join(", ")})`;
        break;
    }
    return p.alias ? `${text} as ${this.name(p.alias)}` : text;
  }

  /** A pipeline inside another (a join side, a union input, a parenthesized head): one line. */
  private inlinePipeline(p: A.Pipeline): string {
    return [this.headText(p), ...p.stages.map((s) => this.stageText(s, 0))].join(" | ");
  }

  /** A stage as `| …` lines at `indent`; its item list breaks into one item per line when too long. */
  private stageLines(s: A.Stage, indent: string): void {
    const one = `${indent}| ${this.stageText(s, indent.length + 2)}`;
    const items = this.itemsOf(s);
    if (!items || (one.length <= WIDTH && !one.includes("\n") && !this.hasCommentIn(s.span))) {
      this.out.push(one);
      return;
    }
    this.out.push(`${indent}| ${items.keyword}`);
    const inner = indent + "    ";
    for (const it of items.list) {
      this.leading(it.span.start, inner);
      this.out.push(inner + it.text(inner.length) + ",");
      this.trailing(it.span.end);
    }
  }

  /** The comma-separated items of a list stage (select, extend, group by, agg). */
  private itemsOf(s: A.Stage): { keyword: string; list: { span: A.Span; text: (col: number) => string }[] } | undefined {
    const bound = (name: A.Ident | undefined, e: A.Expr) => (col: number) => (name ? `${this.name(name)} = ${this.expr(e, col + this.name(name).length + 3)}` : this.expr(e, col));
    switch (s.kind) {
      case "Select":
        return { keyword: "select", list: s.items.map((i) => ({ span: i.span, text: i.kind === "SelectStar" ? () => this.selectStar(i) : bound(i.name, i.expr) })) };
      case "Extend":
        return { keyword: "extend", list: s.items.map((i) => ({ span: i.span, text: bound(i.name, i.expr) })) };
      case "GroupBy":
        return { keyword: "group by", list: s.keys.map((i) => ({ span: i.span, text: bound(i.name, i.expr) })) };
      case "Agg":
        return { keyword: "agg", list: s.items.map((i) => ({ span: i.span, text: bound(i.name, i.expr) })) };
      default:
        return undefined;
    }
  }

  private selectStar(i: Extract<A.SelectItem, { kind: "SelectStar" }>): string {
    return i.alias ? `${this.name(i.alias)}.*` : "*";
  }

  private stageText(s: A.Stage, col: number): string {
    const items = this.itemsOf(s);
    if (items) {
      let text = items.keyword + " ";
      text += items.list.map((it, k) => it.text(col + text.length + (k > 0 ? 2 : 0))).join(", ");
      return text;
    }
    switch (s.kind) {
      case "Where":
        return `where ${this.expr(s.cond, col + 6)}`;
      case "Map":
        return `map ${this.expr(s.expr, col + 4)}`;
      case "Unnest":
        return `unnest ${this.expr(s.field, col + 7)}${s.as ? ` as ${this.name(s.as)}` : ""}`;
      case "Window":
        return `window ${this.name(s.fn)}(${s.args.map((a) => this.expr(a, 0)).join(", ")})`;
      case "Top":
        return `top ${this.expr(s.n, 0)} by ${this.expr(s.by, 0)}${s.desc ? " desc" : ""}${s.withTies ? " with ties" : ""}`;
      case "Distinct": {
        const values = s.values.map((v) => this.expr(v, 0)).join(", ");
        return `distinct${values ? " " + values : ""}${s.within ? ` within ${this.expr(s.within, 0)}` : ""}`;
      }
      case "Join": {
        const kind = s.joinKind === "inner" ? "" : `${s.joinKind} `;
        const side = s.side.kind === "NameSide" ? this.name(s.side.name) : `(${this.inlinePipeline(s.side.pipeline)})`;
        const within = s.within ? ` within ${s.within.lower ? `${this.expr(s.within.lower, 0)} .. ` : ""}${this.expr(s.within.upper, 0)}` : "";
        return `${kind}join ${side}${s.alias ? ` as ${this.name(s.alias)}` : ""} on ${this.expr(s.on, 0)}${within}`;
      }
      case "Lookup":
        return `lookup ${this.name(s.table)}${s.alias ? ` as ${this.name(s.alias)}` : ""} on ${this.expr(s.on, 0)}`;
      default:
        return "";
    }
  }

  // ---- types ---------------------------------------------------------------------------------------

  private type(t: A.TypeExpr, col: number, indent: string): string {
    switch (t.kind) {
      case "NamedType":
        return this.name(t.name);
      case "OptionalType":
        return `${this.type(t.inner, col, indent)}?`;
      case "ArrayType":
        return `[${this.type(t.element, col + 1, indent)}]`;
      case "RecordType": {
        if (t.fields.length === 0) return "{}";
        const one = `{ ${t.fields.map((f) => `${this.name(f.name)}: ${this.type(f.type, 0, indent)}`).join(", ")} }`;
        if (col + one.length <= WIDTH && !one.includes("\n") && !this.hasCommentIn(t.span)) return one;
        // One field per line; comments inside stay with the field they precede.
        const inner = indent + INDENT;
        const lines = ["{"];
        for (const f of t.fields) {
          for (const c of this.takeComments(f.name.span.start)) lines.push(inner + c);
          lines.push(`${inner}${this.name(f.name)}: ${this.type(f.type, inner.length + f.name.name.length + 2, inner)},`);
          const tc = this.takeTrailing(f.type.span.end);
          if (tc) lines[lines.length - 1] += " " + tc;
        }
        for (const c of this.takeComments(t.span.end - 1)) lines.push(inner + c);
        lines.push(indent + "}");
        return lines.join("\n");
      }
    }
  }

  /** Comments before `pos` as text (for constructs printed as a string, not line by line). */
  private takeComments(pos: number): string[] {
    const out: string[] = [];
    while (this.next < this.comments.length && this.comments[this.next]!.span.start < pos) out.push(this.comments[this.next++]!.text.trimEnd());
    return out;
  }

  private takeTrailing(end: number): string | undefined {
    const c = this.comments[this.next];
    const between = c ? this.src.slice(end, c.span.start) : "\n";
    if (!c || c.span.start < end || between.includes("\n") || between.replace(/,/g, "").trim() !== "" || c.text.includes("\n")) return undefined;
    this.next++;
    return c.text.trimEnd();
  }

  // ---- expressions ---------------------------------------------------------------------------------

  /** `e` printed at column `col` (only a long `if … else if …` chain spans several lines). */
  private expr(e: A.Expr, col: number, align = col): string {
    switch (e.kind) {
      case "Int":
      case "Float":
      case "Duration":
        // As written, with a folded minus sign pulled against its number.
        return this.text(e.span).replace(/^-\s+/, "-");
      case "String":
      case "Time":
        return this.text(e.span);
      case "Bool":
        return e.value ? "true" : "false";
      case "Null":
        return "null";
      case "Name":
        return this.name(e.name);
      case "Field":
        return `${this.operand(e.object, PREC.postfix, col)}.${this.name(e.name)}`;
      case "Index":
        return `${this.operand(e.object, PREC.postfix, col)}[${this.expr(e.index, 0)}]`;
      case "Call": {
        const args = e.args.map((a) => (a.name ? `${this.name(a.name)}: ${this.expr(a.value, 0)}` : this.expr(a.value, 0))).join(", ");
        const over = e.over ? ` over ${this.operand(e.over.size, PREC.unary, 0)}${e.over.rows ? " rows" : ""}` : "";
        return `${this.name(e.callee)}(${args})${over}`;
      }
      case "Unary":
        return e.op === "not" ? `not ${this.operand(e.operand, PREC.not, col + 4)}` : `-${this.operand(e.operand, PREC.unary, col + 1)}`;
      case "Binary": {
        const p = precOf(e);
        if (p === PREC.cmp) return `${this.operand(e.left, p + 1, col)} ${e.op} ${this.operand(e.right, p + 1, 0)}`;
        if (p === PREC.coalesce) return `${this.operand(e.left, p + 1, col)} ?? ${this.operand(e.right, p, 0)}`;
        return `${this.operand(e.left, p, col)} ${e.op} ${this.operand(e.right, p + 1, 0)}`;
      }
      case "In":
        return `${this.operand(e.value, PREC.cmp + 1, col)} ${e.negated ? "not in" : "in"} ${this.operand(e.list, PREC.cmp + 1, 0)}`;
      case "If": {
        const one = `if ${this.expr(e.cond, 0)} then ${this.expr(e.then, 0)} else ${this.expr(e.else, 0)}`;
        if (col + one.length <= WIDTH && !one.includes("\n")) return one;
        // A long chain: each `else` under the first `if` (an `else if` continues the chain).
        const rest = e.else.kind === "If" ? this.expr(e.else, align + 5, align) : this.expr(e.else, align + 5);
        return `if ${this.expr(e.cond, 0)} then ${this.expr(e.then, 0)}\n${" ".repeat(align)}else ${rest}`;
      }
      case "ArrayLit":
        return `[${e.elements.map((x) => this.expr(x, 0)).join(", ")}]`;
      case "RecordLit":
        return e.fields.length === 0 ? "{}" : `{ ${e.fields.map((f) => `${this.name(f.name)}: ${this.expr(f.value, 0)}`).join(", ")} }`;
    }
  }

  /** `e` as an operand that needs at least binding strength `min` (else parenthesized). */
  private operand(e: A.Expr, min: number, col: number): string {
    return precOf(e) >= min ? this.expr(e, col) : `(${this.expr(e, col + 1)})`;
  }
}
