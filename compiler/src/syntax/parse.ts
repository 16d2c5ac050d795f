// The parser: ohm-js matches the grammar (built from a precompiled recipe), one semantics
// operation builds our AST, and syntax errors are translated into the user's terms.
// This is the only module that imports ohm.
import * as ohm from "ohm-js";
import type * as A from "./ast";
import { flowRecipe } from "./flow.recipe";
import { durationMs, isoToMs, unescapeString } from "./literals";
import { diag, type Diagnostic } from "../diagnostics/catalogue";
import { closest } from "../diagnostics/suggest";
import { STAGE_KEYWORDS, STAGE_LIST } from "./stages";

// `makeRecipe` is part of ohm's public API but missing from its type declarations.
const makeRecipe = (ohm as unknown as { makeRecipe(recipe: unknown): ohm.Grammar }).makeRecipe;

let grammarCache: ohm.Grammar | undefined;
export function flowGrammar(): ohm.Grammar {
  return (grammarCache ??= makeRecipe(JSON.parse(flowRecipe)));
}

export interface ParseResult {
  program: A.Program;
  diagnostics: Diagnostic[];
  /** Names declared by declarations that failed to parse: the checker stays quiet about them. */
  poisoned: Set<string>;
}

export { STAGE_KEYWORDS } from "./stages";
const DECL_KEYWORDS = ["type", "source", "table", "let", "emit", "fn", "import", "test"];
const EXPR_KEYWORDS = ["and", "or", "not", "if", "then", "else", "in", "true", "false", "null"];
/** Bracket nesting beyond this is refused up front: ohm (and any recursive walk) would overflow the stack. */
const MAX_NESTING = 150;

// ---- AST construction -------------------------------------------------------------------------

let pending: Diagnostic[] = [];

function span(node: ohm.Node): A.Span {
  return { start: node.source.startIdx, end: node.source.endIdx };
}
const opt = <T>(node: ohm.Node): T | undefined => (node.numChildren > 0 ? (node.children[0]!.ast() as T) : undefined);
const list = <T>(node: ohm.Node): T[] => node.asIteration().children.map((c: ohm.Node) => c.ast() as T);
const ident = (node: ohm.Node): A.Ident => node.ast() as A.Ident;

function binary(op: A.BinaryOp, l: ohm.Node, opNode: ohm.Node, r: ohm.Node, self: ohm.Node): A.Expr {
  return { kind: "Binary", op, left: l.ast(), right: r.ast(), opSpan: span(opNode), span: span(self) };
}

/** `a op b op c` parsed as an iteration → left-associated Binary nodes. */
function foldLeft(first: ohm.Node, ops: A.BinaryOp[], rest: ohm.Node[], opNodes?: ohm.Node[]): A.Expr {
  let e = first.ast() as A.Expr;
  const start = first.source.startIdx;
  rest.forEach((r, i) => {
    const right = r.ast() as A.Expr;
    const opSpan = opNodes?.[i] ? span(opNodes[i]!) : { start: e.span.end, end: right.span.start };
    e = { kind: "Binary", op: ops[i]!, left: e, right, opSpan, span: { start, end: r.source.endIdx } };
  });
  return e;
}

let semanticsCache: ohm.Semantics | undefined;
function semantics(): ohm.Semantics {
  if (semanticsCache) return semanticsCache;
  const s = flowGrammar().createSemantics();
  s.addOperation<unknown>("ast", {
    Program(decls) {
      return { kind: "Program", decls: decls.children.map((d) => d.ast()), comments: [], span: span(this) } satisfies A.Program;
    },
    Decl(d) {
      return d.ast();
    },
    TypeDecl(_kw, name, _eq, type) {
      return { kind: "TypeDecl", name: ident(name), type: type.ast(), span: span(this) } satisfies A.TypeDecl;
    },
    SourceDecl(_kw, name, _c, type, _eq, call, key, eventTime) {
      const et = opt<{ time: A.Expr; watermark?: A.Expr; idle?: A.Expr }>(eventTime);
      const keys = opt<A.Ident[]>(key);
      return { kind: "SourceDecl", name: ident(name), type: type.ast(), connector: call.ast(), ...(keys && { key: keys }), eventTime: et?.time, watermark: et?.watermark, ...(et?.idle && { idle: et.idle }), span: span(this) } satisfies A.SourceDecl;
    },
    SourceKey(_kw, names) {
      return names.asIteration().children.map((n) => ident(n));
    },
    EventTime(_e, _t, time, watermark, idle) {
      return { time: time.ast(), watermark: opt<A.Expr>(watermark), idle: opt<A.Expr>(idle) };
    },
    Watermark(_kw, e) {
      return e.ast();
    },
    Idle(_kw, e) {
      return e.ast();
    },
    TableDecl(_kw, name, _c, type, _eq, call, _key, key) {
      return { kind: "TableDecl", name: ident(name), type: type.ast(), connector: call.ast(), key: ident(key), span: span(this) } satisfies A.TableDecl;
    },
    LetDecl(_kw, name, _eq, pipeline) {
      return { kind: "LetDecl", name: ident(name), pipeline: pipeline.ast(), span: span(this) } satisfies A.LetDecl;
    },
    EmitDecl(_kw, final, name, pipeline, sink) {
      return { kind: "EmitDecl", final: final.numChildren > 0, name: opt<A.Ident>(name), pipeline: pipeline.ast(), sink: opt<A.Call>(sink), span: span(this) } satisfies A.EmitDecl;
    },
    EmitName(name, _eq) {
      return ident(name);
    },
    Sink(_arrow, call) {
      return call.ast();
    },
    FnDecl(_kw, name, _lp, params, _rp, ret, _eq, body) {
      return { kind: "FnDecl", name: ident(name), params: list<A.Param>(params), returnType: opt<A.TypeExpr>(ret), body: body.ast(), span: span(this) } satisfies A.FnDecl;
    },
    TestDecl(_kw, name, _lb, items, _rb) {
      return { kind: "TestDecl", name: name.ast(), items: items.children.map((i) => i.ast()), span: span(this) } satisfies A.TestDecl;
    },
    TestItem(item) {
      return item.ast();
    },
    TestInput(_kw, target, _eq, value) {
      return { kind: "TestInput", target: ident(target), value: value.ast(), span: span(this) } satisfies A.TestItem;
    },
    TestExpect(_kw, target, mode, _eq, value) {
      const m = mode.numChildren > 0 ? (mode.sourceString.trim() as A.ExpectMode) : undefined;
      return { kind: "TestExpect", target: ident(target), ...(m && { mode: m }), value: value.ast(), span: span(this) } satisfies A.TestItem;
    },
    ExpectMode(_kw) {
      return this.sourceString;
    },
    Param(name, _c, type) {
      return { name: ident(name), type: type.ast(), span: span(this) } satisfies A.Param;
    },
    ReturnType(_c, type) {
      return type.ast();
    },
    ImportDecl(_kw, _lb, names, _rb, _from, from) {
      return { kind: "ImportDecl", names: list<A.Ident>(names), from: from.ast(), span: span(this) } satisfies A.ImportDecl;
    },
    Type_optional(inner, _q) {
      return { kind: "OptionalType", inner: inner.ast(), span: span(this) } satisfies A.TypeExpr;
    },
    Type_array(_lb, element, _rb) {
      return { kind: "ArrayType", element: element.ast(), span: span(this) } satisfies A.TypeExpr;
    },
    Type_record(_lb, fields, _comma, _rb) {
      return { kind: "RecordType", fields: list<{ name: A.Ident; type: A.TypeExpr }>(fields), span: span(this) } satisfies A.TypeExpr;
    },
    Type_named(name) {
      return { kind: "NamedType", name: ident(name), span: span(this) } satisfies A.TypeExpr;
    },
    TypeField(name, _c, type) {
      return { name: ident(name), type: type.ast() };
    },

    Pipeline(head, alias, stages) {
      return { kind: "Pipeline", head: head.ast(), alias: opt<A.Ident>(alias), stages: stages.ast(), span: span(this) } satisfies A.Pipeline;
    },
    Stages(_bars, stages) {
      return stages.children.map((s) => s.ast());
    },
    Head_union(_kw, _lp, inputs, _rp) {
      return { kind: "UnionHead", inputs: list<A.Pipeline>(inputs), span: span(this) } satisfies A.Head;
    },
    Head_paren(_lp, p, _rp) {
      return { kind: "ParenHead", pipeline: p.ast(), span: span(this) } satisfies A.Head;
    },
    Head_name(name) {
      return { kind: "NameHead", name: ident(name), span: span(this) } satisfies A.Head;
    },
    Alias(_kw, name) {
      return ident(name);
    },
    Stage_where(_kw, e) {
      return { kind: "Where", cond: e.ast(), span: span(this) } satisfies A.Stage;
    },
    Stage_select(_kw, items, _c) {
      return { kind: "Select", items: list<A.SelectItem>(items), span: span(this) } satisfies A.Stage;
    },
    Stage_extend(_kw, items, _c) {
      return { kind: "Extend", items: list<A.Binding>(items), span: span(this) } satisfies A.Stage;
    },
    Stage_map(_kw, e) {
      return { kind: "Map", expr: e.ast(), span: span(this) } satisfies A.Stage;
    },
    Stage_unnest(_kw, e, alias) {
      return { kind: "Unnest", field: e.ast(), as: opt<A.Ident>(alias), span: span(this) } satisfies A.Stage;
    },
    Stage_window(_kw, fn, _lp, args, _rp) {
      return { kind: "Window", fn: ident(fn), args: list<A.Expr>(args), span: span(this) } satisfies A.Stage;
    },
    Stage_groupBy(_g, _b, keys, _c) {
      const ks = list<A.Binding | A.Expr>(keys).map((k) => ("name" in k && "expr" in k && !("kind" in k) ? { name: k.name, expr: k.expr, span: k.span } : { expr: k as A.Expr, span: (k as A.Expr).span }));
      return { kind: "GroupBy", keys: ks, span: span(this) } satisfies A.Stage;
    },
    Stage_agg(_kw, items, _c) {
      const is = list<A.Binding | A.Expr>(items).map((k) => ("name" in k && "expr" in k && !("kind" in k) ? { name: k.name, expr: k.expr, span: k.span } : { expr: k as A.Expr, span: (k as A.Expr).span }));
      return { kind: "Agg", items: is, span: span(this) } satisfies A.Stage;
    },
    Stage_top(_kw, n, _by, by, dir, ties) {
      return { kind: "Top", n: n.ast(), by: by.ast(), desc: dir.sourceString.trim() === "desc", withTies: ties.numChildren > 0, span: span(this) } satisfies A.Stage;
    },
    Stage_distinct(_kw, values, within) {
      const w = opt<A.WithinBounds>(within);
      return { kind: "Distinct", values: list<A.Expr>(values), within: w?.upper, span: span(this) } satisfies A.Stage;
    },
    Stage_join(kind, _kw, side, alias, _on, on, within) {
      const joinKind = (kind.children[0]?.sourceString ?? "inner") as A.JoinKind;
      return { kind: "Join", joinKind, side: side.ast(), alias: opt<A.Ident>(alias), on: on.ast(), within: opt<A.WithinBounds>(within), span: span(this) } satisfies A.Stage;
    },
    Stage_lookup(_kw, table, alias, _on, on) {
      return { kind: "Lookup", table: ident(table), alias: opt<A.Ident>(alias), on: on.ast(), span: span(this) } satisfies A.Stage;
    },
    SelectItem_aliasStar(alias, _dot, _star) {
      return { kind: "SelectStar", alias: ident(alias), span: span(this) } satisfies A.SelectItem;
    },
    SelectItem_star(_star) {
      return { kind: "SelectStar", span: span(this) } satisfies A.SelectItem;
    },
    SelectItem_expr(e) {
      return { kind: "SelectExpr", expr: e.ast(), span: span(this) } satisfies A.SelectItem;
    },
    SelectItem(item) {
      const v = item.ast() as A.SelectItem | A.Binding;
      return "kind" in v ? v : ({ kind: "SelectExpr", name: v.name, expr: v.expr, span: v.span } satisfies A.SelectItem);
    },
    Binding(name, _eq, e) {
      return { name: ident(name), expr: e.ast(), span: span(this) } satisfies A.Binding;
    },
    DistinctValue(e) {
      return e.ast();
    },
    NoDecl(item) {
      return item.ast();
    },
    Within_range(_kw, lo, _dots, hi) {
      return { lower: lo.ast(), upper: hi.ast(), span: span(this) } satisfies A.WithinBounds;
    },
    Within_symmetric(_kw, d) {
      return { upper: d.ast(), span: span(this) } satisfies A.WithinBounds;
    },
    JoinSide_paren(_lp, p, _rp) {
      return { kind: "PipelineSide", pipeline: p.ast(), span: span(this) } satisfies A.JoinSide;
    },
    JoinSide_name(name) {
      return { kind: "NameSide", name: ident(name), span: span(this) } satisfies A.JoinSide;
    },

    Expr_if(_if, c, _then, t, _else, e) {
      return { kind: "If", cond: c.ast(), then: t.ast(), else: e.ast(), span: span(this) } satisfies A.Expr;
    },
    OrExpr(first, _ops, rest) {
      return foldLeft(first, rest.children.map(() => "or" as const), rest.children, _ops.children);
    },
    AndExpr(first, _ops, rest) {
      return foldLeft(first, rest.children.map(() => "and" as const), rest.children, _ops.children);
    },
    NotExpr_not(_kw, e) {
      return { kind: "Unary", op: "not", operand: e.ast(), span: span(this) } satisfies A.Expr;
    },
    CmpExpr_notIn(v, _not, _in, l) {
      return { kind: "In", value: v.ast(), list: l.ast(), negated: true, span: span(this) } satisfies A.Expr;
    },
    CmpExpr_in(v, _in, l) {
      return { kind: "In", value: v.ast(), list: l.ast(), negated: false, span: span(this) } satisfies A.Expr;
    },
    CmpExpr_cmp(l, op, r) {
      return binary(op.sourceString as A.BinaryOp, l, op, r, this);
    },
    CoalExpr_coalesce(l, op, r) {
      return binary("??", l, op, r, this);
    },
    AddExpr(first, ops, rest) {
      return foldLeft(first, ops.children.map((o) => o.sourceString as A.BinaryOp), rest.children, ops.children);
    },
    MulExpr(first, ops, rest) {
      return foldLeft(first, ops.children.map((o) => o.sourceString as A.BinaryOp), rest.children, ops.children);
    },
    UnaryExpr_neg(_m, e) {
      const inner = e.ast() as A.Expr;
      // Fold `-5`, `-30s` into literals: bounds and constants read them directly.
      if (inner.kind === "Int" || inner.kind === "Float") return { ...inner, value: -inner.value, span: span(this) };
      if (inner.kind === "Duration") return { ...inner, ms: -inner.ms, span: span(this) };
      return { kind: "Unary", op: "-", operand: inner, span: span(this) } satisfies A.Expr;
    },
    PostfixExpr(base, ops) {
      // Postfix operators fold left: a.b[0].c — each node spans from the base to its own end.
      let e = base.ast() as A.Expr;
      const start = base.source.startIdx;
      for (const op of ops.children) {
        const end = op.source.endIdx;
        const alt = op.children[0]!;
        if (alt.ctorName === "PostfixOp_field") e = { kind: "Field", object: e, name: ident(alt.children[1]!), span: { start, end } };
        else e = { kind: "Index", object: e, index: alt.children[1]!.ast(), span: { start, end } };
      }
      return e;
    },
    PostfixBase_call(callee, _lp, args, _rp, over) {
      const o = opt<A.Over>(over);
      return { kind: "Call", callee: ident(callee), args: list<A.Arg>(args), ...(o ? { over: o } : {}), span: span(this) } satisfies A.Expr;
    },
    Over_rows(_kw, size, _rows) {
      return { rows: true, size: size.ast(), span: span(this) } satisfies A.Over;
    },
    Over_range(_kw, size) {
      return { rows: false, size: size.ast(), span: span(this) } satisfies A.Over;
    },
    Call(callee, _lp, args, _rp) {
      return { kind: "Call", callee: ident(callee), args: list<A.Arg>(args), span: span(this) } satisfies A.Expr;
    },
    Arg_named(name, _c, e) {
      return { name: ident(name), value: e.ast(), span: span(this) } satisfies A.Arg;
    },
    Arg_positional(e) {
      return { value: e.ast(), span: span(this) } satisfies A.Arg;
    },
    Primary_paren(_lp, e, _rp) {
      return e.ast();
    },
    Primary_array(_lb, elems, _c, _rb) {
      return { kind: "ArrayLit", elements: list<A.Expr>(elems), span: span(this) } satisfies A.Expr;
    },
    Primary_record(_lb, fields, _c, _rb) {
      return { kind: "RecordLit", fields: list<{ name: A.Ident; value: A.Expr }>(fields), span: span(this) } satisfies A.Expr;
    },
    Primary_true(_) {
      return { kind: "Bool", value: true, span: span(this) } satisfies A.Expr;
    },
    Primary_false(_) {
      return { kind: "Bool", value: false, span: span(this) } satisfies A.Expr;
    },
    Primary_null(_) {
      return { kind: "Null", span: span(this) } satisfies A.Expr;
    },
    Primary_name(name) {
      return { kind: "Name", name: ident(name), span: span(this) } satisfies A.Expr;
    },
    RecordField(name, _c, e) {
      return { name: ident(name), value: e.ast() };
    },
    durationLit(_d, _u) {
      return { kind: "Duration", ms: durationMs(this.sourceString), span: span(this) } satisfies A.Expr;
    },
    timeLit(_at, _chars) {
      const text = this.sourceString.slice(1);
      const ms = isoToMs(text);
      if (ms === undefined) pending.push(diag("E0009", { literal: this.sourceString }, span(this), { hint: "write an ISO-8601 instant such as `@2026-01-01T00:00:00Z`" }));
      return { kind: "Time", ms: ms ?? 0, text, span: span(this) } satisfies A.Expr;
    },
    number_float(_i, _dot, _f, _e) {
      return { kind: "Float", value: Number(this.sourceString.replace(/_/g, "")), span: span(this) } satisfies A.Expr;
    },
    number_exp(_i, _e) {
      const value = Number(this.sourceString.replace(/_/g, ""));
      return Number.isSafeInteger(value) ? ({ kind: "Int", value, span: span(this) } satisfies A.Expr) : ({ kind: "Float", value, span: span(this) } satisfies A.Expr);
    },
    number_int(_d) {
      const value = Number(this.sourceString.replace(/_/g, ""));
      if (!Number.isSafeInteger(value)) pending.push(diag("E0008", { literal: this.sourceString }, span(this), { hint: "integers are JavaScript safe integers (|n| ≤ 2^53 − 1); write a float such as `1.0e20` instead" }));
      return { kind: "Int", value, span: span(this) } satisfies A.Expr;
    },
    string(_lq, _chars, _rq) {
      const body = this.sourceString.slice(1, -1);
      const r = unescapeString(body);
      if ("badEscape" in r) {
        const at = this.source.startIdx + 1 + r.at;
        pending.push(diag("E0007", { escape: r.badEscape }, { start: at, end: at + r.badEscape.length }, { hint: "the escapes are \\n \\t \\r \\\" \\\\ and \\u{…}" }));
        return { kind: "String", value: body, span: span(this) } satisfies A.StringLit;
      }
      return { kind: "String", value: r.value, span: span(this) } satisfies A.StringLit;
    },
    ident_plain(_s, _r) {
      return { kind: "Ident", name: this.sourceString, span: span(this) } satisfies A.Ident;
    },
    ident_quoted(_l, _chars, _r) {
      return { kind: "Ident", name: this.sourceString.slice(1, -1), span: span(this) } satisfies A.Ident;
    },
    NonemptyListOf(first, _seps, rest) {
      return [first.ast(), ...rest.children.map((c) => c.ast())];
    },
    EmptyListOf() {
      return [];
    },
    _iter(...children) {
      return children.map((c) => c.ast());
    },
    _terminal() {
      return this.sourceString;
    },
  });
  return (semanticsCache = s);
}

// ---- comments ---------------------------------------------------------------------------------

/** Comments are kept (for a formatter) by a small scan that knows about strings and backticks. */
export function collectComments(src: string): A.Comment[] {
  const out: A.Comment[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "`") {
      const close = c;
      i++;
      while (i < src.length && src[i] !== close && src[i] !== "\n") i += src[i] === "\\" && close === '"' ? 2 : 1;
    } else if (c === "/" && src[i + 1] === "/") {
      const e = src.indexOf("\n", i);
      const end = e < 0 ? src.length : e;
      out.push({ text: src.slice(i, end), span: { start: i, end } });
      i = end;
    } else if (c === "/" && src[i + 1] === "*") {
      const e = src.indexOf("*/", i + 2);
      const end = e < 0 ? src.length : e + 2;
      out.push({ text: src.slice(i, end), span: { start: i, end } });
      i = end - 1;
    }
  }
  return out;
}

// ---- syntax errors in the user's terms ----------------------------------------------------------

interface Token {
  text: string;
  start: number;
  end: number;
}

/** The token that ends right before `pos` (skipping spaces and comments). */
function previousToken(src: string, pos: number): Token | undefined {
  const comments = collectComments(src.slice(0, pos));
  let i = pos - 1;
  for (;;) {
    while (i >= 0 && /\s/.test(src[i]!)) i--;
    const inComment = comments.find((c) => c.span.start <= i && i < c.span.end);
    if (!inComment) break;
    i = inComment.span.start - 1;
  }
  if (i < 0) return undefined;
  const end = i + 1;
  if (/[A-Za-z0-9_]/.test(src[i]!)) {
    while (i > 0 && /[A-Za-z0-9_]/.test(src[i - 1]!)) i--;
    return { text: src.slice(i, end), start: i, end };
  }
  const two = src.slice(Math.max(0, i - 1), end);
  if (["==", "!=", "<=", ">=", "??", "->", ".."].includes(two)) return { text: two, start: i - 1, end };
  return { text: src[i]!, start: i, end };
}

function tokenAt(src: string, pos: number): Token {
  const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9][A-Za-z0-9_.]*|==|!=|<=|>=|\?\?|->|\.\.|"[^"\n]*"?|\S)/.exec(src.slice(pos));
  const text = m ? m[0] : "";
  return { text, start: pos, end: pos + Math.max(text.length, 1) };
}

/** Finds a string literal that is not closed on its line. */
function unterminatedString(src: string): number | undefined {
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "/" && src[i + 1] === "/") {
      const e = src.indexOf("\n", i);
      i = e < 0 ? src.length : e;
    } else if (c === "/" && src[i + 1] === "*") {
      const e = src.indexOf("*/", i + 2);
      i = e < 0 ? src.length : e + 1;
    } else if (c === "`") {
      const e = src.slice(i + 1).search(/[`\n]/);
      i = e < 0 ? src.length : i + 1 + e;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"' && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      if (j >= src.length || src[j] !== '"') return i;
      i = j;
    }
  }
  return undefined;
}

const OPERATOR_TOKENS = new Set([">", "<", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "??", "and", "or", "not", "if", "then", "else", "in", "where", "map", "=", ",", "(", "[", "by", "on", "within", "..", "watermark", ":"]);

/**
 * What the parser expected, in the user's terms: literal tokens in backticks and the grammar's
 * descriptions ("a name"); negated expectations ("not an identRest", a keyword's boundary) and
 * names of grammar rules never show.
 */
function describeExpected(m: ohm.FailedMatchResult): string {
  const texts: string[] = [];
  for (const f of failuresOf(m)) {
    if (f.isFluffy() || isNegated(f)) continue;
    const text = f.getType() === "string" ? `\`${f.getText()}\`` : f.getText();
    if (f.getType() !== "string" && /^an? [a-z]+[A-Z]\w*$/.test(text)) continue;
    if (!texts.includes(text)) texts.push(text);
  }
  if (texts.length <= 1) return texts[0] ?? "something else";
  return `${texts.slice(0, -1).join(", ")}, or ${texts.at(-1)}`;
}

/** ohm's failure records (its typings leave them out). */
interface OhmFailure {
  getType(): string;
  getText(): string;
  isFluffy(): boolean;
}
const failuresOf = (m: ohm.FailedMatchResult) => (m as unknown as { getRightmostFailures(): OhmFailure[] }).getRightmostFailures();

/** A failure of a negative lookahead (`~identRest` at a keyword's end): "not …". */
const isNegated = (f: { getType(): string; getText(): string }) => f.getType() === "description" && f.getText().startsWith("not ");

/**
 * Habits from SQL and JavaScript that are not Flow, each with the fix (checked before the
 * generic messages).
 */
function habitDiagnostic(src: string, pos: number, here: Token, prev: Token | undefined, at: (t: Token) => { start: number; end: number }, offset: number): Diagnostic | undefined {
  const two = src.slice(pos, pos + 2);
  if (two === "&&" || (src[pos] === "&" && src[pos - 1] === "&")) {
    const start = two === "&&" ? pos : pos - 1;
    return diag("E0012", { op: "&&", word: "and" }, { start: start + offset, end: start + 2 + offset }, { label: "write `and`" });
  }
  if (two === "||" || (src[pos] === "|" && src[pos - 1] === "|")) {
    const start = two === "||" ? pos : pos - 1;
    return diag("E0012", { op: "||", word: "or" }, { start: start + offset, end: start + 2 + offset }, { label: "write `or`" });
  }
  if (src[pos] === "'") {
    const close = src.indexOf("'", pos + 1);
    const line = src.indexOf("\n", pos);
    const end = close >= 0 && (line < 0 || close < line) ? close + 1 : pos + 1;
    const inner = src.slice(pos + 1, end - 1);
    return diag("E0013", {}, { start: pos + offset, end: end + offset }, { label: end > pos + 1 ? `write ${JSON.stringify(inner)}` : "strings use double quotes", hint: 'strings are written in double quotes: "text"' });
  }
  if (here.text === "*" && prev?.text === "(" && src.slice(pos + 1).trimStart().startsWith(")")) {
    const name = previousToken(src, prev.start);
    return diag("E0014", { name: name?.text ?? "count" }, at(here), { label: "leave the parentheses empty", hint: `\`${name?.text ?? "count"}()\` counts every record; \`count(e)\` counts the non-null values of e` });
  }
  if (here.text === "=") {
    const decl = /\b(source|table)\s+([A-Za-z_][A-Za-z0-9_]*|`[^`\n]*`)\s*$/.exec(src.slice(0, pos));
    if (decl) return diag("E0015", { what: decl[1]!, name: decl[2]! }, at(here), { label: "expected `:` and a type before `=`", hint: `write \`${decl[1]} ${decl[2]}: Type = …\` with a declared \`type Type = { … }\` or a scalar type such as string` });
  }
  return undefined;
}

/** A keyword run into the next word (`andx`, `descx`): the grammar fails inside the word. */
function keywordRunOn(src: string, pos: number, offset: number): Diagnostic | undefined {
  if (!/[A-Za-z0-9_]/.test(src[pos] ?? "") || !/[A-Za-z0-9_]/.test(src[pos - 1] ?? "")) return undefined;
  let start = pos;
  while (start > 0 && /[A-Za-z0-9_]/.test(src[start - 1]!)) start--;
  let end = pos;
  while (end < src.length && /[A-Za-z0-9_]/.test(src[end]!)) end++;
  const word = src.slice(start, end);
  return diag("E0001", { text: `unexpected \`${word}\`` }, { start: start + offset, end: end + offset }, { label: `did you mean \`${src.slice(start, pos)} ${src.slice(pos, end)}\`?` });
}

export function syntaxDiagnostic(src: string, result: ohm.MatchResult, offset = 0): Diagnostic {
  const m = result as ohm.FailedMatchResult;
  const pos = m.getRightmostFailurePosition();
  const here = tokenAt(src, pos);
  const prev = previousToken(src, pos);
  const at = (t: Token) => ({ start: t.start + offset, end: t.end + offset });
  const habit = habitDiagnostic(src, pos, here, prev, at, offset);
  if (habit) return habit;
  if (failuresOf(m).every((f) => f.isFluffy() || isNegated(f))) {
    const runOn = keywordRunOn(src, pos, offset);
    if (runOn) return runOn;
  }
  const expected = describeExpected(m);
  const expectsExpr = /a name|a number|`\(`/.test(expected);

  if (here.text === "=" && prev && !["type", "let"].includes(prev.text)) {
    return diag("E0004", {}, at(here), { label: "use `==` here", hint: "write `==` to compare two values" });
  }
  if (prev?.text === "|" && /^[A-Za-z_]/.test(here.text) && !STAGE_KEYWORDS.includes(here.text)) {
    // Compared with `group` (not `group by`), so that `grop` suggests `group by` rather than `top`.
    const near = closest(here.text, STAGE_KEYWORDS);
    const guess = near === "group" ? "group by" : near;
    return diag("E0003", { word: here.text }, at(here), {
      label: guess ? `did you mean \`${guess}\`?` : "not a stage",
      hint: `the stages are ${STAGE_LIST}`,
    });
  }
  if (STAGE_KEYWORDS.includes(here.text) && prev && prev.text !== "|" && !(here.text === "map" && prev.text === "|")) {
    return diag("E0005", { stage: here.text }, at(here), { label: "expected `|` before this stage", hint: `write \`| ${here.text} …\`` });
  }
  if (EXPR_KEYWORDS.includes(here.text) && /a name/.test(expected) && !expectsExprKeyword(here.text, prev)) {
    return diag("E0006", { word: here.text }, at(here), { hint: "to use a keyword as a name, write it in backticks" });
  }
  if (prev && OPERATOR_TOKENS.has(prev.text) && expectsExpr) {
    const label = here.text === "" ? "the file ends here" : `found \`${here.text}\``;
    return diag("E0011", { expected: "an expression", after: prev.text }, here.text === "" ? { start: pos + offset, end: pos + offset } : at(here), { label });
  }
  // `over 3 row`, `over 5 minutes`: a word where `rows` (or nothing) may follow the size.
  if (prev && /`rows`/.test(expected) && /^[A-Za-z_]/.test(here.text) && /^[0-9]/.test(prev.text)) {
    return diag("E0011", { expected: "`rows`", after: `over ${prev.text}` }, at(here), {
      label: closest(here.text, ["rows"]) ? "did you mean `rows`?" : undefined,
      hint: "`over N rows` covers the last N records; a time range is a duration such as `over 5m` or `over 30s`",
    });
  }
  if (here.text === "") {
    return diag("E0001", { text: "unexpected end of file" }, { start: pos + offset, end: pos + offset }, { label: `expected ${expected}` });
  }
  // `declKeyword` shows in the expected text where the grammar refuses one (`distinct a, type`).
  if (DECL_KEYWORDS.includes(here.text) && prev && /a name|declKeyword/.test(expected)) {
    return diag("E0006", { word: here.text }, at(here), { hint: `a declaration cannot start here; if \`${here.text}\` is a field, write it in backticks` });
  }
  return diag("E0001", { text: `unexpected \`${here.text}\`` }, at(here), { label: `expected ${expected}` });
}

function expectsExprKeyword(word: string, prev: Token | undefined): boolean {
  // `not`, `if`, `true`, ... are fine where an expression starts; they are misuses only as names.
  return ["not", "if", "true", "false", "null"].includes(word) && !!prev && OPERATOR_TOKENS.has(prev.text);
}

// ---- entry points -------------------------------------------------------------------------------

function nestingTooDeep(src: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > MAX_NESTING) return i;
    } else if (c === 41 || c === 93 || c === 125) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function build(m: ohm.MatchResult): A.Program {
  return semantics()(m).ast() as A.Program;
}

/** Nesting of AST nodes beyond which later phases (recursive walks) could overflow the stack. */
const MAX_AST_DEPTH = 1000;

/** The first node nested deeper than MAX_AST_DEPTH (a 3,000-term `a + b + …` chain), if any. */
function tooDeep(node: unknown, depth = 0): A.Span | undefined {
  if (node === null || typeof node !== "object") return undefined;
  if (depth > MAX_AST_DEPTH) return (node as { span?: A.Span }).span ?? { start: 0, end: 0 };
  for (const [k, v] of Object.entries(node)) {
    if (k === "span" || k === "opSpan") continue;
    if (Array.isArray(v)) {
      for (const x of v) {
        const r = tooDeep(x, depth + 1);
        if (r) return r;
      }
    } else if (v !== null && typeof v === "object") {
      const r = tooDeep(v, depth + 1);
      if (r) return r;
    }
  }
  return undefined;
}

const DECL_START = /^(type|source|table|let|emit|fn|import|test)\b/gm;

/** Parses a whole program; on syntax errors, parses declaration by declaration to report each. */
export function parse(src: string, matcher?: ohm.Matcher): ParseResult {
  pending = [];
  const empty: A.Program = { kind: "Program", decls: [], comments: [], span: { start: 0, end: src.length } };
  const deep = nestingTooDeep(src);
  if (deep !== undefined) {
    return { program: empty, diagnostics: [diag("E0010", { what: `brackets nested more than ${MAX_NESTING} deep` }, { start: deep, end: deep + 1 })], poisoned: new Set() };
  }
  const unterminated = unterminatedString(src);
  try {
    const m = matcher ? matcher.match() : flowGrammar().match(src);
    if (m.succeeded()) {
      const program = build(m);
      const deep = tooDeep(program);
      if (deep) return { program: empty, diagnostics: [diag("E0010", { what: `an expression nested more than ${MAX_AST_DEPTH} deep` }, deep)], poisoned: new Set() };
      program.comments = collectComments(src);
      return { program, diagnostics: pending, poisoned: new Set() };
    }
    return recover(src, m, unterminated);
  } catch (e) {
    if (e instanceof RangeError) {
      return { program: empty, diagnostics: [diag("E0010", { what: "too deeply nested" }, { start: 0, end: Math.min(1, src.length) })], poisoned: new Set() };
    }
    throw e;
  }
}

/** Error recovery: every declaration (a line starting with a declaration keyword) alone. */
function recover(src: string, whole: ohm.MatchResult, unterminated: number | undefined): ParseResult {
  const starts = [...src.matchAll(DECL_START)].map((m) => m.index!);
  if (starts[0] !== 0) starts.unshift(0);
  const diagnostics: Diagnostic[] = [];
  const decls: A.Decl[] = [];
  const poisoned = new Set<string>();
  if (unterminated !== undefined) {
    diagnostics.push(diag("E0002", {}, { start: unterminated, end: unterminated + 1 }, { label: "this string is not closed on its line", hint: 'add the closing `"`' }));
  }
  const g = flowGrammar();
  if (starts.length > 300) {
    if (unterminated === undefined) diagnostics.push(syntaxDiagnostic(src, whole));
    return { program: { kind: "Program", decls: [], comments: [], span: { start: 0, end: src.length } }, diagnostics, poisoned };
  }
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i]!, e = starts[i + 1] ?? src.length;
    // Blank out the other declarations (keeping newlines) so offsets stay those of the file.
    // The input ends with this declaration, so an error at its end is reported there.
    const blanked = src.slice(0, s).replace(/[^\n]/g, " ") + src.slice(s, e).trimEnd();
    const m = g.match(blanked);
    if (m.succeeded()) {
      decls.push(...build(m).decls);
      continue;
    }
    const chunk = src.slice(s, e);
    const name = /^(?:type|source|table|let|fn)\s+`?([A-Za-z_][A-Za-z0-9_-]*)/.exec(chunk) ?? /^emit\s+(?:final\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=[^=]/.exec(chunk);
    if (name) poisoned.add(name[1]!);
    const imported = /^import\s*\{([^}]*)\}/.exec(chunk);
    if (imported) for (const n of imported[1]!.split(",")) poisoned.add(n.trim());
    if (unterminated !== undefined && unterminated >= s && unterminated < e) continue;
    diagnostics.push(syntaxDiagnostic(blanked, m));
  }
  if (diagnostics.length === 0) diagnostics.push(syntaxDiagnostic(src, whole));
  const deep = tooDeep(decls);
  if (deep) diagnostics.push(diag("E0010", { what: `an expression nested more than ${MAX_AST_DEPTH} deep` }, deep));
  const program: A.Program = { kind: "Program", decls: deep ? [] : decls, comments: collectComments(src), span: { start: 0, end: src.length } };
  return { program, diagnostics: [...diagnostics, ...pending], poisoned };
}

/**
 * An incremental parser for editors: keeps an ohm matcher whose memo table survives edits, so a
 * keystroke re-parses only what changed (~0.1 ms on this machine).
 */
export class IncrementalParser {
  private readonly matcher = flowGrammar().matcher();
  private text = "";
  update(next: string): ParseResult {
    let a = 0;
    const max = Math.min(this.text.length, next.length);
    while (a < max && this.text.charCodeAt(a) === next.charCodeAt(a)) a++;
    let b = 0;
    while (b < max - a && this.text.charCodeAt(this.text.length - 1 - b) === next.charCodeAt(next.length - 1 - b)) b++;
    this.matcher.replaceInputRange(a, this.text.length - b, next.slice(a, next.length - b));
    this.text = next;
    return parse(next, this.matcher);
  }
}

/** A copy of `node` (an AST or diagnostics) with every span moved by `by`. */
function shifted<T>(node: T, by: number): T {
  if (node === null || typeof node !== "object") return node;
  if (Array.isArray(node)) return node.map((x) => shifted(x, by)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if ((k === "span" || k === "opSpan") && v !== null && typeof v === "object") {
      const s = v as A.Span;
      out[k] = { start: s.start + by, end: s.end + by };
    } else out[k] = shifted(v, by);
  }
  return out as T;
}

/**
 * A parser for editors that reparses only the declarations an edit touched: the text is cut
 * where a line starts with a declaration keyword, each piece is parsed alone and remembered by
 * its text, and an unchanged piece is reused with its spans moved. When any piece has a syntax
 * error the whole text is parsed the ordinary way (its error recovery and messages), so results
 * never differ from `parse`'s for a program that parses, and errors are reported the same way.
 */
export class DeclarationParser {
  private cache = new Map<string, ParseResult>();

  update(src: string): ParseResult {
    if (nestingTooDeep(src) !== undefined) return parse(src);
    const starts = [...src.matchAll(DECL_START)].map((m) => m.index!);
    if (starts[0] !== 0) starts.unshift(0);
    const next = new Map<string, ParseResult>();
    const decls: A.Decl[] = [];
    const diagnostics: Diagnostic[] = [];
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i]!;
      const text = src.slice(s, starts[i + 1] ?? src.length);
      const r = this.cache.get(text) ?? next.get(text) ?? parse(text);
      if (r.diagnostics.some((d) => d.severity === "error") || r.poisoned.size > 0) {
        this.cache = next;
        return parse(src);
      }
      next.set(text, r);
      decls.push(...shifted(r.program.decls, s));
      diagnostics.push(...shifted(r.diagnostics, s));
    }
    this.cache = next;
    return { program: { kind: "Program", decls, comments: collectComments(src), span: { start: 0, end: src.length } }, diagnostics, poisoned: new Set() };
  }
}
