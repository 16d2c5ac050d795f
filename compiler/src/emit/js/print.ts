// The printer of the emitter's syntax tree (ast.ts): one function per node kind. TypeScript when
// `types` is true, JavaScript (types, modifiers, `!` and `as` dropped) when it is false. Escaping
// happens here and only here (through escape.ts): string literals, property names, object keys
// and comment text; identifiers are checked. The printer adds the parentheses the grammar needs;
// a `paren` node adds those the emitter wants for reading.
import { commentText, isIdentifierName, jsonLiteral, objectKey, propertyAccess, stringLiteral, typeMemberKey } from "../escape";
import type { Case, Decl, Expr, Member, Param, Prop, Stmt } from "./ast";

export interface PrintOptions {
  /** TypeScript (true) or JavaScript (false). */
  types: boolean;
}

const RESERVED = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum", "export", "extends",
  "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null", "return", "super", "switch", "this",
  "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield", "let", "static", "implements", "interface", "package",
  "private", "protected", "public", "await",
]);

/** A name that may be a variable, parameter, class or label: an identifier name, not reserved. */
export function isIdentifier(name: string): boolean {
  return isIdentifierName(name) && !RESERVED.has(name);
}

/** `name`, refused unless it is an identifier (program text never becomes code by a name). */
export function identifier(name: string): string {
  if (!isIdentifier(name)) throw new Error(`internal: ${JSON.stringify(name)} is not an identifier`);
  return name;
}

const INDENTS = Array.from({ length: 12 }, (_, i) => "  ".repeat(i));
const indent = (depth: number) => INDENTS[depth] ?? "  ".repeat(depth);

// ---- expressions -----------------------------------------------------------------------------

const BINARY_PRECEDENCE: Record<string, number> = {
  "??": 4, "||": 4, "&&": 5, "|": 6, "&": 8, "===": 9, "!==": 9, "<": 10, "<=": 10, ">": 10, ">=": 10, in: 10, instanceof: 10,
  "+": 12, "-": 12, "*": 13, "/": 13, "%": 13,
};
const PRIMARY = 19, MEMBER = 18, NON_NULL = 18, POSTFIX = 16, UNARY = 15, AS = 10, COND = 3, ASSIGN = 2, SPREAD = 1;

/** The node that prints (`as` and `!` vanish in JavaScript). */
function shown(e: Expr, o: PrintOptions): Expr {
  while (!o.types && (e.kind === "as" || e.kind === "nonNull")) e = e.expr;
  return e;
}

function precedence(e: Expr, o: PrintOptions): number {
  e = shown(e, o);
  switch (e.kind) {
    case "num":
      return e.value < 0 || Object.is(e.value, -0) ? UNARY : PRIMARY;
    case "member":
    case "index":
    case "call":
    case "new":
    case "regex":
      return MEMBER;
    case "nonNull":
      return NON_NULL;
    case "update":
      return POSTFIX;
    case "unary":
      return UNARY;
    case "binary":
      return BINARY_PRECEDENCE[e.op]!;
    case "as":
      return AS;
    case "cond":
      return COND;
    case "assign":
    case "arrow":
      return ASSIGN;
    case "spread":
      return SPREAD;
    default:
      return PRIMARY;
  }
}

/** `e` printed, in parentheses when its precedence is below `min`. */
function operand(e: Expr, min: number, o: PrintOptions, depth: number): string {
  const text = printExpr(e, o, depth);
  return precedence(e, o) < min ? `(${text})` : text;
}

/** The node an expression statement or arrow body starts with (`{` there would open a block). */
function leftmost(e: Expr, o: PrintOptions): Expr {
  e = shown(e, o);
  switch (e.kind) {
    case "member":
    case "index":
      return leftmost(e.object, o);
    case "call":
      return leftmost(e.callee, o);
    case "binary":
      return leftmost(e.left, o);
    case "cond":
      return leftmost(e.test, o);
    case "assign":
    case "update":
      return leftmost(e.target, o);
    case "as":
    case "nonNull":
      return leftmost(e.expr, o);
    default:
      return e;
  }
}

const list = (xs: Expr[], o: PrintOptions, depth: number) => xs.map((x) => operand(x, SPREAD, o, depth)).join(", ");
const typeArgs = (ts: string[] | undefined, o: PrintOptions) => (o.types && ts && ts.length ? `<${ts.join(", ")}>` : "");

export function printExpr(e: Expr, o: PrintOptions, depth = 0): string {
  switch (e.kind) {
    case "id":
      return identifier(e.name);
    case "this":
      return "this";
    case "str":
      return stringLiteral(e.value);
    case "num":
      return printNumber(e.value);
    case "bool":
      return String(e.value);
    case "null":
      return "null";
    case "json":
      return jsonLiteral(e.value);
    case "regex":
      return printRegex(e.pattern, e.flags);
    case "member":
      return printMember(e.object, e.name, o, depth);
    case "index":
      return `${receiver(e.object, o, depth)}${e.optional ? "?." : ""}[${printExpr(e.index, o, depth)}]`;
    case "call":
      return `${operand(e.callee, MEMBER, o, depth)}${typeArgs(e.typeArgs, o)}(${list(e.args, o, depth)})`;
    case "new":
      return printNew(e, o, depth);
    case "unary":
      return printUnary(e, o, depth);
    case "update":
      return `${operand(e.target, POSTFIX + 1, o, depth)}${e.op}`;
    case "binary":
      return printBinary(e, o, depth);
    case "cond":
      return `${operand(e.test, COND + 1, o, depth)} ? ${operand(e.then, ASSIGN, o, depth)} : ${operand(e.else, ASSIGN, o, depth)}`;
    case "assign":
      return `${operand(e.target, MEMBER, o, depth)} ${e.op} ${operand(e.value, ASSIGN, o, depth)}`;
    case "arrow":
      return printArrow(e, o, depth);
    case "object":
      return e.multiline ? printObjectLines(e.props, o, depth) : printObject(e.props, o, depth);
    case "array":
      return e.multiline ? printArrayLines(e.elements, o, depth) : `[${list(e.elements, o, depth)}]`;
    case "spread":
      return `...${operand(e.expr, ASSIGN, o, depth)}`;
    case "paren":
      return `(${printExpr(e.expr, o, depth)})`;
    case "nonNull":
      return o.types ? `${operand(e.expr, NON_NULL, o, depth)}!` : printExpr(e.expr, o, depth);
    case "as":
      // `x as unknown as T` reads left to right without parentheses.
      return o.types ? `${shown(e.expr, o).kind === "as" ? printExpr(e.expr, o, depth) : operand(e.expr, AS + 1, o, depth)} as ${e.type}` : printExpr(e.expr, o, depth);
  }
}

function printNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (Object.is(v, -0)) return "-0";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  // Integers of 16 digits and more read better as `8.64e15` (when that is exact).
  if (Number.isInteger(v) && Math.abs(v) >= 1e15) {
    const short = v.toExponential().replace("e+", "e");
    if (Number(short) === v) return short;
  }
  return String(v);
}

/** A regular expression built from its source at run time: no pattern text can end a literal. */
function printRegex(pattern: string, flags: string): string {
  new RegExp(pattern, flags); // refuses an invalid pattern or flag here, not in generated code
  return `new RegExp(${stringLiteral(pattern)}, ${stringLiteral(flags)})`;
}

/** An object of a member access or call: a number literal needs parentheses (`(1).x`). */
function receiver(e: Expr, o: PrintOptions, depth: number): string {
  return shown(e, o).kind === "num" ? `(${printExpr(e, o, depth)})` : operand(e, MEMBER, o, depth);
}

function printMember(object: Expr, name: string, o: PrintOptions, depth: number): string {
  return `${receiver(object, o, depth)}${propertyAccess(name)}`;
}

function printNew(e: Extract<Expr, { kind: "new" }>, o: PrintOptions, depth: number): string {
  // `new a.b()` is fine; a call in the callee (`new (f())()`) needs parentheses.
  const c = shown(e.callee, o);
  const callee = c.kind === "id" || c.kind === "member" || c.kind === "this" ? printExpr(e.callee, o, depth) : `(${printExpr(e.callee, o, depth)})`;
  return `new ${callee}${typeArgs(e.typeArgs, o)}(${list(e.args, o, depth)})`;
}

function printUnary(e: Extract<Expr, { kind: "unary" }>, o: PrintOptions, depth: number): string {
  const x = shown(e.operand, o);
  // `- -x`, `-(-1)`: two signs in a row would read as `--`.
  const sign = (e.op === "-" || e.op === "+") && ((x.kind === "unary" && (x.op === "-" || x.op === "+")) || (x.kind === "num" && precedence(x, o) === UNARY));
  const inner = sign ? `(${printExpr(e.operand, o, depth)})` : operand(e.operand, UNARY, o, depth);
  return e.op === "typeof" || e.op === "void" ? `${e.op} ${inner}` : `${e.op}${inner}`;
}

function printBinary(e: Extract<Expr, { kind: "binary" }>, o: PrintOptions, depth: number): string {
  const p = BINARY_PRECEDENCE[e.op]!;
  // `??` does not mix with `||` / `&&` without parentheses.
  const mixes = (x: Expr) => {
    const s = shown(x, o);
    return s.kind === "binary" && (e.op === "??" ? s.op === "||" || s.op === "&&" : (e.op === "||" || e.op === "&&") && s.op === "??");
  };
  const l = mixes(e.left) ? `(${printExpr(e.left, o, depth)})` : operand(e.left, p, o, depth);
  const r = mixes(e.right) ? `(${printExpr(e.right, o, depth)})` : operand(e.right, p + 1, o, depth);
  return `${l} ${e.op} ${r}`;
}

function printParams(ps: Param[], o: PrintOptions, depth: number): string {
  return ps.map((p) => {
    const head = o.types ? `${p.modifiers ? `${p.modifiers} ` : ""}${identifier(p.name)}${p.type !== undefined ? `: ${p.type}` : ""}` : identifier(p.name);
    return p.default ? `${head} = ${operand(p.default, ASSIGN, o, depth)}` : head;
  }).join(", ");
}

function printArrow(e: Extract<Expr, { kind: "arrow" }>, o: PrintOptions, depth: number): string {
  const head = `(${printParams(e.params, o, depth)})${o.types && e.ret !== undefined ? `: ${e.ret}` : ""} =>`;
  if (Array.isArray(e.body)) return `${head} ${e.inline ? printInlineBlock(e.body, o) : printBlockBody(e.body, o, depth)}`;
  const body = e.body as Expr;
  const text = printExpr(body, o, depth);
  return leftmost(body, o).kind === "object" || precedence(body, o) < ASSIGN ? `${head} (${text})` : `${head} ${text}`;
}

/** `{`, the statements one level deeper, `}` (at `depth`); `{}` when empty. */
function printBlockBody(body: Stmt[], o: PrintOptions, depth: number): string {
  if (body.length === 0) return "{}";
  return `{\n${printStmts(body, o, depth + 1).join("\n")}\n${indent(depth)}}`;
}

function printProp(p: Prop, o: PrintOptions, depth: number): string {
  switch (p.kind) {
    case "prop":
      return `${objectKey(p.key)}: ${operand(p.value, ASSIGN, o, depth)}`;
    case "shorthand":
      return identifier(p.name);
    case "spread":
      return `...${operand(p.expr, ASSIGN, o, depth)}`;
  }
}

function printObject(props: Prop[], o: PrintOptions, depth: number): string {
  return props.length === 0 ? "{}" : `{ ${props.map((p) => printProp(p, o, depth)).join(", ")} }`;
}

/** An object literal with one property per line (`key: value,`), for long literals. */
function printObjectLines(props: Prop[], o: PrintOptions, depth: number): string {
  if (props.length === 0) return "{}";
  return `{\n${props.map((p) => `${indent(depth + 1)}${printProp(p, o, depth + 1)},`).join("\n")}\n${indent(depth)}}`;
}

/** An array literal with one element per line (`element,`). */
function printArrayLines(elements: Expr[], o: PrintOptions, depth: number): string {
  if (elements.length === 0) return "[]";
  return `[\n${elements.map((x) => `${indent(depth + 1)}${operand(x, ASSIGN, o, depth + 1)},`).join("\n")}\n${indent(depth)}]`;
}

// ---- statements ------------------------------------------------------------------------------

/** Statements, one or more lines each, indented `depth` levels. */
export function printStmts(stmts: Stmt[], o: PrintOptions, depth: number): string[] {
  const out: string[] = [];
  for (const s of stmts) for (const line of printStmt(s, o, depth)) out.push(line);
  return out;
}

/** `head` followed by a statement printed on the same line (its first line) and its other lines. */
function joinHead(head: string, lines: string[], depth: number): string[] {
  const first = lines[0]!.slice(indent(depth).length);
  return [`${head}${first}`, ...lines.slice(1)];
}

export function printStmt(s: Stmt, o: PrintOptions, depth: number): string[] {
  const ind = indent(depth);
  const ex = (e: Expr) => printExpr(e, o, depth);
  switch (s.kind) {
    case "decl":
      return [`${ind}${s.decl} ${declarator(s, o, depth)};`];
    case "decls":
      return [`${ind}${s.decl} ${s.items.map((d) => declarator(d, o, depth)).join(", ")};`];
    case "expr": {
      const text = ex(s.expr);
      const l = leftmost(s.expr, o);
      // An expression statement must not start like a block, function or class.
      return [`${ind}${l.kind === "object" || l.kind === "arrow" ? `(${text})` : text};`];
    }
    case "if":
      return printIf(s, o, depth);
    case "block":
      if (s.inline) return [`${ind}${printInlineBlock(s.body, o)}`];
      return [`${ind}{`, ...printStmts(s.body, o, depth + 1), `${ind}}`];
    case "for":
      return joinHead(`${ind}for (${s.init ? printInline(s.init, o).slice(0, -1) : ""}; ${s.test ? ex(s.test) : ""}; ${s.update ? ex(s.update) : ""}) `, printStmt(s.body, o, depth), depth);
    case "forOf":
      return joinHead(`${ind}for (${s.decl} ${identifier(s.name)} of ${operand(s.iterable, ASSIGN, o, depth)}) `, printStmt(s.body, o, depth), depth);
    case "while":
      return joinHead(`${ind}while (${ex(s.test)}) `, printStmt(s.body, o, depth), depth);
    case "labelled":
      return joinHead(`${ind}${identifier(s.label)}: `, printStmt(s.body, o, depth), depth);
    case "break":
      return [`${ind}break${s.label ? ` ${identifier(s.label)}` : ""};`];
    case "continue":
      return [`${ind}continue${s.label ? ` ${identifier(s.label)}` : ""};`];
    case "return":
      return [`${ind}return${s.value ? ` ${ex(s.value)}` : ""};`];
    case "throw":
      return [`${ind}throw ${ex(s.value)};`];
    case "try":
      return [`${ind}try {`, ...printStmts(s.block, o, depth + 1), `${ind}} catch (${identifier(s.param)}) {`, ...printStmts(s.handler, o, depth + 1), `${ind}}`];
    case "switch":
      return [`${ind}switch (${ex(s.test)}) {`, ...s.cases.flatMap((c) => printCase(c, o, depth + 1)), `${ind}}`];
    case "comment":
      return [`${ind}${printComment(s.text, s.doc)}`];
    case "trailing": {
      const lines = printStmt(s.stmt, o, depth);
      return [...lines.slice(0, -1), `${lines[lines.length - 1]!} ${printComment(s.text)}`];
    }
    case "blank":
      return [""];
  }
}

/** `name: T = init` (`name!: T` when definite; types only in TypeScript). */
function declarator(d: { name: string; type?: string; init?: Expr; definite?: boolean }, o: PrintOptions, depth: number): string {
  const type = o.types && d.type !== undefined ? `${d.definite ? "!" : ""}: ${d.type}` : "";
  return `${identifier(d.name)}${type}${d.init ? ` = ${operand(d.init, ASSIGN, o, depth)}` : ""}`;
}

/** `/**`, ` * line` per line, ` *\/`: a doc comment of several lines, each made safe. */
export function printDocLines(lines: string[]): string {
  return ["/**", ...lines.map((l) => ` * ${commentText(l)}`), " */"].join("\n");
}

/** `// text` or `/** text *\/`: no text can end the comment (escape.ts commentText). */
export function printComment(text: string, doc = false): string {
  return doc ? `/** ${commentText(text)} */` : `// ${commentText(text)}`;
}

/** A statement that must fit on one line (the body of an inline block or case). */
function printInline(s: Stmt, o: PrintOptions, last = true): string {
  // A trailing comment would swallow what follows it on the line.
  if (s.kind === "trailing" && !last) throw new Error("internal: a trailing comment before more code on its line");
  const lines = printStmt(s, o, 0);
  if (lines.length !== 1) throw new Error(`internal: a ${s.kind} statement does not fit on one line`);
  return lines[0]!;
}

function printInlineBlock(body: Stmt[], o: PrintOptions): string {
  return body.length === 0 ? "{}" : `{ ${body.map((s, i) => printInline(s, o, false)).join(" ")} }`;
}

function printIf(s: Extract<Stmt, { kind: "if" }>, o: PrintOptions, depth: number): string[] {
  const lines = joinHead(`${indent(depth)}if (${printExpr(s.test, o, depth)}) `, printStmt(s.then, o, depth), depth);
  if (!s.else) return lines;
  // After a statement that is not a block, `else` starts its own line (`if (a) x;` / `else y;`).
  if (s.then.kind !== "block") return [...lines, ...joinHead(`${indent(depth)}else `, printStmt(s.else, o, depth), depth)];
  const last = lines.pop()!;
  return [...lines, ...joinHead(`${last} else `, printStmt(s.else, o, depth), depth)];
}

function printCase(c: Case, o: PrintOptions, depth: number): string[] {
  const head = `${indent(depth)}${c.test ? `case ${printExpr(c.test, o, depth)}` : "default"}:`;
  if (c.inline) return [`${head} ${c.body.map((s, i) => printInline(s, o, i === c.body.length - 1)).join(" ")}`];
  if (c.block) return [`${head} {`, ...printStmts(c.body, o, depth + 1), `${indent(depth)}}`];
  return [head, ...printStmts(c.body, o, depth + 1)];
}

// ---- classes and modules ---------------------------------------------------------------------

/** A class member, indented `depth` levels; undefined when JavaScript has nothing to print. */
export function printClassMember(m: Member, o: PrintOptions, depth = 1): string | undefined {
  const ind = indent(depth);
  const mods = (x: string | undefined) => (o.types && x ? `${x} ` : "");
  const doc = (text: string | undefined) => (text !== undefined ? `${ind}${printComment(text, true)}\n` : "");
  switch (m.kind) {
    case "field":
      // A field assigned in the constructor is declared only for TypeScript.
      if (!m.init && !o.types) return undefined;
      return `${doc(m.doc)}${ind}${mods(m.modifiers)}${identifier(m.name)}${o.types && m.type !== undefined ? `: ${m.type}` : ""}${m.init ? ` = ${operand(m.init, ASSIGN, o, depth)}` : ""};`;
    case "method": {
      const head = `${doc(m.doc)}${ind}${mods(m.modifiers)}${identifier(m.name)}(${printParams(m.params, o, depth)})${o.types && m.ret !== undefined ? `: ${m.ret}` : ""}`;
      return `${head} {\n${printStmts(m.body, o, depth + 1).join("\n")}\n${ind}}`;
    }
    case "ctor":
      return printCtor(m, o, depth);
    case "blank":
      return "";
    case "comment":
      return `${ind}${printComment(m.text, m.doc)}`;
  }
}

/** A constructor; in JavaScript its parameter properties become assignments. */
function printCtor(m: Extract<Member, { kind: "ctor" }>, o: PrintOptions, depth: number): string {
  const ind = indent(depth);
  const assigns: Stmt[] = o.types ? [] : m.params.filter((p) => p.modifiers).map((p) => ({ kind: "expr", expr: { kind: "assign", op: "=", target: { kind: "member", object: { kind: "this" }, name: p.name }, value: { kind: "id", name: p.name } } }));
  const body = [...assigns, ...m.body];
  const head = `${ind}constructor(${printParams(m.params, o, depth)})`;
  if (m.inline) return `${head} ${printInlineBlock(body, o)}`;
  return `${head} {\n${printStmts(body, o, depth + 1).join("\n")}\n${ind}}`;
}

export function printClass(d: Extract<Decl, { kind: "class" }>, o: PrintOptions): string {
  const members = d.members.map((m) => printClassMember(m, o)).filter((x): x is string => x !== undefined);
  const head = `${d.doc !== undefined ? `${printComment(d.doc, true)}\n` : ""}class ${identifier(d.name)}${o.types && d.implements ? ` implements ${d.implements}` : ""} {`;
  return members.length ? `${head}\n${members.join("\n")}\n}` : `${head}}`;
}

/** A module-level declaration; undefined when JavaScript has nothing to print (interfaces). */
export function printDecl(d: Decl, o: PrintOptions): string | undefined {
  const doc = (text: string | undefined) => (text !== undefined ? `${printComment(text, true)}\n` : "");
  const exported = (x: boolean | undefined) => (x ? "export " : "");
  switch (d.kind) {
    case "class":
      return printClass(d, o);
    case "function":
      return `${Array.isArray(d.doc) ? `${printDocLines(d.doc)}\n` : doc(d.doc)}${exported(d.exported)}function ${identifier(d.name)}(${printParams(d.params, o, 0)})${o.types && d.ret !== undefined ? `: ${d.ret}` : ""} ${printBlockBody(d.body, o, 0)}`;
    case "const":
      return `${doc(d.doc)}${exported(d.exported)}const ${identifier(d.name)}${o.types && d.type !== undefined ? `: ${d.type}` : ""} = ${printExpr(d.init, o, 0)};`;
    case "import": {
      const names = d.names.filter((n) => o.types || !n.typeOnly).map((n) => `${n.typeOnly ? "type " : ""}${identifier(n.name)}`);
      return names.length ? `import { ${names.join(", ")} } from ${stringLiteral(d.from)};` : undefined;
    }
    case "interface": {
      if (!o.types) return undefined;
      const body = d.members.map((m) => `  ${typeMemberKey(m.key)}: ${m.type};`).join("\n");
      return `${doc(d.doc)}${exported(d.exported)}interface ${identifier(d.name)} {\n${body}\n}`;
    }
    case "comment":
      return printComment(d.text, d.doc);
    case "blank":
      return "";
  }
}
