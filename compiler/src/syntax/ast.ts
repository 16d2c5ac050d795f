// The Flow abstract syntax tree. Every node carries a span of UTF-16 offsets into the source;
// line/column are computed only when a diagnostic is printed.

export interface Span {
  start: number;
  end: number;
}

export interface Ident {
  kind: "Ident";
  name: string;
  span: Span;
}

export interface Comment {
  text: string;
  span: Span;
}

export interface Program {
  kind: "Program";
  decls: Decl[];
  comments: Comment[];
  span: Span;
}

export type Decl = TypeDecl | SourceDecl | TableDecl | LetDecl | EmitDecl | FnDecl | ImportDecl | TestDecl;

export interface TypeDecl {
  kind: "TypeDecl";
  name: Ident;
  type: TypeExpr;
  span: Span;
}

export interface SourceDecl {
  kind: "SourceDecl";
  name: Ident;
  type: TypeExpr;
  connector: Call;
  /** `key FIELD, ...`: a source of changes (format debezium / changelog) keyed by these fields (§13). */
  key?: Ident[];
  /** A field name, or an expression of type `time` over the record (LANGUAGE.md §10). */
  eventTime?: Expr;
  watermark?: Expr;
  /** `idle DURATION` (LANGUAGE.md §10): quiet this long (wall clock), the source is idle. */
  idle?: Expr;
  span: Span;
}

export interface TableDecl {
  kind: "TableDecl";
  name: Ident;
  type: TypeExpr;
  connector: Call;
  key: Ident;
  span: Span;
}

export interface LetDecl {
  kind: "LetDecl";
  name: Ident;
  pipeline: Pipeline;
  span: Span;
}

export interface EmitDecl {
  kind: "EmitDecl";
  final: boolean;
  name?: Ident;
  pipeline: Pipeline;
  sink?: Call;
  span: Span;
}

export interface Param {
  name: Ident;
  type: TypeExpr;
  span: Span;
}

export interface FnDecl {
  kind: "FnDecl";
  name: Ident;
  params: Param[];
  returnType?: TypeExpr;
  body: Expr;
  span: Span;
}

export interface ImportDecl {
  kind: "ImportDecl";
  names: Ident[];
  from: StringLit;
  span: Span;
}

/** `test "name" { input … expect … }` (LANGUAGE.md §14): `run` and `build` ignore it. */
export interface TestDecl {
  kind: "TestDecl";
  name: StringLit;
  items: TestItem[];
  span: Span;
}

/** How an `expect` compares: in order (none), the changelog, as a multiset, the final table. */
export type ExpectMode = "changes" | "unordered" | "final";

export type TestItem =
  /** `input SOURCE = [records]` or `= file("path")`. */
  | { kind: "TestInput"; target: Ident; value: Expr; span: Span }
  /** `expect OUTPUT [mode] = [rows]`, or `expect late = N` / `expect bad = N`. */
  | { kind: "TestExpect"; target: Ident; mode?: ExpectMode; value: Expr; span: Span };

// ---- types -----------------------------------------------------------------------------------

export type TypeExpr = NamedType | OptionalType | ArrayType | RecordType;

export interface NamedType {
  kind: "NamedType";
  name: Ident;
  span: Span;
}
export interface OptionalType {
  kind: "OptionalType";
  inner: TypeExpr;
  span: Span;
}
export interface ArrayType {
  kind: "ArrayType";
  element: TypeExpr;
  span: Span;
}
export interface RecordType {
  kind: "RecordType";
  fields: { name: Ident; type: TypeExpr }[];
  span: Span;
}

// ---- pipelines -------------------------------------------------------------------------------

export interface Pipeline {
  kind: "Pipeline";
  head: Head;
  alias?: Ident;
  stages: Stage[];
  span: Span;
}

export type Head =
  | { kind: "NameHead"; name: Ident; span: Span }
  | { kind: "ParenHead"; pipeline: Pipeline; span: Span }
  | { kind: "UnionHead"; inputs: Pipeline[]; span: Span };

export interface Binding {
  name: Ident;
  expr: Expr;
  span: Span;
}

export type SelectItem =
  | { kind: "SelectExpr"; name?: Ident; expr: Expr; span: Span }
  | { kind: "SelectStar"; alias?: Ident; span: Span };

export interface WithinBounds {
  /** `within D` gives lower = undefined (meaning -D), upper = D. */
  lower?: Expr;
  upper: Expr;
  span: Span;
}

/** `join` (inner) or one of LANGUAGE.md §13's outer, semi and anti joins. */
export type JoinKind = "inner" | "left" | "right" | "full" | "semi" | "anti";

export type JoinSide =
  | { kind: "NameSide"; name: Ident; span: Span }
  | { kind: "PipelineSide"; pipeline: Pipeline; span: Span };

export type Stage =
  | { kind: "Where"; cond: Expr; span: Span }
  | { kind: "Select"; items: SelectItem[]; span: Span }
  | { kind: "Extend"; items: Binding[]; span: Span }
  | { kind: "Map"; expr: Expr; span: Span }
  | { kind: "Unnest"; field: Expr; as?: Ident; span: Span }
  | { kind: "Window"; fn: Ident; args: Expr[]; span: Span }
  | { kind: "GroupBy"; keys: { name?: Ident; expr: Expr; span: Span }[]; span: Span }
  | { kind: "Agg"; items: { name?: Ident; expr: Expr; span: Span }[]; span: Span }
  | { kind: "Top"; n: Expr; by: Expr; desc: boolean; withTies: boolean; span: Span }
  | { kind: "Distinct"; values: Expr[]; within?: Expr; span: Span }
  | { kind: "Join"; joinKind: JoinKind; side: JoinSide; alias?: Ident; on: Expr; within?: WithinBounds; span: Span }
  | { kind: "Lookup"; table: Ident; alias?: Ident; on: Expr; span: Span };

export type StageKind = Stage["kind"];

// ---- expressions -----------------------------------------------------------------------------

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or" | "??";

export interface StringLit {
  kind: "String";
  value: string;
  span: Span;
}

export type Expr =
  | { kind: "Int"; value: number; span: Span }
  | { kind: "Float"; value: number; span: Span }
  | StringLit
  | { kind: "Bool"; value: boolean; span: Span }
  | { kind: "Null"; span: Span }
  | { kind: "Duration"; ms: number; span: Span }
  | { kind: "Time"; ms: number; text: string; span: Span }
  | { kind: "Name"; name: Ident; span: Span }
  | { kind: "Field"; object: Expr; name: Ident; span: Span }
  | { kind: "Index"; object: Expr; index: Expr; span: Span }
  | { kind: "Call"; callee: Ident; args: Arg[]; over?: Over; span: Span }
  | { kind: "Unary"; op: "-" | "not"; operand: Expr; span: Span }
  | { kind: "Binary"; op: BinaryOp; left: Expr; right: Expr; opSpan: Span; span: Span }
  | { kind: "In"; value: Expr; list: Expr; negated: boolean; span: Span }
  | { kind: "If"; cond: Expr; then: Expr; else: Expr; span: Span }
  | { kind: "ArrayLit"; elements: Expr[]; span: Span }
  | { kind: "RecordLit"; fields: { name: Ident; value: Expr }[]; span: Span };

/** `over 5m` (a sliding time range) or `over 10 rows` after an aggregate call in `extend`. */
export interface Over {
  rows: boolean;
  size: Expr;
  span: Span;
}

export interface Arg {
  name?: Ident;
  value: Expr;
  span: Span;
}

export type Call = Extract<Expr, { kind: "Call" }>;
export type ExprKind = Expr["kind"];
