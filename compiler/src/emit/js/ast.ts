// A small syntax tree of the JavaScript (and TypeScript) the emitter prints. The emitter builds
// these nodes; print.ts turns them into text, one function per node kind. Program text reaches
// the output only as a `str` literal (escaped by the printer), an identifier the printer checks,
// a property name (printed `.name` or `["name"]`) or comment text (escaped by the printer).
// Types are TypeScript type text made by emit/types.ts (`TypeNames`, whose names are sanitized
// and whose member keys go through escape.ts); the printer drops them when printing JavaScript.

/** TypeScript type text (from `TypeNames.ts` or a fixed runtime type such as `Key`). */
export type TypeText = string;

export type Expr =
  | { kind: "id"; name: string }
  | { kind: "this" }
  | { kind: "str"; value: string }
  | { kind: "num"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "null" }
  /** Plain data (strings, numbers, booleans, null, arrays, plain objects) as a JSON literal. */
  | { kind: "json"; value: unknown }
  /** A regular expression, built at run time from its escaped source: `new RegExp("…", "u")`. */
  | { kind: "regex"; pattern: string; flags: string }
  /** `.name` when `name` is an identifier name, else `["name"]`. */
  | { kind: "member"; object: Expr; name: string }
  /** `optional`: `object?.[index]`. */
  | { kind: "index"; object: Expr; index: Expr; optional?: boolean }
  | { kind: "call"; callee: Expr; args: Expr[]; typeArgs?: TypeText[] }
  | { kind: "new"; callee: Expr; args: Expr[]; typeArgs?: TypeText[] }
  | { kind: "unary"; op: UnaryOp; operand: Expr }
  | { kind: "update"; op: "++" | "--"; target: Expr }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr }
  | { kind: "cond"; test: Expr; then: Expr; else: Expr }
  | { kind: "assign"; op: AssignOp; target: Expr; value: Expr }
  /** `inline`: a statement body on one line (`(x) => { if (x) f(x); }`). */
  | { kind: "arrow"; params: Param[]; ret?: TypeText; body: Expr | Stmt[]; inline?: boolean }
  /** `multiline`: one entry per line, each followed by a comma. */
  | { kind: "object"; props: Prop[]; multiline?: boolean }
  | { kind: "array"; elements: Expr[]; multiline?: boolean }
  | { kind: "spread"; expr: Expr }
  /** Parentheses the emitter wants for reading (the printer adds those the grammar needs). */
  | { kind: "paren"; expr: Expr }
  /** `x!` in TypeScript, `x` in JavaScript. */
  | { kind: "nonNull"; expr: Expr }
  /** `x as T` in TypeScript, `x` in JavaScript. */
  | { kind: "as"; expr: Expr; type: TypeText };

export type UnaryOp = "!" | "-" | "+" | "typeof" | "void";
export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "===" | "!==" | "<" | "<=" | ">" | ">=" | "&&" | "||" | "??" | "|" | "&" | "in" | "instanceof";
export type AssignOp = "=" | "+=" | "-=" | "*=" | "|=" | "||=" | "&&=" | "??=";

/** An object-literal entry: `key: value` (an own data property, even for `__proto__`), `name`, `...x`. */
export type Prop = { kind: "prop"; key: string; value: Expr } | { kind: "shorthand"; name: string } | { kind: "spread"; expr: Expr };

/** A parameter; `modifiers` make a constructor parameter a TypeScript parameter property. */
export interface Param {
  name: string;
  type?: TypeText;
  modifiers?: string;
  default?: Expr;
}

export type Stmt =
  | { kind: "decl"; decl: "const" | "let"; name: string; type?: TypeText; init?: Expr }
  /** `let a: T = null, b!: U;` — several declarators (`definite`: `b!`, assigned before use). */
  | { kind: "decls"; decl: "const" | "let"; items: Declarator[] }
  | { kind: "expr"; expr: Expr }
  | { kind: "if"; test: Expr; then: Stmt; else?: Stmt }
  /** `inline`: `{ a; b; }` on one line. */
  | { kind: "block"; body: Stmt[]; inline?: boolean }
  | { kind: "for"; init?: Stmt; test?: Expr; update?: Expr; body: Stmt }
  | { kind: "forOf"; decl: "const" | "let"; name: string; iterable: Expr; body: Stmt }
  | { kind: "while"; test: Expr; body: Stmt }
  | { kind: "labelled"; label: string; body: Stmt }
  | { kind: "break"; label?: string }
  | { kind: "continue"; label?: string }
  | { kind: "return"; value?: Expr }
  | { kind: "throw"; value: Expr }
  | { kind: "try"; block: Stmt[]; param: string; handler: Stmt[] }
  | { kind: "switch"; test: Expr; cases: Case[] }
  /** `// text`, or `/** text *\/` when `doc`. */
  | { kind: "comment"; text: string; doc?: boolean }
  /** A statement followed by `// text` on its line. */
  | { kind: "trailing"; stmt: Stmt; text: string }
  /** An empty line between statements. */
  | { kind: "blank" };

export interface Declarator {
  name: string;
  type?: TypeText;
  init?: Expr;
  definite?: boolean;
}

/**
 * `case test:` (`default:` without a test) then its statements; `block`: `case test: {` … `}`; `inline`: every statement on
 * the case's line.
 */
export interface Case {
  test?: Expr;
  body: Stmt[];
  block?: boolean;
  inline?: boolean;
}

/** A class member. `modifiers` (`private readonly`) are TypeScript only. */
export type Member =
  /** A field: without an initializer only TypeScript declares it (assigned in the constructor). */
  | { kind: "field"; name: string; modifiers?: string; type?: TypeText; init?: Expr; doc?: string }
  | { kind: "method"; name: string; modifiers?: string; params: Param[]; ret?: TypeText; body: Stmt[]; doc?: string; docLine?: boolean }
  /** `inline`: an empty or one-line body (`constructor(readonly k0: number) {}`). */
  | { kind: "ctor"; params: Param[]; body: Stmt[]; inline?: boolean }
  /** Text between members: a blank line, or a comment. */
  | { kind: "blank" }
  | { kind: "comment"; text: string; doc?: boolean };

/** Module-level declarations. */
export type Decl =
  | { kind: "class"; name: string; implements?: TypeText; members: Member[]; doc?: string }
  /** `doc`: one line, or several (a block comment of one line each). */
  | { kind: "function"; name: string; exported?: boolean; params: Param[]; ret?: TypeText; body: Stmt[]; doc?: string | string[] }
  | { kind: "const"; name: string; exported?: boolean; type?: TypeText; init: Expr; doc?: string }
  | { kind: "import"; names: ImportName[]; from: string }
  | { kind: "interface"; name: string; members: { key: string; type: TypeText }[]; doc?: string; exported?: boolean }
  | { kind: "comment"; text: string; doc?: boolean }
  | { kind: "blank" };

export interface ImportName {
  name: string;
  /** `type X`: dropped when printing JavaScript. */
  typeOnly?: boolean;
}

/** Plain data: what `data()` turns into literals. */
export type Data = string | number | boolean | null | Data[] | { [key: string]: Data };

// ---- constructors ------------------------------------------------------------------------------

export const id = (name: string): Expr => ({ kind: "id", name });
export const THIS: Expr = { kind: "this" };
export const str = (value: string): Expr => ({ kind: "str", value });
export const num = (value: number): Expr => ({ kind: "num", value });
export const bool = (value: boolean): Expr => ({ kind: "bool", value });
export const NULL: Expr = { kind: "null" };
export const UNDEFINED: Expr = id("undefined");
export const json = (value: unknown): Expr => ({ kind: "json", value });
export const regex = (pattern: string, flags = ""): Expr => ({ kind: "regex", pattern, flags });
export const member = (object: Expr, name: string): Expr => ({ kind: "member", object, name });
/** `this.name`. */
export const thisMember = (name: string): Expr => member(THIS, name);
export const index = (object: Expr, i: Expr, optional = false): Expr => ({ kind: "index", object, index: i, ...(optional ? { optional } : {}) });
export const call = (callee: Expr, args: Expr[] = [], typeArgs?: TypeText[]): Expr => ({ kind: "call", callee, args, ...(typeArgs ? { typeArgs } : {}) });
/** `object.name(args)`. */
export const callMethod = (object: Expr, name: string, args: Expr[] = []): Expr => call(member(object, name), args);
export const newExpr = (callee: Expr, args: Expr[] = [], typeArgs?: TypeText[]): Expr => ({ kind: "new", callee, args, ...(typeArgs ? { typeArgs } : {}) });
export const unary = (op: UnaryOp, operand: Expr): Expr => ({ kind: "unary", op, operand });
export const not = (operand: Expr): Expr => unary("!", operand);
export const update = (op: "++" | "--", target: Expr): Expr => ({ kind: "update", op, target });
export const binary = (op: BinaryOp, left: Expr, right: Expr): Expr => ({ kind: "binary", op, left, right });
/** `a op b op c …`, grouped to the left. */
export const chain = (op: BinaryOp, parts: Expr[]): Expr => parts.reduce((l, r) => binary(op, l, r));
export const cond = (test: Expr, then: Expr, otherwise: Expr): Expr => ({ kind: "cond", test, then, else: otherwise });
export const assign = (target: Expr, value: Expr, op: AssignOp = "="): Expr => ({ kind: "assign", op, target, value });
export const arrow = (params: Param[], body: Expr | Stmt[], ret?: TypeText): Expr => ({ kind: "arrow", params, body, ...(ret !== undefined ? { ret } : {}) });
export const object = (props: Prop[], multiline = false): Expr => ({ kind: "object", props, ...(multiline ? { multiline } : {}) });
export const prop = (key: string, value: Expr): Prop => ({ kind: "prop", key, value });
export const array = (elements: Expr[], multiline = false): Expr => ({ kind: "array", elements, ...(multiline ? { multiline } : {}) });
export const spread = (expr: Expr): Expr => ({ kind: "spread", expr });
export const paren = (expr: Expr): Expr => ({ kind: "paren", expr });
export const nonNull = (expr: Expr): Expr => ({ kind: "nonNull", expr });
export const as = (expr: Expr, type: TypeText): Expr => ({ kind: "as", expr, type });
export const param = (name: string, type?: TypeText, modifiers?: string, dflt?: Expr): Param => ({ name, ...(type !== undefined ? { type } : {}), ...(modifiers ? { modifiers } : {}), ...(dflt ? { default: dflt } : {}) });

export const constDecl = (name: string, init: Expr, type?: TypeText): Stmt => ({ kind: "decl", decl: "const", name, init, ...(type !== undefined ? { type } : {}) });
export const letDecl = (name: string, init?: Expr, type?: TypeText): Stmt => ({ kind: "decl", decl: "let", name, ...(init ? { init } : {}), ...(type !== undefined ? { type } : {}) });
export const exprStmt = (expr: Expr): Stmt => ({ kind: "expr", expr });
export const ifStmt = (test: Expr, then: Stmt, otherwise?: Stmt): Stmt => ({ kind: "if", test, then, ...(otherwise ? { else: otherwise } : {}) });
export const block = (body: Stmt[], inline = false): Stmt => ({ kind: "block", body, ...(inline ? { inline } : {}) });
export const forStmt = (init: Stmt | undefined, test: Expr | undefined, upd: Expr | undefined, body: Stmt): Stmt => ({ kind: "for", ...(init ? { init } : {}), ...(test ? { test } : {}), ...(upd ? { update: upd } : {}), body });
export const forOf = (decl: "const" | "let", name: string, iterable: Expr, body: Stmt): Stmt => ({ kind: "forOf", decl, name, iterable, body });
export const whileStmt = (test: Expr, body: Stmt): Stmt => ({ kind: "while", test, body });
export const labelled = (label: string, body: Stmt): Stmt => ({ kind: "labelled", label, body });
export const breakStmt = (label?: string): Stmt => ({ kind: "break", ...(label ? { label } : {}) });
export const continueStmt = (label?: string): Stmt => ({ kind: "continue", ...(label ? { label } : {}) });
export const ret = (value?: Expr): Stmt => ({ kind: "return", ...(value ? { value } : {}) });
export const throwStmt = (value: Expr): Stmt => ({ kind: "throw", value });
export const tryStmt = (blk: Stmt[], paramName: string, handler: Stmt[]): Stmt => ({ kind: "try", block: blk, param: paramName, handler });
export const switchStmt = (test: Expr, cases: Case[]): Stmt => ({ kind: "switch", test, cases });
export const comment = (text: string): Stmt => ({ kind: "comment", text });
export const docComment = (text: string): Stmt => ({ kind: "comment", text, doc: true });
export const trailing = (stmt: Stmt, text: string): Stmt => ({ kind: "trailing", stmt, text });
export const BLANK: Stmt = { kind: "blank" };

/** Plain data as literals: objects (own data keys, printed unquoted when they can be), arrays, scalars. */
export function data(value: Data): Expr {
  if (value === null) return NULL;
  if (Array.isArray(value)) return array(value.map(data));
  switch (typeof value) {
    case "string":
      return str(value);
    case "number":
      return num(value);
    case "boolean":
      return bool(value);
    default:
      return object(Object.entries(value).map(([k, v]) => prop(k, data(v))));
  }
}
