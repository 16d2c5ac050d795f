import { describe, expect, it } from "vitest";
import * as J from "./ast";
import { printClass, printDecl, printExpr, printStmt, printStmts, type PrintOptions } from "./print";
import { fillTemplate, parseTemplate } from "./template";

const TS: PrintOptions = { types: true };
const JS: PrintOptions = { types: false };
const ts = (e: J.Expr) => printExpr(e, TS);
const js = (e: J.Expr) => printExpr(e, JS);
const stmt = (s: J.Stmt, o = TS) => printStmt(s, o, 0).join("\n");
const [a, b, c, r] = ["a", "b", "c", "r"].map(J.id) as [J.Expr, J.Expr, J.Expr, J.Expr];

describe("expressions", () => {
  it("prints names, literals and data", () => {
    expect(ts(a)).toBe("a");
    expect(ts(J.THIS)).toBe("this");
    expect(ts(J.num(1.5))).toBe("1.5");
    expect(ts(J.num(-2))).toBe("-2");
    expect(ts(J.num(-0))).toBe("-0");
    expect([J.num(NaN), J.num(Infinity), J.num(-Infinity)].map(ts)).toEqual(["NaN", "Infinity", "-Infinity"]);
    expect(ts(J.bool(true))).toBe("true");
    expect(ts(J.NULL)).toBe("null");
    expect(ts(J.UNDEFINED)).toBe("undefined");
    expect(ts(J.str('say "hi"\n'))).toBe('"say \\"hi\\"\\n"');
    expect(ts(J.json({ k: [1, "x"], n: null }))).toBe('{"k":[1,"x"],"n":null}');
    expect(ts(J.array([a, J.num(1)]))).toBe("[a, 1]");
    expect(ts(J.array([]))).toBe("[]");
  });

  it("prints members, indexes, calls and new", () => {
    expect(ts(J.member(r, "price"))).toBe("r.price");
    expect(ts(J.member(r, "unit price"))).toBe('r["unit price"]');
    expect(ts(J.member(r, "class"))).toBe("r.class");
    expect(ts(J.member(J.num(1), "toString"))).toBe("(1).toString");
    expect(ts(J.index(a, J.num(0)))).toBe("a[0]");
    expect(ts(J.call(J.thisMember("n1"), [r, J.id("t")]))).toBe("this.n1(r, t)");
    expect(ts(J.callMethod(a, "push", [b]))).toBe("a.push(b)");
    expect(ts(J.newExpr(J.id("Map"), [], ["Key, number"]))).toBe("new Map<Key, number>()");
    expect(js(J.newExpr(J.id("Map"), [], ["Key, number"]))).toBe("new Map()");
    expect(ts(J.call(J.id("f"), [J.spread(a)]))).toBe("f(...a)");
  });

  it("prints operators with the parentheses the grammar needs and no others", () => {
    expect(ts(J.binary("+", a, J.binary("*", b, c)))).toBe("a + b * c");
    expect(ts(J.binary("*", J.binary("+", a, b), c))).toBe("(a + b) * c");
    expect(ts(J.binary("-", a, J.binary("-", b, c)))).toBe("a - (b - c)");
    expect(ts(J.chain("+", [a, b, c]))).toBe("a + b + c");
    expect(ts(J.binary("??", J.binary("||", a, b), c))).toBe("(a || b) ?? c");
    expect(ts(J.binary("&&", J.binary("??", a, b), c))).toBe("(a ?? b) && c");
    expect(ts(J.paren(J.binary("+", a, b)))).toBe("(a + b)");
    expect(ts(J.not(J.binary("===", a, b)))).toBe("!(a === b)");
    expect(ts(J.unary("-", J.num(-1)))).toBe("-(-1)");
    expect(ts(J.unary("-", J.unary("-", a)))).toBe("-(-a)");
    expect(ts(J.unary("typeof", a))).toBe("typeof a");
    expect(ts(J.update("++", J.member(J.id("s"), "a0")))).toBe("s.a0++");
    expect(ts(J.cond(J.cond(a, b, c), b, J.cond(a, b, c)))).toBe("(a ? b : c) ? b : a ? b : c");
    expect(ts(J.assign(J.member(J.THIS, "x"), J.assign(a, b)))).toBe("this.x = a = b");
    expect(ts(J.assign(a, b, "+="))).toBe("a += b");
    expect(ts(J.member(J.binary("+", a, b), "length"))).toBe("(a + b).length");
  });

  it("prints types only in TypeScript", () => {
    expect(ts(J.nonNull(J.member(r, "p")))).toBe("r.p!");
    expect(ts(J.member(J.nonNull(J.member(r, "p")), "name"))).toBe("r.p!.name");
    expect(js(J.member(J.nonNull(J.member(r, "p")), "name"))).toBe("r.p.name");
    expect(ts(J.as(J.index(a, J.num(0)), "number"))).toBe("a[0] as number");
    expect(ts(J.member(J.as(a, "T"), "x"))).toBe("(a as T).x");
    expect(js(J.member(J.as(a, "T"), "x"))).toBe("a.x");
  });

  it("prints objects with own data keys, arrows and multi-line literals", () => {
    expect(ts(J.object([J.prop("a", J.num(1)), J.prop("odd key", b), J.prop("__proto__", c), { kind: "shorthand", name: "r" }, { kind: "spread", expr: a }]))).toBe('{ a: 1, "odd key": b, ["__proto__"]: c, r, ...a }');
    expect(ts(J.object([]))).toBe("{}");
    expect(ts(J.arrow([J.param("row"), J.param("t")], J.call(J.id("f"), [J.id("row")])))).toBe("(row, t) => f(row)");
    expect(ts(J.arrow([J.param("x", "number")], J.object([J.prop("x", J.id("x"))]), "P"))).toBe("(x: number): P => ({ x: x })");
    expect(js(J.arrow([J.param("x", "number")], [J.ret(J.id("x"))], "number"))).toBe("(x) => {\n  return x;\n}");
    expect(printExpr(J.object([J.prop("a", J.array([J.num(1)], true))], true), TS, 0)).toBe("{\n  a: [\n    1,\n  ],\n}");
  });

  it("builds a regular expression from its escaped source", () => {
    expect(ts(J.regex("a/b*/", "u"))).toBe('new RegExp("a/b*/", "u")');
    expect(() => ts(J.regex("(", ""))).toThrow();
  });
});

describe("program text cannot become code", () => {
  const hostile = ["*/ evil(); /*", "a\u2028b\u2029c", "`${process.exit()}`", '"); evil(); ("', "\\", "line\nbreak\r\nx"];

  it("string literals are escaped: each evaluates back to its text", () => {
    for (const text of hostile) {
      const printed = ts(J.str(text));
      expect(printed).not.toMatch(/[\n\r\u2028\u2029]/);
      expect(new Function(`return ${printed};`)()).toBe(text);
    }
  });

  it("comments cannot be ended by their text", () => {
    for (const text of hostile) {
      for (const s of [J.comment(text), J.docComment(text), J.trailing(J.ret(), text)]) {
        const printed = stmt(s);
        expect(printed.split("\n")).toHaveLength(1);
        expect(printed).not.toMatch(/[\u2028\u2029]/);
        // The whole line is still one comment (and a statement before it) when evaluated.
        expect(() => new Function(`${printed}\n`)).not.toThrow();
        expect(new Function(`${printed}\nreturn 1;`)()).toBe(s.kind === "trailing" ? undefined : 1);
      }
    }
    expect(printDecl({ kind: "comment", text: "*/ x", doc: true }, TS)).toBe("/** *\u2215 x */");
  });

  it("property names from data are quoted when they are not identifier names", () => {
    for (const text of hostile) expect(new Function("r", `return r${ts(J.member(J.id("r"), text)).slice(1)};`)({ [text]: 7 })).toBe(7);
    expect(new Function(`return ${ts(J.object([J.prop("__proto__", J.num(1))]))};`)()).toHaveProperty("__proto__", 1);
  });

  it("refuses names that are not identifiers", () => {
    for (const bad of ["a b", "1x", "class", "x;y", "", "this", "a-b", "é"]) {
      expect(() => ts(J.id(bad)), bad).toThrow(/not an identifier/);
      expect(() => stmt(J.constDecl(bad, J.num(1)))).toThrow(/not an identifier/);
    }
    expect(() => stmt(J.breakStmt("rec;x"))).toThrow(/not an identifier/);
    expect(() => printClass({ kind: "class", name: "A B", members: [] }, TS)).toThrow(/not an identifier/);
    expect(() => ts(J.object([{ kind: "shorthand", name: "if" }]))).toThrow(/not an identifier/);
  });
});

describe("statements", () => {
  it("prints declarations and simple statements", () => {
    expect(stmt(J.constDecl("k", J.num(0), "Key"))).toBe("const k: Key = 0;");
    expect(stmt(J.constDecl("k", J.num(0), "Key"), JS)).toBe("const k = 0;");
    expect(stmt(J.letDecl("s"))).toBe("let s;");
    expect(stmt(J.exprStmt(J.call(J.id("f"))))).toBe("f();");
    expect(stmt(J.exprStmt(J.assign(J.member(J.object([]), "x"), a)))).toBe("({}.x = a);");
    expect(stmt(J.ret())).toBe("return;");
    expect(stmt(J.ret(a))).toBe("return a;");
    expect(stmt(J.throwStmt(J.newExpr(J.id("Error"), [J.str("x")])))).toBe('throw new Error("x");');
    expect(stmt(J.breakStmt("rec"))).toBe("break rec;");
    expect(stmt(J.continueStmt())).toBe("continue;");
    expect(printStmt(J.BLANK, TS, 3)).toEqual([""]);
  });

  it("prints if / else, inline and multi-line blocks", () => {
    expect(stmt(J.ifStmt(a, J.ret()))).toBe("if (a) return;");
    expect(stmt(J.ifStmt(a, J.block([J.ret(b), J.ret(c)], true)))).toBe("if (a) { return b; return c; }");
    expect(stmt(J.ifStmt(a, J.block([J.ret(b)]), J.block([J.ret(c)])))).toBe("if (a) {\n  return b;\n} else {\n  return c;\n}");
    expect(stmt(J.ifStmt(a, J.block([J.ret(b)]), J.ifStmt(b, J.ret(c))))).toBe("if (a) {\n  return b;\n} else if (b) return c;");
    expect(stmt(J.ifStmt(a, J.block([], true), J.ret()))).toBe("if (a) {} else return;");
    expect(stmt(J.ifStmt(a, J.ret(b), J.ifStmt(b, J.ret(c))))).toBe("if (a) return b;\nelse if (b) return c;");
    expect(stmt(J.trailing(J.ifStmt(a, J.ret()), "why"))).toBe("if (a) return; // why");
  });

  it("prints loops, labels, switch and try", () => {
    const body = J.block([J.exprStmt(J.call(J.id("f"), [J.id("j")]))]);
    expect(stmt(J.forStmt(J.letDecl("j", J.num(0)), J.binary("<", J.id("j"), J.member(r, "length")), J.update("++", J.id("j")), body))).toBe("for (let j = 0; j < r.length; j++) {\n  f(j);\n}");
    expect(stmt(J.forStmt(undefined, J.binary("<", a, b), J.update("++", a), J.block([])))).toBe("for (; a < b; a++) {\n}");
    expect(stmt(J.forOf("const", "x", a, J.exprStmt(J.call(J.id("f"), [J.id("x")]))))).toBe("for (const x of a) f(x);");
    expect(stmt(J.whileStmt(a, J.breakStmt()))).toBe("while (a) break;");
    expect(stmt(J.labelled("rec", J.block([J.breakStmt("rec")])))).toBe("rec: {\n  break rec;\n}");
    const sw = J.switchStmt(J.id("source"), [
      { test: J.num(0), body: [J.ret(J.bool(true))] },
      { test: J.num(1), body: [J.letDecl("k", J.num(0)), J.ret(J.bool(true))], block: true },
      { test: J.num(2), body: [J.exprStmt(J.call(J.id("w"))), J.breakStmt()], inline: true },
    ]);
    expect(stmt(sw)).toBe("switch (source) {\n  case 0:\n    return true;\n  case 1: {\n    let k = 0;\n    return true;\n  }\n  case 2: w(); break;\n}");
    expect(stmt(J.tryStmt([J.ret(a)], "e", [J.ret(J.UNDEFINED)]))).toBe("try {\n  return a;\n} catch (e) {\n  return undefined;\n}");
    expect(printStmts([J.comment("x"), J.ret()], TS, 2)).toEqual(["    // x", "    return;"]);
  });

  it("refuses to squeeze a multi-line statement onto one line", () => {
    expect(() => stmt(J.block([J.block([J.ret()])], true))).toThrow(/one line/);
  });
});

describe("classes and modules", () => {
  const cls: J.Decl = {
    kind: "class",
    name: "Agg1",
    doc: "an agg",
    implements: "AggSpec<R, S, O>",
    members: [
      { kind: "field", name: "keyless", modifiers: "readonly", init: J.bool(true) },
      { kind: "field", name: "op", modifiers: "private readonly", type: "Op" },
      { kind: "ctor", params: [J.param("failed", "(e: unknown) => void", "private readonly")], body: [], inline: true },
      { kind: "method", name: "key", params: [J.param("r", "R")], ret: "Key", body: [J.ret(J.num(0))], doc: "the key" },
    ],
  };

  it("prints TypeScript with types and modifiers", () => {
    expect(printDecl(cls, TS)).toBe(
      "/** an agg */\nclass Agg1 implements AggSpec<R, S, O> {\n  readonly keyless = true;\n  private readonly op: Op;\n  constructor(private readonly failed: (e: unknown) => void) {}\n  /** the key */\n  key(r: R): Key {\n    return 0;\n  }\n}",
    );
  });

  it("prints JavaScript from the same tree: no types, parameter properties assigned", () => {
    const out = printDecl(cls, JS)!;
    expect(out).toBe("/** an agg */\nclass Agg1 {\n  keyless = true;\n  constructor(failed) { this.failed = failed; }\n  /** the key */\n  key(r) {\n    return 0;\n  }\n}");
    const Agg1 = new Function(`${out}\nreturn Agg1;`)() as new (f: () => void) => { failed: () => void; key(r: unknown): number };
    const f = () => {};
    expect(new Agg1(f).failed).toBe(f);
  });

  it("prints imports, interfaces, functions and constants", () => {
    const imp: J.Decl = { kind: "import", names: [{ name: "runProgram" }, { name: "Program", typeOnly: true }], from: "@flowc/runtime" };
    expect(printDecl(imp, TS)).toBe('import { runProgram, type Program } from "@flowc/runtime";');
    expect(printDecl(imp, JS)).toBe('import { runProgram } from "@flowc/runtime";');
    expect(printDecl({ kind: "import", names: [{ name: "T", typeOnly: true }], from: "x" }, JS)).toBeUndefined();
    const itf: J.Decl = { kind: "interface", name: "Bid", exported: true, members: [{ key: "price", type: "number" }, { key: "odd key", type: "string" }], doc: "bids" };
    expect(printDecl(itf, TS)).toBe('/** bids */\nexport interface Bid {\n  price: number;\n  "odd key": string;\n}');
    expect(printDecl(itf, JS)).toBeUndefined();
    const fn: J.Decl = { kind: "function", name: "run", exported: true, params: [J.param("options", "RunOptions", undefined, J.object([]))], body: [J.ret(J.call(J.id("go"), [J.id("options")]))] };
    expect(printDecl(fn, TS)).toBe("export function run(options: RunOptions = {}) {\n  return go(options);\n}");
    expect(printDecl(fn, JS)).toBe("export function run(options = {}) {\n  return go(options);\n}");
    expect(printDecl({ kind: "const", name: "SCHEMA_1", type: "Schema", init: J.object([J.prop("kind", J.str("int"))]) }, TS)).toBe('const SCHEMA_1: Schema = { kind: "int" };');
  });
});

describe("built-in templates", () => {
  it("parses the catalog's templates into trees and fills their holes", () => {
    const fill = (t: string, ...args: J.Expr[]) => ts(fillTemplate(parseTemplate(t), (i, bare) => (bare ? args[i]! : J.paren(args[i]!))));
    expect(fill("Math.abs($0)", a)).toBe("Math.abs(a)");
    expect(fill("$0.length", a)).toBe("(a).length");
    expect(fill("$0.includes($1)", a, b)).toBe("(a).includes(b)");
    expect(fill("($0 ? 1 : 0)", a)).toBe("((a) ? 1 : 0)");
    expect(fill("Math.max($0, $1)", a, b)).toBe("Math.max(a, b)");
    expect(fill('"null"')).toBe('"null"');
    expect(() => parseTemplate("$0; evil()")).toThrow(/template grammar/);
    expect(() => parseTemplate("$0 + $1")).toThrow(/template grammar/);
  });
});
