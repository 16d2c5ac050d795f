// Plan → one TypeScript (or JavaScript) module. Every decision is in the plan (plan/plan.ts);
// this file builds the module as a syntax tree (js/ast.ts) and js/print.ts prints it, so no
// program text is ever spliced into code (it runs in the browser on every keystroke: a few
// small nodes per statement). Every chain of stateless stages becomes one method body; every
// stateful operator is a runtime class specialised by a generated spec class whose state holds
// exactly the fields its `agg` list needs.
import { THROWING_EXPORTS } from "../check/builtins";
import { ELEMENT_REF, LEFT_REF, RIGHT_REF, type TExpr, type WindowInfo } from "../check/typed";
import { stripOptional, type RecordT, type Type } from "../check/types";
import { LineIndex } from "../diagnostics/render";
import { passesElementsThrough, type ChainOp, type Graph, type Node, type NodeId } from "../ir/graph";
import { rollingCallText } from "../ir/print";
import { DENSE_KEYS as DENSE, aggOperator, hasOperator, type AggCallPlan, type AggStore, type Plan, type StateField as PlannedStateField } from "../plan/plan";
import { emitExpr, isSimple, valueJs, type ExprEnv, type Value } from "./expr";
import { TypeNames, localName, schemaData } from "./types";
import { emitSourceDecoders, type GeneratedDecoders } from "./decoder";
import { CONNECTORS } from "../../../stdlib/src/catalog";
import * as J from "./js/ast";
import { printComment, printDecl, type PrintOptions } from "./js/print";

export const FLOWC_VERSION = "0.1.0";

/** The roles of generated members, as their names spell them (see Emitter.m). */
const MEMBER_ROLES = {
  n: "n", // the node's records: one method per node
  w: "watermark", // a watermark reaching the node
  d: "delete", // an upsert key deleted upstream
  o: "out", // rows an operator emits
  op: "op", // the runtime operator instance
  agg: "spec", // an unwindowed agg's spec
  state: "states", // its states per key
  one: "state", // its one state (no keys)
  dense: "dense", // states of small int keys
  order: "order", // keys in order of first appearance
  first: "first", // small int keys' places in order of first appearance
  view: "view", // the state of the current record's key (an upsert stream from columns)
  col: "col", // one typed array per state field
  final: "final", // an `emit final` table
  wm: "watermarks", // the input watermarks of a union or join
} as const;


export interface EmitOptions {
  /** Module specifiers the generated code imports (the CLI maps them to files when bundling). */
  runtime?: string;
  ops?: string;
  stdlib?: string;
  /** Print JavaScript instead of TypeScript (the playground loads it without a compiler). */
  javascript?: boolean;
  /**
   * Count the rows each node emits in `FlowGraph.counts` (indexed by node id) — for the
   * playground's graph view. Off by default: it costs an increment per row per node.
   */
  instrument?: boolean;
}

/** Builds one function body: its statements (a syntax tree) and fresh local names. */
class Body {
  private readonly items: J.Stmt[] = [];
  /** The statement list being added to: a nested loop's body while one is open. */
  private readonly open: J.Stmt[][] = [];
  readonly taken = new Set<string>(["r", "t", "k", "l", "rt", "s"]);
  stmt(s: J.Stmt) {
    (this.open.length ? this.open[this.open.length - 1]! : this.items).push(s);
  }
  /** Adds `make(body)`; statements then go into `body` until `close()`. */
  nest(make: (body: J.Stmt[]) => J.Stmt) {
    const inner: J.Stmt[] = [];
    this.stmt(make(inner));
    this.open.push(inner);
  }
  close() {
    this.open.pop();
  }
  get stmts(): J.Stmt[] {
    return this.items;
  }
  get size(): number {
    return this.items.length;
  }
  /** Binds `js` to a fresh const (a statement before the current one); its name. */
  hoist = (js: J.Expr, hint: string): J.Expr => {
    const n = localName(hint, this.taken);
    this.stmt(J.constDecl(n, js));
    return J.id(n);
  };
}

/** What a generated loop keeps around its body: agg states in locals (see inlineAgg). */
interface LoopState {
  before: Body;
  after: Body;
  /** A stage dropped a record with the loop's skip statement (see sourceCase). */
  skipUsed: boolean;
  taken: Set<string>;
  aggs: Map<NodeId, { state: string; seen: string; byRef: boolean; fields: Map<string, string> }>;
}

/** A source's statements in a generated loop: before it, in it (per record) and after it. */
interface LoopBody {
  before: J.Stmt[];
  body: J.Stmt[];
  after: J.Stmt[];
  skipUsed: boolean;
}

/** One field of an agg's state class. */
interface StateField {
  name: string;
  /** TypeScript type when the initial value does not say it. */
  type?: string;
  init: J.Expr;
  /** A set, sketch or list: updated in place, never reassigned. */
  byRef?: boolean;
}

/** A value held in the variable `name`. */
const jsVar = (name: string): Value => ({ kind: "js", js: J.id(name) });
/** An empty line between class members. */
const BLANK_MEMBER: J.Member = { kind: "blank" };

/** A method of a generated class: parameters `[name, TypeScript type]`. */
function method(name: string, params: [string, string][], ret: string, body: J.Stmt[], doc?: string): Extract<J.Member, { kind: "method" }> {
  return { kind: "method", name, params: params.map(([n, t]) => J.param(n, t)), ret, body, ...(doc !== undefined ? { doc } : {}) };
}

/** The constructor of a spec whose results are guarded: it is given the failure report. */
const failedCtor: J.Member = { kind: "ctor", params: [J.param("failed", "(error: unknown) => void", "private readonly")], body: [], inline: true };

/** `try { body } catch (e) { this.failed(e); return undefined; }`: a failing built-in drops the row. */
const catchFailure = (body: J.Stmt[]): J.Stmt[] => [J.tryStmt(body, "e", [J.exprStmt(J.call(J.thisMember("failed"), [J.id("e")])), J.ret(J.UNDEFINED)])];

/** `s.x` and `o.x`: a field of a state (`o`: the other state in `merge`). */
const sf = (x: string): J.Expr => J.member(S, x);
const of = (x: string): J.Expr => J.member(J.id("o"), x);
/** `target op value;` */
const set = (target: J.Expr, value: J.Expr, op: J.AssignOp = "="): J.Stmt => J.exprStmt(J.assign(target, value, op));
const inc = (target: J.Expr): J.Stmt => J.exprStmt(J.update("++", target));
const notNull = (x: J.Expr): J.Expr => J.binary("!==", x, J.NULL);
/** `{ a; b; }` on one line. */
const both = (...stmts: J.Stmt[]): J.Stmt => J.block(stmts, true);

/** `k >= 0 && k < size && (k | 0) === k`: key k is a small int. */
const smallInt = (size: number): J.Expr => J.chain("&&", [J.binary(">=", K, J.num(0)), J.binary("<", K, J.num(size)), J.binary("===", J.paren(J.binary("|", K, J.num(0))), K)]);

/** `JSON.stringify(x)`. */
const jsonStringify = (x: J.Expr): J.Expr => J.callMethod(J.id("JSON"), "stringify", [x]);
/** The names generated methods give their parameters: record, time, key, watermark, row. */
const R = J.id("r"), TIME = J.id("t"), K = J.id("k"), WM = J.id("wm"), ROW = J.id("row"), S = J.id("s");

export function emitTypeScript(p: Plan, source: string, opts: EmitOptions = {}): string {
  return new Emitter(p, source, opts).module();
}

class Emitter {
  private readonly names = new TypeNames();
  private readonly stdlib = new Set<string>();
  private readonly ops = new Set<string>();
  private readonly users: Map<NodeId, NodeId[]>;
  private readonly order: Node[];
  private readonly lines: LineIndex;
  private readonly classes: string[] = [];
  /** FlowGraph's fields, and its constructor's statements. */
  private readonly fields: J.Member[] = [];
  private readonly init: J.Stmt[] = [];
  private readonly methods: J.Member[] = [];
  private readonly schemas = new Map<string, { name: string; data: J.Data }>();
  /** The schema constant of each type object already asked for. */
  private readonly schemaOf = new Map<Type, string>();
  private readonly liveSources: Extract<Node, { kind: "source" }>[];
  private readonly g: Graph;
  /** Aggs whose result method catches a failing built-in and then returns undefined. */
  private readonly guardedAggs = new Set<NodeId>();
  /** Whether an operator spec or node method can throw on a record (see loopBody), once known. */
  private specsThrow: boolean | undefined = undefined;
  /** The sources each generated loop method has a case for (Program.loops). */
  private readonly loopSources = { range: [] as number[], batch: [] as number[], pull: [] as number[] };
  /** Set while a generated loop's body is being written. */
  private loop: LoopState | undefined = undefined;

  constructor(private readonly plan: Plan, private readonly source: string, private readonly opts: EmitOptions) {
    this.g = plan.graph;
    this.users = new Map([...plan.nodes].map(([id, p]) => [id, p.consumers]));
    this.order = plan.order;
    this.lines = new LineIndex(source);
    this.liveSources = plan.sources;
    this.po = { types: opts.javascript !== true };
  }

  // ---- helpers -------------------------------------------------------------------------------

  private readonly po: PrintOptions;
  /** `private member(params): void { body }`: one of node `id`'s methods (see m). */
  private nodeMethod(id: NodeId, role: keyof typeof MEMBER_ROLES, params: [string, string][], body: J.Stmt[], doc?: string) {
    this.methods.push({ ...method(this.m(id, role), params, "void", body, doc), modifiers: "private" });
  }
  /** A module-level declaration printed ("" when JavaScript has nothing of it). */
  private decl(d: J.Decl): string {
    return printDecl(d, this.po) ?? "";
  }

  private get js(): boolean {
    return this.opts.javascript === true;
  }
  /** A field assigned in the constructor (only TypeScript declares it). */
  private declare(name: string, type: string, modifiers = "private readonly"): J.Member {
    return { kind: "field", name, modifiers, type };
  }
  /** A field with its initial value. */
  private field(name: string, modifiers: string | undefined, init: J.Expr, type?: string, doc?: string): J.Member {
    return { kind: "field", name, ...(modifiers ? { modifiers } : {}), init, ...(type !== undefined ? { type } : {}), ...(doc !== undefined ? { doc } : {}) };
  }
  /** Node `id`'s runtime operator: its field of type `type`, made in the constructor by `make`. */
  private operator(id: NodeId, type: string, make: J.Expr) {
    this.fields.push(this.declare(this.m(id, "op"), type));
    this.keeps(id, this.m(id, "op"));
    this.init.push(J.exprStmt(J.assign(J.thisMember(this.m(id, "op")), make)));
  }
  /** `(row, t) => this.out(row, t)`: an operator's rows, to node `id`'s out method. */
  private outCallback(id: NodeId): J.Expr {
    return J.arrow([J.param("row"), J.param("t")], J.call(J.thisMember(this.m(id, "o")), [ROW, TIME]));
  }
  /** An updating operator's callbacks: `(row, t, k) => this.out(row, t, k)`, `(k, t) => this.delete(k, t)`. */
  private updatingCallbacks(id: NodeId): J.Expr[] {
    return [
      J.arrow([J.param("row"), J.param("t"), J.param("k")], J.call(J.thisMember(this.m(id, "o")), [ROW, TIME, K])),
      J.arrow([J.param("k"), J.param("t")], J.call(J.thisMember(this.m(id, "d")), [K, TIME])),
    ];
  }

  /** Set when code printed since it was last cleared calls a stdlib function that can throw. */
  private throwing = false;
  private use = (name: string) => {
    this.stdlib.add(name);
    if (THROWING_EXPORTS.has(name)) this.throwing = true;
    return name;
  };

  /**
   * A generated member's name: what its node does (plan), the member's role and the node id —
   * `filterBids_n3` (records), `windowAggBids_op4` (the operator), `windowAggBids_watermark4`.
   */
  private m(id: NodeId, role: keyof typeof MEMBER_ROLES): string {
    return `${this.plan.nodes.get(id)!.member}_${MEMBER_ROLES[role]}${id}`;
  }

  private where(span: { start: number; end: number }): string {
    return `${this.g.file}:${this.lines.at(span.start).line}`;
  }

  /** `// file:7  where price > 1000` — the first line of the stage's source text. */
  private comment(span: { start: number; end: number }): J.Stmt {
    return J.comment(`${this.where(span)}  ${this.stageText(span)}`);
  }

  /** The first line of a stage's source text, shortened to 90 characters. */
  private stageText(span: { start: number; end: number }): string {
    const text = this.source.slice(span.start, span.end).split(/\r\n|[\n\r\u2028\u2029]/)[0]!.trim();
    return text.length > 90 ? text.slice(0, 87) + "..." : text;
  }

  private schema(t: Type): string {
    const known = this.schemaOf.get(t);
    if (known !== undefined) return known;
    // Equal schemas share one constant: keyed by their data.
    const data = schemaData(t);
    const k = JSON.stringify(data);
    let s = this.schemas.get(k);
    if (!s) {
      s = { name: `SCHEMA_${this.schemas.size + 1}`, data };
      this.schemas.set(k, s);
    }
    this.schemaOf.set(t, s.name);
    return s.name;
  }

  private typeName(t: Type, hint: string, doc?: string): string {
    return t.kind === "record" ? this.names.declare(t, hint, doc) : this.names.ts(t);
  }

  /** The TypeScript type of the records a node emits. */
  private nodeType(n: Node): string {
    if (n.kind === "source") {
      const t = this.sourceType(n);
      return this.typeName(t, n.decl.type.kind === "record" && n.decl.type.name ? n.decl.type.name : `${n.decl.name}Record`, `${this.where(n.decl.span)} — ${n.keep && n.decl.type.kind === "record" && n.keep.length < n.decl.type.fields.length ? "only the fields the program reads are decoded" : "records of source " + n.decl.name}`);
    }
    if (n.kind === "output") return this.typeName(n.type, n.decl.name, `${this.where(n.decl.span)} — rows of output ${n.decl.name}`);
    const hint = n.kind === "agg" ? `Agg${n.id}Row` : n.kind === "join" ? `Join${n.id}Row` : `Row${n.id}`;
    // A record type equal to an output's gets the output's name (declared first below).
    return this.typeName(n.type, hint);
  }

  /** A source's records as the program sees them (projection pushdown already narrowed the type). */
  private sourceType(n: Extract<Node, { kind: "source" }>): Type {
    return n.type;
  }

  /** The element type a node receives. */
  private inputType(n: Node): Type {
    switch (n.kind) {
      case "chain":
      case "agg":
      case "top":
      case "distinct":
      case "rolling":
      case "output":
        return this.g.nodes.get(n.input)!.type;
      default:
        return n.type;
    }
  }

  /**
   * The type of a node's elements before projection pushdown: late records are written whole
   * (the driver decodes them whole when --late is given).
   */
  private wholeType(id: NodeId): Type {
    const n = this.g.nodes.get(id)!;
    if (n.kind === "source") return n.decl.type;
    if (passesElementsThrough(n)) return this.wholeType(n.input);
    return n.type;
  }

  private nodeTypeById(id: NodeId): string {
    return this.nodeType(this.g.nodes.get(id)!);
  }

  // ---- delivery: what a node does with each record it emits -------------------------------------

  /** `this.member(args);` for member `role` of node `id`. */
  private callSelf(id: NodeId, role: keyof typeof MEMBER_ROLES, args: J.Expr[]): J.Stmt {
    return J.exprStmt(J.call(J.thisMember(this.m(id, role)), args));
  }
  /** `this.op.method(args);` on the runtime operator of node `id`. */
  private callOp(id: NodeId, method: string, args: J.Expr[]): J.Stmt {
    return J.exprStmt(J.callMethod(J.thisMember(this.m(id, "op")), method, args));
  }
  /** `this.counts[id]++;` (instrumented builds). */
  private count(id: NodeId): J.Stmt {
    return J.exprStmt(J.update("++", J.index(J.thisMember("counts"), J.num(id))));
  }

  /** Statements handing `row` (time `t`, upsert key `k`) from node `from` to every consumer. */
  private deliver(from: Node, row: J.Expr, t: J.Expr, body: Body, k: J.Expr = K, value?: Value) {
    if (this.opts.instrument) body.stmt(this.count(from.id));
    // A join of a stream with itself is its consumer twice (once per side); it is handed the
    // record once on each side.
    const joins = new Set<NodeId>();
    for (const cid of this.users.get(from.id) ?? []) {
      const c = this.g.nodes.get(cid)!;
      if (c.kind === "join" && joins.has(cid)) continue;
      joins.add(cid);
      switch (c.kind) {
        case "chain":
          body.stmt(this.callSelf(c.id, "n", c.upsert ? [row, t, k] : [row, t]));
          break;
        case "union":
          body.stmt(this.callSelf(c.id, "n", from.updating ? [row, t, k] : [row, t]));
          break;
        case "agg":
          if (from.updating) body.stmt(this.callOp(c.id, "upsert", [k, row, t]));
          else if (this.loop !== undefined && this.plan.nodes.get(c.id)!.agg!.inlineInLoops) this.inlineAgg(c, value ?? { kind: "js", js: row }, body, this.loop);
          // Tumbling windows (carried ones group by time, a tumbling window of 1 ms) have their own
          // entry; instrumented builds keep `push`, which the playground's tracer wraps.
          else if (c.window) body.stmt(this.callOp(c.id, (c.window.carried || c.window.kind === "tumbling") && !this.opts.instrument ? "pushTumbling" : "push", [row, t]));
          else body.stmt(this.callSelf(c.id, "n", [row, t]));
          break;
        case "top":
          if (from.updating) body.stmt(this.callOp(c.id, "upsert", [k, row, t]));
          else body.stmt(this.callOp(c.id, "push", [row, t]));
          break;
        case "distinct":
        case "rolling":
          body.stmt(this.callOp(c.id, "push", [row, t]));
          break;
        case "join":
          if (c.left === from.id) body.stmt(this.callOp(c.id, "pushLeft", [row, t]));
          if (c.right === from.id) body.stmt(this.callOp(c.id, "pushRight", [row, t]));
          break;
        case "output":
          if (this.opts.instrument) body.stmt(this.count(c.id));
          if (c.decl.final) body.stmt(J.exprStmt(J.callMethod(J.thisMember(this.m(c.id, "final")), "upsert", [k, row])));
          else if (from.updating) body.stmt(J.exprStmt(J.call(J.thisMember(`change${c.output}`), [k, row])));
          else body.stmt(J.exprStmt(J.call(J.thisMember(`emit${c.output}`), [row])));
          break;
        case "source":
          break;
      }
    }
  }

  /** Statements passing a deletion of key `k` (time `t`) downstream, to what keeps a table. */
  private deliverDelete(from: Node, body: Body) {
    for (const cid of this.users.get(from.id) ?? []) {
      const c = this.g.nodes.get(cid)!;
      if ((c.kind === "chain" || c.kind === "union") && this.hasDeleteConsumers(c)) body.stmt(this.callSelf(c.id, "d", [K, TIME]));
      if (c.kind === "output") body.stmt(J.exprStmt(c.decl.final ? J.callMethod(J.thisMember(this.m(c.id, "final")), "remove", [K]) : J.call(J.thisMember(`change${c.output}`), [K, J.UNDEFINED])));
      if ((c.kind === "agg" || c.kind === "top") && !c.window) body.stmt(this.callOp(c.id, "remove", [K, TIME]));
    }
  }

  private hasDeleteConsumers(n: Node): boolean {
    return this.plan.nodes.get(n.id)!.carriesDeletes;
  }

  /** Does a watermark reaching this node matter (a stateful operator at or below it)? */
  private needsWatermark(n: Node): boolean {
    return this.plan.nodes.get(n.id)!.needsWatermark;
  }

  /** Statements passing watermark `wm` from node `from` downstream. */
  private deliverWatermark(from: Node, wm: J.Expr, body: Body) {
    const joins = new Set<NodeId>(); // a self-join: see deliver
    for (const cid of this.users.get(from.id) ?? []) {
      const c = this.g.nodes.get(cid)!;
      if (c.kind === "output" || !this.needsWatermark(c)) continue;
      if (c.kind === "join" && joins.has(cid)) continue;
      joins.add(cid);
      if (c.kind === "union") c.inputs.forEach((i, idx) => i === from.id && body.stmt(this.callSelf(c.id, "w", [J.num(idx), wm])));
      else if (c.kind === "join") {
        if (c.left === from.id) body.stmt(this.callSelf(c.id, "w", [J.num(0), wm]));
        if (c.right === from.id) body.stmt(this.callSelf(c.id, "w", [J.num(1), wm]));
      } else body.stmt(this.callSelf(c.id, "w", [wm]));
    }
  }

  // ---- nodes -----------------------------------------------------------------------------------

  private emitNode(n: Node) {
    switch (n.kind) {
      case "source":
        return this.emitSource(n);
      case "chain":
        return this.emitChain(n);
      case "union":
        return this.emitUnion(n);
      case "agg":
        return this.emitAgg(n);
      case "top":
        return this.emitTop(n);
      case "distinct":
        return this.emitDistinct(n);
      case "rolling":
        return this.emitRolling(n);
      case "join":
        return this.emitJoin(n);
      case "output":
        return this.emitOutput(n);
    }
  }

  private emitSource(n: Extract<Node, { kind: "source" }>) {
    const T = this.nodeType(n);
    const b = new Body();
    if (n.updating) this.changeSourceStatements(n, b);
    this.deliver(n, R, TIME, b);
    this.nodeMethod(n.id, "n", [["r", T], ["t", "number"]], b.stmts, `${this.where(n.decl.span)} — records of \`${n.decl.name}\`.`);
    if (!this.needsWatermark(n)) return;
    const w = new Body();
    this.deliverWatermark(n, WM, w);
    this.nodeMethod(n.id, "w", [["wm", "number"]], w.stmts);
  }

  /**
   * A source of changes (§13): each record is an upsert of its key's row, or (marked by the
   * runtime's decoder) a delete of its key.
   */
  private changeSourceStatements(n: Extract<Node, { kind: "source" }>, b: Body) {
    const T = n.decl.type as RecordT;
    const el: TExpr = { kind: "var", name: ELEMENT_REF, type: T, span: n.decl.span };
    const parts: TExpr[] = (n.decl.key ?? []).map((f) => ({ kind: "get", object: el, field: f, type: T.fields.find((x) => x.name === f)!.type, span: n.decl.span }));
    this.ops.add("Key").add("isDelete");
    b.stmt(J.constDecl("k", this.keyJs(parts, b), "Key"));
    const isDelete = J.call(J.id("isDelete"), [R]);
    if (!this.hasDeleteConsumers(n)) {
      b.stmt(J.trailing(J.ifStmt(isDelete, J.ret()), "nothing downstream keeps a table"));
      return;
    }
    const d = new Body();
    this.deliverDelete(n, d);
    b.stmt(J.ifStmt(isDelete, J.block([...d.stmts, J.ret()])));
  }

  private emitChain(n: Extract<Node, { kind: "chain" }>) {
    const inT = this.nodeTypeById(n.input);
    const b = new Body();
    this.chainStatements(n, b, "return");
    const ops = [...new Set(n.ops.map((o) => (o.kind === "project" ? o.what : o.kind)))].join(", ");
    const lastLine = this.lines.at(n.spans[n.spans.length - 1]!.start).line;
    const span = `${this.where(n.spans[0]!)}${lastLine !== this.lines.at(n.spans[0]!.start).line ? `–${lastLine}` : ""}`;
    const ps: [string, string][] = [["r", inT], ["t", "number"]];
    if (n.upsert) ps.push(["k", "Key"]);
    this.nodeMethod(n.id, "n", [...ps], b.stmts, `${span} — ${ops}${n.ops.length > 1 ? " fused into one pass" : ""}.`);
    if (n.upsert) this.ops.add("Key");
    if (n.upsert && this.hasDeleteConsumers(n)) {
      const d = new Body();
      this.deliverDelete(n, d);
      this.nodeMethod(n.id, "d", [["k", "Key"], ["t", "number"]], d.stmts);
    }
    if (!this.needsWatermark(n)) return;
    const w = new Body();
    this.deliverWatermark(n, WM, w);
    this.nodeMethod(n.id, "w", [["wm", "number"]], w.stmts);
  }

  /**
   * The statements of a chain over element `r` at time `t`, ending with the delivery to its
   * consumers; `skip` drops the element (`return` in the chain's method, `continue` in a loop).
   */
  private chainStatements(n: Extract<Node, { kind: "chain" }>, b: Body, skipOuter: "return" | "continue" | "break rec") {
    const env: ExprEnv = { vars: new Map<string, Value>([[ELEMENT_REF, jsVar("r")]]), hoist: b.hoist, use: this.use, js: this.js };
    const skipStmt = (x: string): J.Stmt => (x === "return" ? J.ret() : x === "continue" ? J.continueStmt() : J.breakStmt("rec"));
    let skip: string = skipOuter;
    let loops = 0;
    const needsDelete = n.upsert && this.hasDeleteConsumers(n);
    // In an upsert chain a failing `where` deletes the key from downstream tables.
    const onReject = needsDelete ? J.block([this.callSelf(n.id, "d", [K, TIME]), J.ret()], true) : undefined;
    for (const op of n.ops) {
      b.stmt(this.comment(op.span));
      this.emitOp(op, env, b, () => {
        if (this.loop !== undefined && skip === skipOuter) this.loop.skipUsed = true;
        return skipStmt(skip);
      }, onReject);
      if (op.kind === "unnest") {
        skip = "continue";
        loops++;
      }
    }
    const v = env.vars.get(ELEMENT_REF)!;
    const consumersCount = (this.users.get(n.id) ?? []).length;
    let row = valueJs(v);
    // A record built from fields is an object literal: build it once for several consumers.
    if (consumersCount > 1 && v.kind === "fields") row = b.hoist(row, "row");
    this.deliver(n, row, TIME, b, K, v);
    while (loops-- > 0) b.close();
  }

  /**
   * `pushRange(source, from, to, t)`: a `range()` source's loop generated with its stages fused
   * in, so the integers never cross a call boundary. Only when no step can throw (a throwing
   * built-in must drop just its record, which the driver's per-record path does).
   */
  private rangeLoop(): J.Member | undefined {
    const cases: J.Case[] = [];
    this.liveSources.forEach((src, i) => {
      if (src.decl.connector.kind !== "range") return;
      const loop = this.loopBody(src);
      if (loop === undefined) return;
      const r = J.id("r");
      cases.push(this.loopCase(i, loop, (body) => J.forStmt(J.letDecl("r", J.id("from")), J.binary("<", r, J.id("to")), J.update("++", r), body), [], [J.ret(J.bool(true))]));
      this.loopSources.range.push(i);
    });
    if (cases.length === 0) return undefined;
    const params: [string, string][] = [["source", "number"], ["from", "number"], ["to", "number"], ["t", "number"]];
    return method("pushRange", params, "boolean", [J.switchStmt(J.id("source"), cases), J.ret(J.bool(false))], "Whole runs of a `range()` source: the loop with the stages fused in.");
  }

  /**
   * One source's case of a generated loop method: `head` makes the loop around its body, which
   * starts with `first`; `done` ends the case.
   */
  private loopCase(i: number, loop: LoopBody, head: (body: J.Stmt) => J.Stmt, first: J.Stmt[], done: J.Stmt[]): J.Case {
    const body = [...loop.before, head(J.block([...first, ...loop.body])), ...loop.after, ...done];
    return { test: J.num(i), body, block: loop.before.length > 0 || loop.after.length > 0 };
  }

  /**
   * The statements handling one record `r` of a source inside a generated loop, if allowed:
   * `body` goes inside the loop, `before` and `after` around it (aggregate states held in locals).
   */
  private loopBody(src: Extract<Node, { kind: "source" }>, skip: "continue" | "break rec" = "continue"): LoopBody | undefined {
    const users = this.users.get(src.id) ?? [];
    const b = new Body();
    const loop: LoopState = { before: new Body(), after: new Body(), skipUsed: false, taken: b.taken, aggs: new Map() };
    this.loop = loop;
    // Anything downstream (operator specs included) that can throw rules the fast path out:
    // everything printed so far (all nodes are printed before any loop) tells.
    this.specsThrow ??= this.throwing;
    this.throwing = false;
    try {
      const only = users.length === 1 ? this.g.nodes.get(users[0]!)! : undefined;
      if (only?.kind === "chain" && !only.upsert) this.chainStatements(only, b, skip);
      else this.deliver(src, R, TIME, b);
    } finally {
      this.loop = undefined;
    }
    if (this.specsThrow || this.throwing) return undefined;
    for (const [id, a] of loop.aggs) {
      const st = J.id(a.state), one = J.thisMember(this.m(id, "one"));
      const store = a.byRef ? J.exprStmt(J.assign(one, st)) : J.ifStmt(J.binary("===", st, J.UNDEFINED), J.exprStmt(J.assign(one, J.assign(st, J.newExpr(J.id(`Agg${id}State`))))));
      const back = [...a.fields].map(([f, local]) => J.exprStmt(J.assign(J.member(st, f), J.id(local))));
      loop.after.stmt(J.ifStmt(J.id(a.seen), J.block([store, ...back])));
    }
    return { before: loop.before.stmts, body: b.stmts, after: loop.after.stmts, skipUsed: loop.skipUsed };
  }

  /**
   * Inside a generated loop, the update of an unwindowed agg without keys read only by `emit
   * final`: its state fields live in locals for the whole loop (registers, not memory), written
   * back after it — the loop a careful engineer writes for a reduction.
   */
  private inlineAgg(n: Extract<Node, { kind: "agg" }>, value: Value, b: Body, loop: LoopState) {
    const id = n.id;
    let a = loop.aggs.get(id);
    if (a === undefined) {
      const state = localName(`s${id}`, loop.taken);
      const seen = localName(`seen${id}`, loop.taken);
      // Sets, sketches and lists are updated in place: their state exists before the loop. Else
      // the state is made after the loop (allocating before it measurably slows V8's loop).
      const byRef = this.stateFields(id).some((f) => f.byRef);
      const one = J.thisMember(this.m(id, "one"));
      loop.before.stmt(byRef ? J.constDecl(state, J.binary("??", one, J.newExpr(J.id(`Agg${id}State`)))) : J.letDecl(state, one));
      loop.before.stmt(J.letDecl(seen, J.bool(false)));
      a = { state, seen, byRef, fields: new Map() };
      loop.aggs.set(id, a);
    }
    const agg = a;
    const inits = new Map(this.stateFields(id).map((f) => [f.name, f.init]));
    const st = J.id(agg.state);
    const local = (f: string): J.Expr => {
      if (agg.byRef) return J.member(st, f);
      let name = agg.fields.get(f);
      if (name === undefined) {
        name = localName(`${agg.state}_${f}`, loop.taken);
        agg.fields.set(f, name);
        loop.before.stmt(J.letDecl(name, J.cond(J.binary("!==", st, J.UNDEFINED), J.member(st, f), inits.get(f)!)));
      }
      return J.id(name);
    };
    b.stmt(this.comment(n.spans[0]!));
    b.stmt(J.exprStmt(J.assign(J.id(agg.seen), J.bool(true))));
    const env: ExprEnv = { vars: new Map([[ELEMENT_REF, value]]), hoist: b.hoist, use: this.use, js: this.js };
    for (const c of this.plan.nodes.get(id)!.agg!.calls) this.aggregate(c, b, new Body(), env, true, local);
  }

  /**
   * `pushBatch(source, records, t, maxT)`: a decoded batch of a source looped over in generated
   * code with the stages fused in. Event time comes from each record (`t` is the batch's arrival
   * time for other sources); where stages need watermarks, the loop raises the source's watermark
   * after each record that brings a new largest time, exactly as the driver's per-record path does.
   * Returns the source's new largest time.
   */
  private batchLoop(): J.Member | undefined {
    const cases = this.sourceCases("batch");
    if (cases.length === 0) return undefined;
    const params: [string, string][] = [["source", "number"], ["records", "readonly unknown[]"], ["t", "number"], ["maxT", "number"]];
    return method("pushBatch", params, "number", [J.switchStmt(J.id("source"), cases), J.ret(J.num(NaN))], "Whole batches of a source: the loop with the stages fused in.");
  }

  /**
   * `pullBatch(source, items, max, t, st, slow)`: up to `max` items of a synchronous iterable,
   * pulled, validated by the source's generated decoder and pushed through the fused stages in one
   * loop — no batch array, so a record that the stages do not keep is never stored. An item the
   * generated decoder does not accept goes to `slow` (the general decoder, which reports bad ones).
   */
  private pullLoop(): J.Member | undefined {
    const cases = this.sourceCases("pull");
    if (cases.length === 0) return undefined;
    const params: [string, string][] = [["source", "number"], ["items", "Iterator<unknown>"], ["max", "number"], ["t", "number"], ["st", "PullState"], ["slow", "(item: unknown, k: number) => unknown"]];
    return method("pullBatch", params, "boolean", [J.switchStmt(J.id("source"), cases), J.ret(J.bool(false))], "Items of a source given as an iterable: pulled, decoded and pushed in one loop.");
  }

  /** The cases of pushBatch or pullBatch: one per source that can have the loop. */
  private sourceCases(kind: "batch" | "pull"): J.Case[] {
    const cases: J.Case[] = [];
    this.liveSources.forEach((src, i) => {
      const c = this.sourceCase(kind, src, i);
      if (c === undefined) return;
      cases.push(c);
      this.loopSources[kind].push(i);
    });
    return cases;
  }

  private sourceCase(kind: "batch" | "pull", src: Extract<Node, { kind: "source" }>, i: number): J.Case | undefined {
    if (src.decl.connector.kind === "range") return undefined;
    const decode = this.decoders.get(src.id)?.value;
    if (kind === "pull" && decode === undefined) return undefined;
    const et = src.decl.eventTime;
    const wm = this.needsWatermark(src);
    // A labelled block, so that a dropped record still reaches the watermark step after it
    // (printed again without the block when no stage drops records).
    const labelled = wm && et ? this.loopBody(src, "break rec") : undefined;
    const loop = labelled?.skipUsed ? labelled : this.loopBody(src, "continue");
    if (loop === undefined) return undefined;
    const T = this.nodeType(src);
    const j = J.id("j"), k = J.id("k"), x = J.id("x"), st = J.id("st"), maxT = J.id("maxT");
    const time = et?.field !== undefined ? [J.constDecl("t", J.member(R, et.field))] : [];
    const undef = (e: J.Expr) => J.binary("===", e, J.UNDEFINED);
    let head: (body: J.Stmt) => J.Stmt, first: J.Stmt[];
    if (kind === "batch") {
      head = (body) => J.forStmt(J.letDecl("j", J.num(0)), J.binary("<", j, J.member(J.id("records"), "length")), J.update("++", j), body);
      first = [J.constDecl("r", J.as(J.index(J.id("records"), j), T)), ...time];
    } else {
      const value = J.member(x, "value");
      head = (body) => J.forStmt(undefined, J.binary("<", k, J.id("max")), J.update("++", k), body);
      first = [
        J.constDecl("x", J.callMethod(J.id("items"), "next")),
        J.ifStmt(J.binary("===", J.member(x, "done"), J.bool(true)), J.block([J.exprStmt(J.assign(J.member(st, "done"), J.bool(true))), J.breakStmt()])),
        J.letDecl("r", J.call(J.id(decode!), [value])),
        J.ifStmt(undef(R), J.block([J.exprStmt(J.assign(R, J.as(J.call(J.id("slow"), [value, k]), `${T} | undefined`))), J.ifStmt(undef(R), J.continueStmt())])),
        ...time,
      ];
    }
    const before = kind === "pull" ? { ...loop, before: [...loop.before, J.letDecl("maxT", J.member(st, "maxTime")), J.letDecl("k", J.num(0))] } : loop;
    const done = kind === "pull" ? [J.exprStmt(J.assign(J.member(st, "maxTime"), maxT)), J.exprStmt(J.assign(J.member(st, "count"), k, "+=")), J.ret(J.bool(true))] : [J.ret(maxT)];
    // The watermark step: after each record that brings a new largest time (SourceClock.observe).
    const raise = (wmArg: J.Expr) => J.ifStmt(J.binary(">", TIME, maxT), J.block([J.exprStmt(J.assign(maxT, TIME)), this.callSelf(src.id, "w", [wmArg])]));
    if (!wm) return this.loopCase(i, before, head, first, done);
    if (et) {
      const step = raise(et.delayMs ? J.binary("-", TIME, J.num(et.delayMs)) : TIME);
      const body = loop.skipUsed ? [J.labelled("rec", J.block(loop.body))] : loop.body;
      return this.loopCase(i, { ...before, body: [...body, step] }, head, first, done);
    }
    // Arrival time: one time per batch, the watermark raised after it.
    return this.loopCase(i, before, head, first, [raise(TIME), ...done]);
  }

  private emitOp(op: ChainOp, env: ExprEnv, b: Body, skip: () => J.Stmt, onReject: J.Stmt | undefined) {
    switch (op.kind) {
      case "where": {
        // emitExpr parenthesizes every operator expression, so `!` applies to the whole condition.
        const cond = J.not(emitExpr(op.cond, env));
        const drop = skip();
        b.stmt(J.ifStmt(cond, onReject && drop.kind === "return" ? onReject : drop));
        return;
      }
      case "project": {
        if (op.expr.kind === "record") {
          const fields = new Map<string, J.Expr>();
          const values = op.expr.fields.map((f) => ({ name: f.name, js: emitExpr(f.value, env), simple: isSimple(f.value) }));
          for (const f of values) fields.set(f.name, f.simple ? f.js : b.hoist(f.js, f.name));
          env.vars.set(ELEMENT_REF, { kind: "fields", fields, order: values.map((f) => f.name) });
        } else {
          const js = emitExpr(op.expr, env);
          env.vars.set(ELEMENT_REF, { kind: "js", js: isSimple(op.expr) ? js : b.hoist(js, "v") });
        }
        return;
      }
      case "unnest": {
        const inT = op.inType as RecordT;
        const cur = env.vars.get(ELEMENT_REF)!;
        const get = (f: string) => (cur.kind === "fields" ? cur.fields.get(f)! : J.member(cur.js, f));
        const arr = b.hoist(get(op.field), op.field);
        const x = localName(op.as, b.taken);
        const optional = inT.fields.find((f) => f.name === op.field)!.type.kind === "optional";
        // The rest of the chain goes inside the loop (closed by chainStatements).
        b.nest((inner) => {
          const loop = J.forOf("const", x, arr, J.block(inner));
          return optional ? J.ifStmt(J.binary("!==", arr, J.NULL), loop) : loop;
        });
        const fields = new Map<string, J.Expr>();
        const order: string[] = [];
        for (const f of (op.outType as RecordT).fields) {
          order.push(f.name);
          fields.set(f.name, f.name === op.as ? J.id(x) : get(f.name));
        }
        env.vars.set(ELEMENT_REF, { kind: "fields", fields, order });
        return;
      }
      case "lookup": {
        const k = emitExpr(op.key, env);
        const row = localName(op.alias, b.taken);
        b.stmt(J.constDecl(row, J.binary("??", J.callMethod(J.thisMember(`table${op.table}`), "get", [k]), J.NULL)));
        const cur = env.vars.get(ELEMENT_REF)!;
        const fields = new Map<string, J.Expr>();
        const order: string[] = [];
        for (const f of (op.outType as RecordT).fields) {
          order.push(f.name);
          fields.set(f.name, f.name === op.alias ? J.id(row) : cur.kind === "fields" ? cur.fields.get(f.name)! : J.member(cur.js, f.name));
        }
        env.vars.set(ELEMENT_REF, { kind: "fields", fields, order });
        this.tablesUsed.add(op.table);
        return;
      }
    }
  }

  private readonly tablesUsed = new Set<number>();

  /** The graph members that hold each node's state, in declaration order (checkpoints, §12). */
  private readonly stateMembers = new Map<NodeId, string[]>();
  /** The classes whose instances are state: generated `AggNState`s and stdlib sketches. */
  private readonly stateClasses = new Set<string>();

  private keeps(id: NodeId, ...members: string[]) {
    const list = this.stateMembers.get(id) ?? [];
    for (const m of members) if (!list.includes(m)) list.push(m);
    this.stateMembers.set(id, list);
  }

  private emitUnion(n: Extract<Node, { kind: "union" }>) {
    const T = this.nodeType(n);
    const b = new Body();
    this.deliver(n, R, TIME, b);
    const ps: [string, string][] = [["r", T], ["t", "number"]];
    if (n.updating) ps.push(["k", "Key"]);
    this.nodeMethod(n.id, "n", [...ps], b.stmts, `${this.where(n.spans[0]!)} — union: records pass in reading order.`);
    if (n.updating && this.hasDeleteConsumers(n)) {
      // A union of updating streams (§13): each input's deletes pass on as they are.
      const d = new Body();
      this.deliverDelete(n, d);
      this.nodeMethod(n.id, "d", [["k", "Key"], ["t", "number"]], d.stmts);
    }
    this.multiInputWatermark(n, n.inputs.length, undefined);
  }

  /**
   * Multi-input nodes: the output watermark is the smallest input watermark. `advance` passes it
   * to the node's operator; `eachInput` runs first for every input's watermark.
   */
  private multiInputWatermark(n: Node, inputs: number, advance: ((wm: J.Expr) => J.Stmt) | undefined, eachInput?: J.Stmt) {
    if (!this.needsWatermark(n)) {
      if (eachInput) throw new Error("internal: an operator that needs every input watermark needs watermarks");
      return;
    }
    const wmOut = `wmOut${n.id}`;
    this.fields.push(this.field(this.m(n.id, "wm"), "private readonly", J.array(new Array(inputs).fill(J.num(-Infinity)))), this.field(wmOut, "private", J.num(-Infinity)));
    this.keeps(n.id, this.m(n.id, "wm"), wmOut);
    const b = new Body();
    const [w, i, wm, min, quiet, active] = ["w", "i", "wm", "min", "quiet", "active"].map(J.id) as [J.Expr, J.Expr, J.Expr, J.Expr, J.Expr, J.Expr];
    const wAt = (j: number) => J.nonNull(J.index(w, J.num(j)));
    const setWm = J.exprStmt(J.assign(J.index(w, i), wm));
    b.stmt(J.constDecl("w", J.thisMember(this.m(n.id, "wm"))));
    const idleInputs = this.plan.nodes.get(n.id)!.idleInputs;
    if (idleInputs) {
      // Sources with `idle` (§10): an input whose sources are all idle does not hold the node
      // back; when every input is idle, the smallest watermark above −∞. `i < 0`: an idle change.
      b.stmt(J.ifStmt(J.binary(">=", i, J.num(0)), setWm));
      if (eachInput) b.stmt(eachInput);
      b.stmt(J.letDecl("min", J.num(Infinity)));
      b.stmt(J.letDecl("quiet", J.num(Infinity)));
      b.stmt(J.letDecl("active", J.num(0)));
      idleInputs.forEach((srcs, j) => {
        const take = J.block([J.exprStmt(J.update("++", active)), J.ifStmt(J.binary("<", wAt(j), min), J.exprStmt(J.assign(min, wAt(j))))], true);
        if (!srcs.some((x) => this.plan.idleSources.includes(x))) return b.stmt(take);
        const idle = J.chain("&&", srcs.map((x) => J.binary("===", J.index(J.thisMember("idleNow"), J.num(x)), J.num(1))));
        const lower = J.ifStmt(J.binary("&&", J.binary(">", wAt(j), J.num(-Infinity)), J.binary("<", wAt(j), quiet)), J.exprStmt(J.assign(quiet, wAt(j))));
        b.stmt(J.ifStmt(J.not(J.paren(idle)), take, lower));
      });
      b.stmt(J.ifStmt(J.binary("===", active, J.num(0)), J.exprStmt(J.assign(min, J.cond(J.binary("===", quiet, J.num(Infinity)), J.num(-Infinity), quiet)))));
    } else {
      b.stmt(setWm);
      if (eachInput) b.stmt(eachInput);
      b.stmt(J.constDecl("min", inputs === 2 ? J.cond(J.binary("<", wAt(0), wAt(1)), wAt(0), wAt(1)) : J.callMethod(J.id("Math"), "min", [J.spread(w)])));
    }
    b.stmt(J.ifStmt(J.binary("<=", min, J.thisMember(wmOut)), J.ret()));
    b.stmt(J.exprStmt(J.assign(J.thisMember(wmOut), min)));
    if (advance) b.stmt(advance(min));
    this.deliverWatermark(n, min, b);
    this.nodeMethod(n.id, "w", [["i", "number"], ["wm", "number"]], b.stmts);
  }

  private singleInputWatermark(n: Node, advance: J.Stmt | undefined) {
    if (!this.needsWatermark(n)) return;
    const b = new Body();
    if (advance) b.stmt(advance);
    this.deliverWatermark(n, WM, b);
    this.nodeMethod(n.id, "w", [["wm", "number"]], b.size ? b.stmts : [J.comment("stateless for watermarks")]);
  }

  /** `if (this.onOperatorRow !== undefined) this.onOperatorRow(id, row, t);` (instrumented builds). */
  private operatorRow(id: NodeId): J.Stmt {
    const hook = J.thisMember("onOperatorRow");
    return J.ifStmt(J.binary("!==", hook, J.UNDEFINED), J.exprStmt(J.call(hook, [J.num(id), ROW, TIME])));
  }

  /** The method a stateful operator's emit callback calls: deliver its rows downstream. */
  private outMethod(n: Node, T: string) {
    const b = new Body();
    if (this.opts.instrument) b.stmt(this.operatorRow(n.id));
    this.deliver(n, ROW, TIME, b);
    this.nodeMethod(n.id, "o", [["row", T], ["t", "number"]], b.stmts);
  }

  /**
   * A late record is written as its whole record: the schema is the declared type, not the
   * projected one (the driver decodes records whole when --late is given).
   */
  private lateCallback(inputType: Type, n: Node): J.Expr {
    // The operator, as metrics label it (`file:line stage`, §10).
    const stage = n.kind === "rolling" ? "extend" : n.kind === "agg" && n.window ? "window agg" : n.kind;
    return J.arrow([J.param("row")], J.callMethod(J.thisMember("ctx"), "late", [ROW, J.id(this.schema(inputType)), J.str(`${this.where(n.spans[0]!)} ${stage}`)]));
  }

  /** Window argument of an operator. Carried windows group derived rows by their time (end − 1). */
  private windowArg(w: WindowInfo): J.Expr {
    const props = w.carried ? [J.prop("kind", J.str("tumbling")), J.prop("size", J.num(1))] : w.kind === "hop" ? [J.prop("kind", J.str("hop")), J.prop("size", J.num(w.size)), J.prop("slide", J.num(w.slide!))] : [J.prop("kind", J.str("tumbling")), J.prop("size", J.num(w.size))];
    return J.object(props);
  }

  /** The arguments of a spec whose results are guarded: `(e) => this.ctx.failed(e, "file:line stage")`. */
  private failedArgs(guarded: boolean, n: Node, stage: string): J.Expr[] {
    return guarded ? [J.arrow([J.param("e")], J.callMethod(J.thisMember("ctx"), "failed", [J.id("e"), J.str(`${this.where(n.spans[0]!)} ${stage}`)]))] : [];
  }

  /** JS of a grouping key over element `r` (plus extra parts such as distinct values). */
  private keyJs(parts: TExpr[], body: Body, varName = "r", extra: J.Expr[] = []): J.Expr {
    const env: ExprEnv = { vars: new Map([[ELEMENT_REF, jsVar(varName)]]), hoist: body.hoist, use: this.use, js: this.js };
    const js = [...extra, ...parts.map((p) => emitExpr(p, env))];
    if (js.length === 0) return J.num(0);
    if (js.length === 1) {
      const t = parts.length === 1 ? stripOptional(parts[0]!.type) : undefined;
      // Maps compare by SameValueZero: numbers, strings and booleans key directly.
      if (!t || ["int", "float", "string", "bool", "time", "duration"].includes(t.kind)) return js[0]!;
      return jsonStringify(js[0]!);
    }
    // The text JSON.stringify([...]) gives, built directly (no array, no generic serializer):
    // ints, times, durations and bools print as String() does; strings and floats (NaN and ±∞
    // print as null) go through JSON.stringify one by one.
    const raw = (t: Type | undefined) => t !== undefined && ["int", "time", "duration", "bool"].includes(t.kind);
    const texts = js.map((x, i) => (i < extra.length || raw(parts[i - extra.length]!.type) ? x : jsonStringify(x)));
    return J.chain("+", [J.str("["), ...texts.flatMap((x, i) => (i === 0 ? [x] : [J.str(","), x])), J.str("]")]);
  }

  private emitAgg(n: Extract<Node, { kind: "agg" }>) {
    const inT = this.nodeTypeById(n.input);
    const outT = this.nodeType(n);
    this.aggStateClass(n);
    const guarded = this.aggSpecClass(n, inT, outT);
    const id = n.id;
    const spec = J.newExpr(J.id(`Agg${id}`), this.failedArgs(guarded, n, "agg"));
    const w = n.window;
    if (this.plan.nodes.get(id)!.agg!.reaggregates) return this.reAgg(n, inT, outT, spec);
    if (!w) return this.unwindowedAgg(n, inT, spec, guarded);
    const op = aggOperator(w) === "sessionAgg" ? "SessionAgg" : "WindowAgg";
    this.ops.add(op);
    const first = op === "SessionAgg" ? J.num(w.size) : this.windowArg(w);
    this.operator(id, `${op}<${inT}, Agg${id}State, ${outT}>`, J.newExpr(J.id(op), [first, spec, this.outCallback(id), this.lateCallback(this.wholeType(n.input), n)]));
    this.outMethod(n, outT);
    this.singleInputWatermark(n, this.callOp(id, "advance", [WM]));
  }

  /**
   * Re-aggregation (§13): the runtime's ReAgg keeps the groups of an updating input — a state
   * with `retract` when every aggregate takes a row back in constant space, else the rows.
   */
  private reAgg(n: Extract<Node, { kind: "agg" }>, inT: string, outT: string, newSpec: J.Expr) {
    const id = n.id;
    this.ops.add("ReAgg");
    this.operator(id, `ReAgg<${inT}, Agg${id}State, ${outT}>`, J.newExpr(J.id("ReAgg"), [newSpec, ...this.updatingCallbacks(id)]));
    this.updatingOutMethods(n, outT);
    this.singleInputWatermark(n, undefined);
  }

  /** The methods an updating operator's callbacks call: its upserts and deletes, downstream. */
  private updatingOutMethods(n: Node, T: string) {
    const b = new Body();
    if (this.opts.instrument) b.stmt(this.operatorRow(n.id));
    this.deliver(n, ROW, TIME, b);
    this.nodeMethod(n.id, "o", [["row", T], ["t", "number"], ["k", "Key"]], b.stmts);
    const d = new Body();
    this.deliverDelete(n, d);
    this.nodeMethod(n.id, "d", [["k", "Key"], ["t", "number"]], d.size ? d.stmts : [J.comment("nothing downstream keeps a table")]);
  }

  /** `AggNState`: the state of one key (in one window) — exactly the fields the agg list needs. */
  private aggStateClass(n: Extract<Node, { kind: "agg" }>) {
    const w = n.window;
    // An upsert stream from the columns store reuses one state as the view of each record's key
    // (columnsStore): its key field is set per record.
    const view = this.aggStore(n) === "columns" && !this.finalOnly(n);
    const ctorParams = n.keys.map((k, i) => J.param(`k${i}`, this.names.ts(k.type), view ? "public" : "readonly"));
    if (w?.carried && w.kind === "session") ctorParams.push(J.param("ws", "number", "readonly"));
    const fields = this.stateFields(n.id).map((x) => this.field(x.name, x.byRef ? "readonly" : undefined, x.init, x.type));
    this.stateClasses.add(`Agg${n.id}State`);
    this.classes.push(this.decl({
      kind: "class",
      name: `Agg${n.id}State`,
      doc: `${this.where(n.spans[0]!)} — state of one key${w ? " in one window" : ""}.`,
      members: [...fields, { kind: "ctor", params: ctorParams, body: [], inline: true }],
    }));
  }

  /**
   * `AggN`: the agg's spec (key, init, add, result, merge) for the runtime's operators. Returns
   * whether its result is guarded: a failing built-in in an item drops that row (reported),
   * never the firing of a window.
   */
  private aggSpecClass(n: Extract<Node, { kind: "agg" }>, inT: string, outT: string): boolean {
    const id = n.id;
    const st = `Agg${id}State`;
    const w = n.window;
    const carriedSession = w?.carried && w.kind === "session";
    const aggPlan = this.plan.nodes.get(id)!.agg!;
    const inEnv = (b: Body): ExprEnv => ({ vars: new Map([[ELEMENT_REF, jsVar("r")]]), hoist: b.hoist, use: this.use, js: this.js });
    const add = new Body();
    const merge = new Body();
    const results = aggPlan.calls.map((c) => this.aggregate(c, add, merge, inEnv(add), !w));
    const keyBody = new Body();
    const windowStart = J.member(R, "window_start");
    const keyJs = this.keyJs(n.keys.map((k) => k.expr), keyBody, "r", carriedSession ? [windowStart] : []);
    const initBody = new Body();
    const initEnv = inEnv(initBody);
    const initArgs = n.keys.map((k) => emitExpr(k.expr, initEnv));
    if (carriedSession) initArgs.push(windowStart);
    const { body: resultBody, guarded } = this.aggResultBody(n, results);
    if (guarded) this.guardedAggs.add(id);
    const mergeable = aggPlan.mergeable && n.aggs.length > 0;
    const itemsText = n.items.map((i) => i.name).join(", ");
    const specType = aggPlan.retract !== "none" ? "ReAggSpec" : "AggSpec";
    this.ops.add(specType).add("Key");
    const flag = (name: string): J.Member => ({ kind: "field", name, modifiers: "readonly", init: J.bool(true) });
    const members: J.Member[] = [
      ...(mergeable ? [flag("orderInsensitive")] : []),
      ...(aggPlan.retract === "exact" ? [flag("exactRetract")] : []),
      ...(n.keys.length === 0 && !carriedSession ? [flag("keyless")] : []),
      method("key", [["r", inT]], "Key", [...keyBody.stmts, J.ret(keyJs)]),
      method("init", [["r", inT]], st, [...initBody.stmts, J.ret(J.newExpr(J.id(st), initArgs))]),
      method("add", [["s", st], ["r", inT], ["t", "number"]], "void", add.stmts),
      ...(guarded ? [failedCtor] : []),
      method("result", [["s", st], ["ws", "number"], ["we", "number"]], guarded ? `${outT} | undefined` : outT, resultBody),
      ...(mergeable ? [method("merge", [["s", st], ["o", st]], "void", merge.stmts)] : []),
      ...(mergeable ? [method("empty", [["s", st]], st, [J.ret(J.newExpr(J.id(st), [...n.keys.map((_, i) => J.member(J.id("s"), `k${i}`)), ...(carriedSession ? [J.member(J.id("s"), "ws")] : [])]))])] : []),
      ...(aggPlan.retract !== "none" ? [method("retract", [["s", st], ["r", inT]], "boolean", this.retractBody(aggPlan.calls, inEnv))] : []),
    ];
    this.classes.push(this.decl({
      kind: "class",
      name: `Agg${id}`,
      doc: `${this.where(n.spans[0]!)} — agg ${itemsText}${n.keys.length ? ` by ${n.keys.map((k) => k.name).join(", ")}` : ""}.`,
      implements: `${specType}<${inT}, ${st}, ${outT}>`,
      members,
    }));
    return guarded;
  }

  /** The body of `result(s, ws, we)`: the row's fields, wrapped in a catch when an item can fail. */
  private aggResultBody(n: Extract<Node, { kind: "agg" }>, results: J.Expr[]): { body: J.Stmt[]; guarded: boolean } {
    const w = n.window;
    const res = new Body();
    const s = J.id("s");
    const resEnv: ExprEnv = { vars: new Map(), hoist: res.hoist, use: this.use, js: this.js, aggRef: (i) => results[i]!, keyRef: (i) => J.member(s, `k${i}`) };
    const outFields: J.Prop[] = [];
    if (w) outFields.push(J.prop("window_start", !w.carried ? J.id("ws") : w.kind === "session" ? J.member(s, "ws") : J.binary("-", J.id("we"), J.num(w.size))), J.prop("window_end", J.id("we")));
    n.keys.forEach((k, i) => outFields.push(J.prop(k.name, J.member(s, `k${i}`))));
    // What the items call is caught here, so it does not count as throwing (no fast-loop veto).
    const throwingBefore = this.throwing;
    this.throwing = false;
    for (const item of n.items) outFields.push(J.prop(item.name, emitExpr(item.expr, resEnv)));
    const guarded = this.throwing;
    this.throwing = throwingBefore;
    res.stmt(J.ret(J.object(outFields)));
    return { body: guarded ? catchFailure(res.stmts) : res.stmts, guarded };
  }

  /**
   * An unwindowed agg: an upsert stream. State per key; every input emits its key's updated row
   * (or, read only by `emit final`, nothing until the end). The state lives where the plan says.
   */
  private unwindowedAgg(n: Extract<Node, { kind: "agg" }>, inT: string, newSpec: J.Expr, guarded: boolean) {
    const id = n.id;
    const spec = this.m(id, "agg");
    const b = new Body();
    b.stmt(this.comment(n.spans[0]!));
    this.fields.push(this.field(spec, "private readonly", newSpec));
    const store = this.aggStore(n);
    if (store === "one") this.oneStateStore(n, b);
    else if (store === "columns") this.columnsStore(n, b);
    else if (store === "dense") this.denseStore(n, b);
    else this.mapStore(n, b);
    const S = J.id("s");
    // The columns store's own statements update the state (no state object).
    if (store !== "columns") b.stmt(J.exprStmt(J.callMethod(J.thisMember(spec), "add", [S, R, TIME])));
    const finalOnly = this.finalOnly(n);
    if (!finalOnly) {
      b.stmt(J.constDecl("row", J.callMethod(J.thisMember(spec), "result", [S, J.num(NaN), J.num(NaN)])));
      if (guarded) b.stmt(J.ifStmt(J.binary("===", ROW, J.UNDEFINED), J.ret()));
      this.deliver(n, ROW, TIME, b);
    }
    const what = finalOnly ? "only `emit final` reads it: rows are made from the state when the input ends" : "emits the updated row of the input's key";
    this.nodeMethod(id, "n", [["r", inT], ["t", "number"]], b.stmts, `${this.where(n.spans[0]!)} — unwindowed agg: ${what}.`);
    this.singleInputWatermark(n, undefined);
  }

  /** No keys: one state. */
  private oneStateStore(n: Extract<Node, { kind: "agg" }>, b: Body) {
    const one = this.m(n.id, "one");
    this.fields.push(this.field(one, "private", J.UNDEFINED, `Agg${n.id}State | undefined`));
    this.keeps(n.id, one);
    b.stmt(J.constDecl("k", J.num(0)));
    b.stmt(J.letDecl("s", J.thisMember(one)));
    b.stmt(J.ifStmt(J.binary("===", S, J.UNDEFINED), J.exprStmt(J.assign(J.thisMember(one), J.assign(S, this.initState(n.id))))));
  }

  /** `this.spec.init(r)`: a new state for record `r`. */
  private initState(id: NodeId): J.Expr {
    return J.callMethod(J.thisMember(this.m(id, "agg")), "init", [R]);
  }

  /** `const k = this.spec.key(r) as number;` (the plan knows the key is a small int or another key). */
  private smallKey(id: NodeId): J.Stmt {
    return J.constDecl("k", J.as(J.callMethod(J.thisMember(this.m(id, "agg")), "key", [R]), "number"));
  }

  /**
   * One int key, counts and sums only: one typed array per state field (see AggStore) — indexed
   * by the key for keys 0 … DENSE − 1, by the key's slot in a SlotColumns for the others. No
   * object per key and no array of keys beside them (the order of first appearance is the small
   * keys' places and the slots' order): a checkpoint copies nothing while the loop waits (§12
   * "Pause"). The add statements are the aggregates' own, on `this.…_col1_a0[k]` and
   * `cols[0]![i]` for state field a0. Read only by `emit final`, nothing else happens per record;
   * otherwise each record's row is made from a state `s` filled from the key's columns.
   */
  private columnsStore(n: Extract<Node, { kind: "agg" }>, b: Body) {
    if (n.keys[0]!.type.kind === "string") return this.stringColumnsStore(n, b);
    const id = n.id;
    const [first, col, state] = [this.m(id, "first"), this.m(id, "col"), this.m(id, "state")];
    const { fields, adds, slotCol, slotOfK, slotNote, viewOfK } = this.slotColumns(id, state);
    this.keeps(id, first, ...fields.map((f) => `${col}_${f.name}`), state);
    this.ops.add("SlotColumns");
    const typed = (array: string) => J.newExpr(J.id(array), [J.num(DENSE)]);
    this.fields.push(
      this.field(first, "private readonly", typed("Float64Array"), undefined, `Keys 0 … ${DENSE - 1}: \`${first}[k]\` is 1 + k's place in order of first appearance (0: not yet); one typed array per state field, indexed by the key. Other keys have a slot in ${state}.`),
      ...fields.map((f) => this.field(`${col}_${f.name}`, "private readonly", typed("Float64Array"))),
      this.field(state, "private readonly", J.newExpr(J.id("SlotColumns"), [J.num(fields.length)]), undefined, `Other keys: ${slotNote}`),
    );
    const firstK = J.index(J.thisMember(first), K);
    const smallCol = (f: string) => J.index(J.thisMember(`${col}_${f}`), K);
    const newFirst = J.ifStmt(J.binary("===", firstK, J.num(0)), J.exprStmt(J.assign(firstK, J.callMethod(J.thisMember(state), "smallKey"))));
    b.stmt(this.smallKey(id));
    if (this.finalOnly(n)) {
      b.stmt(J.ifStmt(smallInt(DENSE), J.block([newFirst, ...adds(smallCol), J.ret()])));
      for (const st of [...slotOfK(true), ...adds(slotCol)]) b.stmt(st);
      return;
    }
    // An upsert stream: the key's updated row, from one state object reused as the view of the
    // record's key (its fields filled from the key's columns; `result` only reads it) — no
    // object per record.
    b.stmt(J.letDecl("i", J.num(-1)));
    b.stmt(J.ifStmt(smallInt(DENSE), J.block([newFirst, ...adds(smallCol)]), J.block([...slotOfK(false), ...adds(slotCol)])));
    const fill = (at: (f: string) => J.Expr) => fields.map((f) => J.exprStmt(J.assign(J.member(S, f.name), at(f.name))));
    for (const st of viewOfK(J.num(0))) b.stmt(st);
    b.stmt(J.ifStmt(
      J.binary("<", J.id("i"), J.num(0)),
      J.block(fill(smallCol)),
      J.block([J.constDecl("cols", J.member(J.thisMember(state), "cols")), ...fill(slotCol)]),
    ));
  }

  /**
   * One string key, counts and sums only: as `columnsStore` without small keys — every key has a
   * slot in a StringSlotColumns (`cols[0]![i]` for state field a0), slots in order of first
   * appearance.
   */
  private stringColumnsStore(n: Extract<Node, { kind: "agg" }>, b: Body) {
    const id = n.id;
    const state = this.m(id, "state");
    const { fields, adds, slotCol, slotOfK, slotNote, viewOfK } = this.slotColumns(id, state);
    this.keeps(id, state);
    this.ops.add("StringSlotColumns");
    this.fields.push(this.field(state, "private readonly", J.newExpr(J.id("StringSlotColumns"), [J.num(fields.length)]), undefined, `Every key: ${slotNote}`));
    b.stmt(J.constDecl("k", J.as(J.callMethod(J.thisMember(this.m(id, "agg")), "key", [R]), "string")));
    for (const st of [...slotOfK(true), ...adds(slotCol)]) b.stmt(st);
    if (this.finalOnly(n)) return;
    // An upsert stream: the row made from the view of the record's key, as in columnsStore.
    for (const st of viewOfK(J.str(""))) b.stmt(st);
    for (const f of fields) b.stmt(J.exprStmt(J.assign(J.member(S, f.name), slotCol(f.name))));
  }

  /**
   * What the slot stores (SlotColumns, StringSlotColumns in `state`) print alike: the aggregates'
   * add statements on any column (`adds`), state field f at slot i (`slotCol`), key k's slot
   * found or added and its columns made writable (`slotOfK`: `i` declared, or assigned), the
   * field comment, and the view state of an upsert stream (declared with the key `init`).
   */
  private slotColumns(id: NodeId, state: string) {
    const fields = this.stateFields(id);
    const I = J.id("i");
    const slot = new Map(fields.map((f, j) => [f.name, j]));
    const adds = (where: (field: string) => J.Expr): J.Stmt[] => {
      const body = new Body();
      const env: ExprEnv = { vars: new Map([[ELEMENT_REF, jsVar("r")]]), hoist: body.hoist, use: this.use, js: this.js };
      for (const c of this.plan.nodes.get(id)!.agg!.calls) this.aggregate(c, body, new Body(), env, true, where);
      return body.stmts;
    };
    const slotOf = J.callMethod(J.thisMember(state), "slotOf", [K]);
    const slotOfK = (declare: boolean): J.Stmt[] => [
      declare ? J.letDecl("i", slotOf) : J.exprStmt(J.assign(I, slotOf)),
      J.ifStmt(J.binary("<", I, J.num(0)), J.exprStmt(J.assign(I, J.callMethod(J.thisMember(state), "add", [K])))),
      J.constDecl("cols", J.callMethod(J.thisMember(state), "writable", [I])),
    ];
    const viewOfK = (init: J.Expr): J.Stmt[] => {
      const view = this.m(id, "view");
      this.fields.push(this.field(view, "private readonly", J.newExpr(J.id(`Agg${id}State`), [init]), undefined, "The state of the current record's key, filled from its columns to make its row."));
      return [J.constDecl("s", J.thisMember(view)), J.exprStmt(J.assign(J.member(S, "k0"), K))];
    };
    return {
      fields,
      adds,
      slotCol: (f: string) => J.index(J.nonNull(J.index(J.id("cols"), J.num(slot.get(f)!))), I),
      slotOfK,
      slotNote: `state field ${fields.map((f, j) => `${f.name} in cols[${j}]`).join(", ")}, indexed by the key's slot.`,
      viewOfK,
    };
  }

  /** One small int key read only by `emit final`: an array of states indexed by the key. */
  private denseStore(n: Extract<Node, { kind: "agg" }>, b: Body) {
    const id = n.id;
    const st = `Agg${id}State`;
    const [dense, state, order] = [this.m(id, "dense"), this.m(id, "state"), this.m(id, "order")];
    this.keeps(id, dense, state, order);
    this.fields.push(
      this.field(dense, "private readonly", J.callMethod(J.newExpr(J.id("Array"), [J.num(DENSE)], [`${st} | undefined`]), "fill", [J.UNDEFINED]), `(${st} | undefined)[]`, `States of the keys 0 … ${DENSE - 1}; other keys are in ${state}.`),
      this.field(state, "private readonly", J.newExpr(J.id("Map"), [], [`Key, ${st}`])),
      this.field(order, "private readonly", J.array([]), `${st}[]`, "Every state, in order of its key's first appearance."),
    );
    const small = J.id("small"), denseK = J.index(J.thisMember(dense), K);
    b.stmt(this.smallKey(id));
    b.stmt(J.constDecl("small", smallInt(DENSE)));
    b.stmt(J.letDecl("s", J.cond(small, denseK, J.callMethod(J.thisMember(state), "get", [K]))));
    b.stmt(J.ifStmt(J.binary("===", S, J.UNDEFINED), J.block([
      J.exprStmt(J.assign(S, this.initState(id))),
      J.ifStmt(small, J.exprStmt(J.assign(denseK, S)), J.exprStmt(J.callMethod(J.thisMember(state), "set", [K, S]))),
      J.exprStmt(J.callMethod(J.thisMember(order), "push", [S])),
    ])));
  }

  /** Any keys: a Map from key to state (in order of first appearance, as Maps iterate). */
  private mapStore(n: Extract<Node, { kind: "agg" }>, b: Body) {
    const [spec, state] = [this.m(n.id, "agg"), this.m(n.id, "state")];
    this.keeps(n.id, state);
    this.fields.push(this.field(state, "private readonly", J.newExpr(J.id("Map"), [], [`Key, Agg${n.id}State`])));
    b.stmt(J.constDecl("k", J.callMethod(J.thisMember(spec), "key", [R])));
    b.stmt(J.letDecl("s", J.callMethod(J.thisMember(state), "get", [K])));
    b.stmt(J.ifStmt(J.binary("===", S, J.UNDEFINED), J.exprStmt(J.callMethod(J.thisMember(state), "set", [K, J.paren(J.assign(S, this.initState(n.id)))]))));
  }

  /**
   * Prints the update of one aggregate's state (its fields are in the plan) into `add`, the merge
   * of two states into `merge`, and returns the expression of its result over state `s`. Every
   * aggregate but count() skips null inputs.
   */
  private aggregate(cp: AggCallPlan, add: Body, merge: Body, env: ExprEnv, unwindowed: boolean, S: (field: string) => J.Expr = sf): J.Expr {
    const a = cp.call;
    const f = cp.field;
    const argT = a.args[0]?.type;
    const optional = argT?.kind === "optional";
    const v = a.args[0] ? emitExpr(a.args[0], env) : undefined;
    const val = (a.args[0] && !isSimple(a.args[0]) ? add.hoist(v!, "v") : v)!;
    const guard = (stmt: J.Stmt) => add.stmt(optional ? J.ifStmt(notNull(val), stmt) : stmt);
    const mergeSum = () => merge.stmt(set(sf(f), of(f), "+="));
    switch (a.fn) {
      case "count":
        add.stmt(inc(S(f)));
        mergeSum();
        return sf(f);
      case "count_expr":
        guard(inc(S(f)));
        mergeSum();
        return sf(f);
      case "sum":
        if (!optional) {
          add.stmt(set(S(f), val, "+="));
          mergeSum();
          return sf(f);
        }
        add.stmt(J.ifStmt(notNull(val), both(set(S(f), val, "+="), set(S(f + "n"), J.bool(true)))));
        mergeSum();
        merge.stmt(set(sf(f + "n"), of(f + "n"), "||="));
        return J.paren(J.cond(sf(f + "n"), sf(f), J.NULL));
      case "avg":
        if (optional) guard(both(set(S(f), val, "+="), inc(S(f + "c"))));
        else add.stmt(set(S(f), val, "+=")), add.stmt(inc(S(f + "c")));
        mergeSum();
        merge.stmt(set(sf(f + "c"), of(f + "c"), "+="));
        return optional ? J.paren(J.cond(J.binary("===", sf(f + "c"), J.num(0)), J.NULL, J.binary("/", sf(f), sf(f + "c")))) : J.paren(J.binary("/", sf(f), sf(f + "c")));
      case "min":
      case "max": {
        const cmp = a.fn === "min" ? "<" : ">";
        const better = J.paren(J.binary("||", J.binary("===", S(f), J.NULL), J.binary(cmp, val, S(f))));
        add.stmt(J.ifStmt(optional ? J.binary("&&", notNull(val), better) : better, set(S(f), val)));
        merge.stmt(J.ifStmt(J.binary("&&", notNull(of(f)), J.paren(J.binary("||", J.binary("===", sf(f), J.NULL), J.binary(cmp, of(f), sf(f))))), set(sf(f), of(f))));
        return optional ? sf(f) : J.nonNull(sf(f));
      }
      case "first": {
        const unset = J.not(S(f + "s"));
        add.stmt(J.ifStmt(optional ? J.binary("&&", unset, notNull(val)) : unset, both(set(S(f), val), set(S(f + "s"), J.bool(true)))));
        return optional ? sf(f) : J.nonNull(sf(f));
      }
      case "last":
        guard(set(S(f), val));
        return optional ? sf(f) : J.nonNull(sf(f));
      case "count_distinct":
        guard(J.exprStmt(J.callMethod(S(f), "add", [val])));
        merge.stmt(J.forOf("const", "x", of(f), J.exprStmt(J.callMethod(sf(f), "add", [J.id("x")]))));
        return J.member(sf(f), "size");
      case "approx_count_distinct":
        guard(J.exprStmt(J.callMethod(S(f), "add", [val])));
        merge.stmt(J.exprStmt(J.callMethod(sf(f), "merge", [of(f)])));
        return J.callMethod(sf(f), "count");
      case "percentile": {
        guard(J.exprStmt(J.callMethod(S(f), "add", [val])));
        merge.stmt(J.exprStmt(J.callMethod(sf(f), "merge", [of(f)])));
        const p = J.callMethod(sf(f), "value", [J.num(Number(a.param))]);
        return optional ? p : J.nonNull(p);
      }
      case "collect": {
        guard(J.exprStmt(J.callMethod(S(f), "push", [val])));
        const list = unwindowed ? J.callMethod(sf(f), "slice") : sf(f);
        return optional ? J.paren(J.cond(J.binary("===", J.member(sf(f), "length"), J.num(0)), J.NULL, list)) : list;
      }
      case "max_by":
      case "min_by":
        return this.byAggregate(cp, add, env, val, S);
    }
  }

  /** `max_by(v, by)` / `min_by(v, by)`: the value of the record with the largest / smallest key. */
  private byAggregate(cp: AggCallPlan, add: Body, env: ExprEnv, val: J.Expr, S: (field: string) => J.Expr): J.Expr {
    const a = cp.call, f = cp.field;
    const kj = emitExpr(a.args[1]!, env);
    const kv = isSimple(a.args[1]!) ? kj : add.hoist(kj, "by");
    const cmp = a.fn === "max_by" ? ">" : "<";
    // Strict comparison: the first record with the extreme key wins.
    const test = J.binary("&&", notNull(kv), J.paren(J.binary("||", J.binary("===", S(f + "k"), J.NULL), J.binary(cmp, kv, S(f + "k")))));
    add.stmt(J.ifStmt(test, both(set(S(f + "k"), kv), set(S(f), val))));
    const resultNullable = a.args[0]!.type.kind === "optional" || a.args[1]!.type.kind === "optional";
    return resultNullable ? sf(f) : J.nonNull(sf(f));
  }

  /**
   * `retract(s, r)`: takes row r back out of state s; false when it cannot (r held a min, max,
   * first or last value: the group recomputes its state from its rows). See typed.ts `retraction`.
   */
  private retractBody(calls: AggCallPlan[], inEnv: (b: Body) => ExprEnv): J.Stmt[] {
    const b = new Body();
    const env = inEnv(b);
    const sf = (x: string) => J.member(J.id("s"), x);
    for (const cp of calls) {
      const a = cp.call;
      const f = cp.field;
      const optional = a.args[0]?.type.kind === "optional";
      const v = a.args[0] ? emitExpr(a.args[0], env) : undefined;
      const val = (a.args[0] && !isSimple(a.args[0]) ? b.hoist(v!, "v") : v)!;
      const guard = (stmt: J.Stmt) => b.stmt(optional ? J.ifStmt(J.binary("!==", val, J.NULL), stmt) : stmt);
      const dec = (x: string) => J.exprStmt(J.update("--", sf(x)));
      switch (a.fn) {
        case "count":
          b.stmt(dec(f));
          break;
        case "count_expr":
          guard(dec(f));
          break;
        case "sum":
          b.stmt(J.exprStmt(J.assign(sf(f), val, "-=")));
          break;
        case "avg":
          if (optional) guard(J.block([J.exprStmt(J.assign(sf(f), val, "-=")), dec(f + "c")], true));
          else b.stmt(J.exprStmt(J.assign(sf(f), val, "-="))), b.stmt(dec(f + "c"));
          break;
        case "min":
        case "max":
        case "first":
        case "last":
          guard(J.ifStmt(J.binary("===", val, sf(f)), J.ret(J.bool(false))));
          break;
        case "max_by":
        case "min_by": {
          const kj = emitExpr(a.args[1]!, env);
          const kv = isSimple(a.args[1]!) ? kj : b.hoist(kj, "by");
          b.stmt(J.ifStmt(J.binary("&&", J.binary("!==", kv, J.NULL), J.binary("===", kv, sf(f + "k"))), J.ret(J.bool(false))));
          break;
        }
        default:
          throw new Error(`internal: ${a.fn} cannot be retracted`);
      }
    }
    b.stmt(J.ret(J.bool(true)));
    return b.stmts;
  }

  /** `compare(a, b)` for top: < 0 when a ranks first. Nulls rank last. */
  private compareMethod(by: TExpr, desc: boolean, inT: string): J.Member {
    const b = new Body();
    const ea: ExprEnv = { vars: new Map([[ELEMENT_REF, jsVar("a")]]), hoist: b.hoist, use: this.use, js: this.js };
    const x = b.hoist(emitExpr(by, ea), "x");
    const eb: ExprEnv = { vars: new Map([[ELEMENT_REF, jsVar("b")]]), hoist: b.hoist, use: this.use, js: this.js };
    const y = b.hoist(emitExpr(by, eb), "y");
    const isNull = (v: J.Expr) => J.binary("===", v, J.NULL);
    if (by.type.kind === "optional") {
      b.stmt(J.ifStmt(J.binary("||", isNull(x), isNull(y)), J.ret(J.cond(J.binary("===", x, y), J.num(0), J.cond(isNull(x), J.num(1), J.num(-1))))));
    }
    const [first, second] = desc ? [">", "<"] as const : ["<", ">"] as const;
    b.stmt(J.ret(J.cond(J.binary(first, x, y), J.num(-1), J.cond(J.binary(second, x, y), J.num(1), J.num(0)))));
    return method("compare", [["a", inT], ["b", inT]], "number", b.stmts);
  }

  /** `key(r)`: the statements computing a key, then its return. */
  private keyMethod(name: string, v: string, T: string, b: Body, key: J.Expr): J.Member {
    return method(name, [[v, T]], "Key", [...b.stmts, J.ret(key)]);
  }

  private emitTop(n: Extract<Node, { kind: "top" }>) {
    if (!n.window) return this.updatingTop(n);
    const inT = this.nodeTypeById(n.input);
    const kb = new Body();
    const keyJs = this.keyJs(n.keys.map((k) => k.expr), kb);
    this.ops.add("WindowTop").add("TopSpec").add("Key");
    this.classes.push(this.decl({
      kind: "class",
      name: `Top${n.id}`,
      doc: `${this.where(n.spans[0]!)} — top ${n.n} by ${this.source.slice(n.by.span.start, n.by.span.end)}${n.desc ? " desc" : ""}${n.withTies ? " with ties" : ""}.`,
      implements: `TopSpec<${inT}>`,
      members: [this.keyMethod("key", "r", inT, kb, keyJs), this.compareMethod(n.by, n.desc, inT)],
    }));
    this.operator(n.id, `WindowTop<${inT}>`, J.newExpr(J.id("WindowTop"), [this.windowArg(n.window), J.num(n.n), J.bool(n.withTies), J.newExpr(J.id(`Top${n.id}`)), this.outCallback(n.id), this.lateCallback(this.wholeType(n.input), n)]));
    this.outMethod(n, inT);
    this.singleInputWatermark(n, this.callOp(n.id, "advance", [WM]));
  }

  /** `top` without a window (§13): the runtime's UpdatingTop, ranks appended to the rows. */
  private updatingTop(n: Extract<Node, { kind: "top" }>) {
    const inT = this.nodeTypeById(n.input);
    const outT = this.nodeType(n);
    const kb = new Body();
    const keyJs = this.keyJs(n.keys.map((k) => k.expr), kb);
    const outType = n.type as RecordT;
    const fields = outType.fields.filter((f) => f.name !== "rank").map((f) => J.prop(f.name, J.member(R, f.name)));
    // The output key from the row's key fields (keys, rank), as every updating stream's.
    const ob = new Body();
    const el: TExpr = { kind: "var", name: ELEMENT_REF, type: outType, span: n.spans[0]! };
    const keyParts: TExpr[] = [...n.keys.map((k) => k.name), "rank"].map((f) => ({ kind: "get", object: el, field: f, type: outType.fields.find((x) => x.name === f)!.type, span: n.spans[0]! }));
    const outKeyJs = this.keyJs(keyParts, ob);
    this.ops.add("UpdatingTop").add("UpdatingTopSpec").add("Key");
    this.classes.push(this.decl({
      kind: "class",
      name: `Top${n.id}`,
      doc: `${this.where(n.spans[0]!)} — top ${n.n} by ${this.source.slice(n.by.span.start, n.by.span.end)}${n.desc ? " desc" : ""}, without a window: an updating stream of ranks.`,
      implements: `UpdatingTopSpec<${inT}, ${outT}>`,
      members: [
        this.keyMethod("key", "r", inT, kb, keyJs),
        this.compareMethod(n.by, n.desc, inT),
        method("ranked", [["r", inT], ["rank", "number"]], outT, [J.ret(J.object([...fields, { kind: "shorthand", name: "rank" }]))]),
        this.keyMethod("outKey", "r", outT, ob, outKeyJs),
      ],
    }));
    this.operator(n.id, `UpdatingTop<${inT}, ${outT}>`, J.newExpr(J.id("UpdatingTop"), [J.num(n.n), J.newExpr(J.id(`Top${n.id}`)), ...this.updatingCallbacks(n.id)]));
    this.updatingOutMethods(n, outT);
    this.singleInputWatermark(n, undefined);
  }

  private emitDistinct(n: Extract<Node, { kind: "distinct" }>) {
    const inT = this.nodeTypeById(n.input);
    const kb = new Body();
    const parts = [...n.keys.map((k) => k.expr), ...n.values];
    const keyJs = parts.length === 0 ? (this.inputType(n).kind === "record" ? jsonStringify(R) : R) : this.keyJs(parts, kb);
    this.ops.add("Key");
    this.classes.push(this.decl({ kind: "class", name: `Distinct${n.id}`, doc: `${this.where(n.spans[0]!)} — distinct key.`, members: [this.keyMethod("key", "r", inT, kb, keyJs)] }));
    if (n.window) {
      this.ops.add("WindowDistinct");
      this.operator(n.id, `WindowDistinct<${inT}>`, J.newExpr(J.id("WindowDistinct"), [this.windowArg(n.window), J.newExpr(J.id(`Distinct${n.id}`)), this.outCallback(n.id), this.lateCallback(this.wholeType(n.input), n)]));
    } else {
      this.ops.add("TimedDistinct");
      this.operator(n.id, `TimedDistinct<${inT}>`, J.newExpr(J.id("TimedDistinct"), [J.num(n.withinMs ?? Infinity), J.newExpr(J.id(`Distinct${n.id}`)), this.outCallback(n.id)]));
    }
    this.outMethod(n, inT);
    this.singleInputWatermark(n, this.callOp(n.id, "advance", [WM]));
  }

  /**
   * A rolling `extend`: the runtime's `Rolling` operator (buffering to the watermark, frames and
   * accumulators) with a spec class `RollingN` — the key, the values the calls read (computed
   * when a record arrives) and the new element from the record and the calls' results.
   */
  private emitRolling(n: Extract<Node, { kind: "rolling" }>) {
    const id = n.id;
    const inT = this.nodeTypeById(n.input);
    const outT = this.nodeType(n);
    const rp = this.plan.nodes.get(id)!.rolling!;
    const kb = new Body();
    const keyJs = this.keyJs(n.keys.map((k) => k.expr), kb);
    const vb = new Body();
    const venv: ExprEnv = { vars: new Map([[ELEMENT_REF, jsVar("r")]]), hoist: vb.hoist, use: this.use, js: this.js };
    const values = rp.values.map((v) => emitExpr(v, venv));
    // The row is made when the watermark passes the record: a failing built-in there drops the
    // row (reported) and must not count as throwing on push (no fast-loop veto).
    const throwingBefore = this.throwing;
    this.throwing = false;
    const res = new Body();
    const resEnv: ExprEnv = {
      vars: new Map([[ELEMENT_REF, jsVar("r")]]),
      hoist: res.hoist,
      use: this.use,
      js: this.js,
      aggRef: (i) => J.paren(J.as(J.index(J.id("a"), J.num(i)), this.names.ts(n.calls[i]!.type))),
    };
    res.stmt(J.ret(emitExpr(n.expr, resEnv)));
    const guarded = this.throwing;
    this.throwing = throwingBefore;
    const callsText = n.calls.map(rollingCallText).join(", ");
    this.ops.add("Rolling").add("RollingSpec").add("Key");
    this.classes.push(this.decl({
      kind: "class",
      name: `Rolling${id}`,
      doc: `${this.where(n.spans[0]!)} — rolling: ${callsText}${n.keys.length ? ` by ${n.keys.map((k) => k.name).join(", ")}` : ""}.`,
      implements: `RollingSpec<${inT}, ${outT}>`,
      members: [
        ...(guarded ? [failedCtor] : []),
        this.keyMethod("key", "r", inT, kb, keyJs),
        method("values", [["r", inT]], "unknown[]", [...vb.stmts, J.ret(J.array(values))]),
        method("result", [["r", inT], ["a", "readonly unknown[]"]], guarded ? `${outT} | undefined` : outT, guarded ? catchFailure(res.stmts) : res.stmts),
      ],
    }));
    const calls = rp.calls.map((c) => {
      const parts = [J.prop("fn", J.str(c.fn))];
      for (const k of ["range", "rows", "back", "arg", "by", "p"] as const) if (c[k] !== undefined) parts.push(J.prop(k, J.num(c[k])));
      return J.object(parts);
    });
    const spec = J.newExpr(J.id(`Rolling${id}`), this.failedArgs(guarded, n, "extend"));
    this.operator(id, `Rolling<${inT}, ${outT}>`, J.newExpr(J.id("Rolling"), [J.array(calls), spec, this.outCallback(id), this.lateCallback(this.wholeType(n.input), n)]));
    this.outMethod(n, outT);
    this.singleInputWatermark(n, this.callOp(id, "advance", [WM]));
  }

  /** `leftKey(l)` / `rightKey(r)` of a join spec: the equi-join key of one side. */
  private joinKeyMethod(parts: TExpr[], side: typeof LEFT_REF | typeof RIGHT_REF, T: string, name: string): J.Member {
    const v = side === LEFT_REF ? "l" : "r";
    const b = new Body();
    const env: ExprEnv = { vars: new Map([[side, jsVar(v)]]), hoist: b.hoist, use: this.use, js: this.js };
    const js = parts.map((p) => emitExpr(p, env));
    let k: J.Expr = J.num(0);
    if (js.length === 1) k = ["int", "float", "string", "bool", "time", "duration"].includes(stripOptional(parts[0]!.type).kind) ? js[0]! : jsonStringify(js[0]!);
    else if (js.length > 1) {
      // A composite key with a null part never matches (SQL equality).
      const vals = js.map((x, i) => (isSimple(parts[i]!) ? x : b.hoist(x, "p")));
      const anyNull = parts.some((p) => p.type.kind === "optional");
      const whole = jsonStringify(J.array(vals));
      k = anyNull ? J.cond(J.chain("||", vals.map((x) => J.binary("===", x, J.NULL))), J.NULL, whole) : whole;
    }
    return this.keyMethod(name, v, T, b, k);
  }

  /** `combine(l, r[, ws, we])`: the joined row (an outer join pads a missing side with nulls). */
  private combineMethod(n: Extract<Node, { kind: "join" }>, LT: string, RT: string, outT: string): J.Member {
    const windowed = n.mode.kind === "window";
    const kind = n.joinKind;
    const semiOrAnti = kind === "semi" || kind === "anti";
    // The sides an outer join pads with null (§13).
    const lNull = kind === "right" || kind === "full";
    const rNull = kind === "left" || kind === "full";
    const windowFields: J.Prop[] = [];
    const L = J.id("l"), WE = J.id("we");
    if (windowed) {
      const w = (n.mode as { window: WindowInfo }).window;
      windowFields.push(J.prop("window_start", w.carried ? J.binary("-", WE, J.num(w.size)) : J.id("ws")), J.prop("window_end", WE));
    }
    const sides: J.Prop[] = [];
    const combineBody: J.Stmt[] = [];
    if (n.leftAlias) sides.push(J.prop(n.leftAlias, L));
    else {
      const fields = (n.leftType as RecordT).fields;
      for (const f of fields) sides.push(J.prop(f.name, J.member(L, f.name)));
      // A right row padded on the left, when the left is a record of sides.
      if (lNull) combineBody.push(J.ifStmt(J.binary("===", L, J.NULL), J.ret(J.object([...fields.map((f) => J.prop(f.name, J.NULL)), J.prop(n.rightAlias, R), ...windowFields]))));
    }
    sides.push(J.prop(n.rightAlias, R), ...windowFields);
    const windowParams: [string, string][] = windowed ? [["ws", "number"], ["we", "number"]] : [];
    return semiOrAnti
      ? method("combine", [["l", LT]], outT, [J.ret(L)], kind === "semi" ? "A semi join emits the left record of a match itself." : "An anti join emits the unmatched left record itself.")
      : method("combine", [["l", lNull ? `${LT} | null` : LT], ["r", rNull ? `${RT} | null` : RT], ...windowParams], outT, [...combineBody, J.ret(J.object(sides))]);
  }

  private emitJoin(n: Extract<Node, { kind: "join" }>) {
    const LT = this.nodeTypeById(n.left), RT = this.nodeTypeById(n.right), outT = this.nodeType(n);
    const { leftKeys: lk, rightKeys: rk, residual: rest } = this.plan.nodes.get(n.id)!.join!;
    const mb = new Body();
    const menv: ExprEnv = { vars: new Map<string, Value>([[LEFT_REF, jsVar("l")], [RIGHT_REF, jsVar("r")]]), hoist: mb.hoist, use: this.use, js: this.js };
    const matchJs = rest.length ? J.chain("&&", rest.map((c) => emitExpr(c, menv))) : J.bool(true);
    const kind = n.joinKind;
    const inner = kind === "inner";
    const combine = this.combineMethod(n, LT, RT, outT);
    const specName = `Join${n.id}`;
    const specType = n.mode.kind === "window" ? (inner ? "WindowJoinSpec" : "OuterWindowJoinSpec") : inner ? "JoinSpec" : "OuterJoinSpec";
    this.ops.add(specType).add("Key");
    this.classes.push(this.decl({
      kind: "class",
      name: specName,
      doc: `${this.where(n.spans[0]!)} — ${inner ? "" : `${kind} `}join on ${this.source.slice(n.on.span.start, n.on.span.end)}.`,
      implements: `${specType}<${LT}, ${RT}, ${outT}>`,
      members: [this.joinKeyMethod(lk, LEFT_REF, LT, "leftKey"), this.joinKeyMethod(rk, RIGHT_REF, RT, "rightKey"), method("match", [["l", LT], ["r", RT]], "boolean", [...mb.stmts, J.ret(matchJs)]), combine],
    }));
    const emitRow = this.outCallback(n.id);
    const spec = J.newExpr(J.id(specName));
    // A function: each call declares the late records' schemas (an inner interval join has none).
    const late = () => [this.lateCallback(this.wholeType(n.left), n), this.lateCallback(this.wholeType(n.right), n)];
    const type = (op: string) => `${op}<${LT}, ${RT}, ${outT}>`;
    if (n.mode.kind === "window") {
      this.ops.add("WindowJoin");
      // Type arguments: a padded side's `| null` in `combine` would otherwise be inferred into R.
      const make = J.newExpr(J.id("WindowJoin"), [this.windowArg(n.mode.window), spec, emitRow, ...late(), ...(inner ? [] : [J.str(kind)])], inner ? undefined : [LT, RT, outT]);
      this.operator(n.id, type("WindowJoin"), make);
    } else if (inner) {
      this.ops.add("IntervalJoin");
      const [lo, hi] = n.mode.kind === "interval" ? [n.mode.lower, n.mode.upper] : [-Infinity, Infinity];
      this.operator(n.id, type("IntervalJoin"), J.newExpr(J.id("IntervalJoin"), [J.num(lo), J.num(hi), spec, emitRow]));
    } else {
      // The checker lets an outer, semi or anti join through only with bounds or a window.
      if (n.mode.kind !== "interval") throw new Error(`internal: an unbounded ${kind} join`);
      this.ops.add("OuterIntervalJoin");
      this.operator(n.id, type("OuterIntervalJoin"), J.newExpr(J.id("OuterIntervalJoin"), [J.str(kind), J.num(n.mode.lower), J.num(n.mode.upper), spec, emitRow, ...late()]));
    }
    this.outMethod(n, outT);
    // An outer interval join releases unmatched rows by each input's own watermark (§13), so
    // every rise of either reaches it, not only rises of the smaller one.
    const i = J.id("i");
    if (!inner && n.mode.kind === "interval") this.multiInputWatermark(n, 2, undefined, J.ifStmt(J.binary("===", i, J.num(0)), this.callOp(n.id, "advanceLeft", [WM]), J.ifStmt(J.binary("===", i, J.num(1)), this.callOp(n.id, "advanceRight", [WM]))));
    else this.multiInputWatermark(n, 2, (min) => this.callOp(n.id, "advance", [min]));
  }

  /** An unwindowed agg read only by `emit final` outputs (see AggPlan.finalOnly). */
  private finalOnly(n: Node): boolean {
    return this.plan.nodes.get(n.id)!.agg?.finalOnly ?? false;
  }

  /** Where an unwindowed agg keeps its states (see AggStore). */
  private aggStore(n: Node): AggStore {
    return this.plan.nodes.get(n.id)!.agg?.store ?? "map";
  }

  /** The fields of an agg's state class, as the generated code declares them. */
  private stateFields(id: NodeId): StateField[] {
    return this.plan.nodes.get(id)!.agg!.calls.flatMap((c) => c.fields.map((f) => this.stateField(f)));
  }

  private stateField(f: PlannedStateField): StateField {
    const ts = (t: Type | undefined) => (t ? this.names.ts(t) : "unknown");
    switch (f.init) {
      case "zero":
        return { name: f.name, init: J.num(0) };
      case "false":
        return { name: f.name, init: J.bool(false) };
      case "null":
        return { name: f.name, init: J.NULL, type: `${ts(f.holds)} | null` };
      case "set":
        return { name: f.name, init: J.newExpr(J.id("Set"), [], [ts(f.holds)]), byRef: true };
      case "hll":
        this.stateClasses.add("HyperLogLog");
        return { name: f.name, init: J.newExpr(J.id(this.use("HyperLogLog"))), byRef: true };
      case "percentile":
        this.stateClasses.add("Percentile");
        return { name: f.name, init: J.newExpr(J.id(this.use("Percentile"))), byRef: true };
      case "list":
        return { name: f.name, init: J.array([]), type: `${ts(f.holds)}[]`, byRef: true };
    }
  }

  private emitOutput(n: Extract<Node, { kind: "output" }>) {
    const T = this.nodeType(n);
    const emit = `emit${n.output}`, change = `change${n.output}`, ctx = J.id("ctx");
    this.fields.push(this.declare(emit, `(row: ${T}) => void`));
    this.init.push(J.exprStmt(J.assign(J.thisMember(emit), J.nonNull(J.index(J.member(ctx, "emit"), J.num(n.output))))));
    if (n.upsert && !n.decl.final) {
      // The changes of an updating stream (§13); hosts without `change` get the upserts as rows.
      this.fields.push(this.declare(change, `(key: Key, row: ${T} | undefined) => void`));
      const upsertsAsRows: J.Expr = { kind: "arrow", params: [J.param("_k", "Key"), J.param("row", `${T} | undefined`)], body: [J.ifStmt(J.binary("!==", ROW, J.UNDEFINED), J.exprStmt(J.call(J.thisMember(emit), [ROW])))], inline: true };
      this.init.push(J.exprStmt(J.assign(J.thisMember(change), J.binary("??", J.index(J.member(ctx, "change"), J.num(n.output), true), J.paren(upsertsAsRows)))));
    }
    if (n.decl.final && !this.finalOnly(this.g.nodes.get(n.input)!)) {
      this.ops.add("FinalTable");
      this.keeps(n.id, this.m(n.id, "final"));
      this.fields.push(this.field(this.m(n.id, "final"), "private readonly", J.newExpr(J.id("FinalTable"), [], [T]), undefined, `${this.where(n.decl.span)} — emit final: the latest row per key.`));
    }
  }

  // ---- module --------------------------------------------------------------------------------

  module(): string {
    // Outputs first, so their row types get the output's name.
    for (const n of this.order) if (n.kind === "output") this.nodeType(n);
    for (const n of this.order) if (n.kind === "source") this.nodeType(n);
    for (const n of this.order) this.emitNode(n);
    const decoders = this.sourceDecoders();
    const loops = [this.plan.fusedLoops ? this.rangeLoop() : undefined, this.plan.fusedLoops ? this.batchLoop() : undefined, this.plan.fusedLoops ? this.pullLoop() : undefined];
    const graphClass = this.graphClass(loops.filter((l) => l !== undefined));
    const programLiteral = this.decl(this.programLiteral());
    const out: string[] = [printComment(`${this.g.file} — generated by flowc ${FLOWC_VERSION}. Do not edit.`)];
    out.push(...this.imports(decoders, loops[2] !== undefined).map((d) => this.decl(d)).filter((x) => x !== ""), "");
    if (!this.js) out.push(...this.names.decls.map((d) => this.decl(d) + "\n"));
    for (const { name, data } of this.schemas.values()) out.push(this.decl({ kind: "const", name, type: "Schema", init: J.data(data) }));
    if (this.schemas.size) out.push("");
    out.push(...decoders.map((d) => d.code + "\n"));
    out.push(...this.classes.map((c) => c + "\n"));
    out.push(graphClass, programLiteral);
    const runner = (name: string, fn: string, doc: string): J.Decl => ({ kind: "function", name, exported: true, params: [J.param("options", "RunOptions", undefined, J.object([]))], body: [J.ret(J.call(J.id(fn), [J.id("program"), J.id("options")]))], doc });
    out.push("", this.decl(runner("run", "runProgram", "Runs the program: sources may be replaced by iterables and outputs received as callbacks.")));
    out.push("", this.decl(runner("stream", "streamProgram", "Runs the program with every output as an async iterable: `for await (const row of stream().outputs.out1)`.")));
    return out.join("\n") + "\n";
  }

  /** The module's imports: runtime, decoders' helpers, operators, stdlib, user TypeScript. */
  private imports(decoders: GeneratedDecoders[], pull: boolean): J.Decl[] {
    const TYPES = ["Key", "AggSpec", "TopSpec", "JoinSpec", "WindowJoinSpec", "OuterJoinSpec", "OuterWindowJoinSpec", "UpdatingTopSpec", "ReAggSpec", "RollingSpec"];
    const runtime = this.opts.runtime ?? "@flowc/runtime";
    const value = (name: string): J.ImportName => ({ name });
    const type = (name: string): J.ImportName => ({ name, typeOnly: true });
    const out: J.Decl[] = [];
    const contract = ["GraphInstance", "Program", ...(pull ? ["PullState"] : []), "RunContext", "RunOptions", "Schema"];
    out.push({ kind: "import", names: [value("runProgram"), value("streamProgram"), ...contract.map(type)], from: runtime });
    const seen = new Set<string>();
    const decoderImports = decoders.flatMap((d) => [...d.imports.map(value), ...d.typeImports.map(type)]).filter((x) => !seen.has(x.name) && seen.add(x.name));
    if (decoderImports.length) out.push({ kind: "import", names: decoderImports, from: runtime });
    const opsList = [...[...this.ops].filter((x) => x && !TYPES.includes(x)).sort().map(value), ...[...this.ops].filter((x) => TYPES.includes(x)).sort().map(type)];
    if (opsList.length) out.push({ kind: "import", names: opsList, from: this.opts.ops ?? "@flowc/runtime/ops" });
    const stdImports = [...this.stdlib].sort();
    if (stdImports.length) out.push({ kind: "import", names: stdImports.map(value), from: this.opts.stdlib ?? "@flowc/stdlib" });
    // A TypeScript file the program imports is bundled as the JavaScript it compiles to.
    for (const imp of this.g.imports) out.push({ kind: "import", names: imp.names.map(value), from: imp.from.replace(/\.ts$/, ".js") });
    return out;
  }

  /**
   * `idle(source, on)` (§10): a source with `idle` went quiet (or spoke again); every union and
   * join it feeds takes its watermark again without (or with) the inputs now idle.
   */
  private idleMethod(): J.Member[] {
    const b = new Body();
    b.stmt(J.exprStmt(J.assign(J.index(J.thisMember("idleNow"), J.id("source")), J.cond(J.id("on"), J.num(1), J.num(0)))));
    for (const node of this.order) {
      if (this.plan.nodes.get(node.id)!.idleInputs && this.needsWatermark(node)) b.stmt(this.callSelf(node.id, "w", [J.num(-1), J.num(0)]));
    }
    return [
      this.field("idleNow", "private readonly", J.newExpr(J.id("Uint8Array"), [J.num(this.liveSources.length)]), undefined, "Sources that are idle now (1), by index."),
      BLANK_MEMBER,
      method("idle", [["source", "number"], ["on", "boolean"]], "void", b.stmts),
      BLANK_MEMBER,
    ];
  }

  /** `class FlowGraph`: members, constructor, advance, finish, the generated loops, node methods. */
  private graphClass(loops: J.Member[]): string {
    const tables = [...this.tablesUsed].sort();
    const tableFields = tables.map((i) => {
      const t = this.g.tables[i]!;
      const keyT = this.names.ts(t.type.fields.find((f) => f.name === t.key)!.type);
      this.ops.add("Key");
      return this.declare(`table${i}`, `Map<${keyT} | null, ${this.typeName(t.type, t.type.name ?? t.name)}>`);
    });
    const ctx = J.id("ctx");
    const tableInit = tables.map((i) => J.exprStmt(J.assign(J.thisMember(`table${i}`), J.as(J.index(J.member(ctx, "tables"), J.num(i)), "Map<never, never>"))));
    const pushes = this.liveSources.map((s) => J.arrow([J.param("r"), J.param("t")], J.call(J.thisMember(this.m(s.id, "n")), [R, TIME])));
    const advance = this.liveSources.flatMap((s, i): J.Case[] => (this.needsWatermark(s) ? [{ test: J.num(i), body: [this.callSelf(s.id, "w", [WM]), J.breakStmt()], inline: true }] : []));
    const members: J.Member[] = [this.field("push", "readonly", J.array(pushes), "ReadonlyArray<(record: any, time: number) => void>")];
    // Instrumented builds (the playground's tracer) expose their operators and the rows they emit.
    const operatorIds = this.order.filter(hasOperator).map((n) => n.id);
    const init = [...tableInit, ...this.init];
    if (this.opts.instrument) {
      members.push(
        this.field("counts", "readonly", J.callMethod(J.newExpr(J.id("Array"), [J.num(Math.max(...this.g.nodes.keys()) + 1)]), "fill", [J.num(0)]), "number[]", "Rows emitted per node id (instrumented build)."),
        { kind: "field", name: "operators", modifiers: "readonly", type: "Record<number, object>", doc: "The runtime operator of each stateful node, by node id (instrumented build)." },
        this.field("onOperatorRow", undefined, J.UNDEFINED, "((node: number, row: unknown, t: number) => void) | undefined", "Called with every row a stateful operator emits (instrumented build)."),
      );
      init.push(J.exprStmt(J.assign(J.thisMember("operators"), J.object(operatorIds.map((id) => J.prop(String(id), J.thisMember(this.m(id, "op"))))))));
    }
    members.push(...tableFields, ...this.fields, BLANK_MEMBER, { kind: "ctor", params: [J.param("ctx", "RunContext", "private readonly")], body: init }, BLANK_MEMBER);
    if (this.plan.idleSources.length > 0) members.push(...this.idleMethod());
    const watermarks = advance.length ? [J.switchStmt(J.id("source"), advance)] : [J.comment("every stage is stateless: watermarks change nothing")];
    const finish = this.finishBody();
    members.push(method("advance", [["source", "number"], ["wm", "number"]], "void", watermarks), BLANK_MEMBER);
    members.push(method("finish", [], "void", finish.length ? finish : [J.comment("no `emit final` outputs")]), BLANK_MEMBER);
    for (const loop of loops) members.push(loop, BLANK_MEMBER);
    this.methods.forEach((m, i) => members.push(...(i ? [BLANK_MEMBER] : []), m));
    const doc = `The dataflow graph of ${this.g.file}: one method per node, called directly.`;
    return this.decl({ kind: "class", name: "FlowGraph", doc, implements: "GraphInstance", members }) + "\n";
  }

  /** `finish()`: each `emit final` output's table, in order of each key's first appearance. */
  private finishBody(): J.Stmt[] {
    const finals = this.order.filter((n): n is Extract<Node, { kind: "output" }> => n.kind === "output" && n.decl.final);
    return finals.flatMap((f): J.Stmt[] => {
      const emit = (row: J.Expr) => J.exprStmt(J.call(J.thisMember(`emit${f.output}`), [row]));
      const a = this.g.nodes.get(f.input)!;
      if (!this.finalOnly(a)) return [J.forOf("const", "row", J.callMethod(J.thisMember(this.m(f.id, "final")), "rows"), emit(ROW))];
      const id = f.input;
      const store = this.aggStore(a);
      const result = (s: J.Expr) => J.callMethod(J.thisMember(this.m(id, "agg")), "result", [s, J.num(NaN), J.num(NaN)]);
      // A guarded result (see aggSpecClass) is undefined when a built-in failed on that row.
      const emitRow = (row: J.Expr) => (this.guardedAggs.has(id) ? J.block([J.constDecl("row", row), J.ifStmt(J.binary("!==", ROW, J.UNDEFINED), emit(ROW))], true) : emit(row));
      if (store === "one") {
        const s = J.id(`s${id}`);
        return [J.constDecl(`s${id}`, J.thisMember(this.m(id, "one"))), J.ifStmt(J.binary("!==", s, J.UNDEFINED), emitRow(result(s)))];
      }
      if (store === "columns") {
        // A state object per row, filled from the key's column entries (by key, or by slot).
        const fields = this.stateFields(id);
        const I = J.id("i");
        const fill = (at: (field: string, j: number) => J.Expr) => fields.map((c, j) => J.exprStmt(J.assign(J.member(S, c.name), at(c.name, j))));
        if (a.kind === "agg" && a.keys[0]!.type.kind === "string") {
          // String keys: slot i holds the i-th key in order of first appearance.
          const state = J.thisMember(this.m(id, "state"));
          const body = [
            J.constDecl("s", J.newExpr(J.id(`Agg${id}State`), [J.nonNull(J.index(J.id("keys"), I))])),
            ...fill((_, j) => J.index(J.nonNull(J.index(J.id("cols"), J.num(j))), I)),
            emitRow(result(S)),
          ];
          return [J.block([
            J.constDecl("keys", J.callMethod(state, "keysInOrder")),
            J.constDecl("cols", J.member(state, "cols")),
            J.forStmt(J.letDecl("i", J.num(0)), J.binary("<", I, J.member(J.id("keys"), "length")), J.update("++", I), J.block(body)),
          ])];
        }
        const body = [
          J.constDecl("s", J.newExpr(J.id(`Agg${id}State`), [K])),
          J.constDecl("i", J.callMethod(J.thisMember(this.m(id, "state")), "slotOf", [K])),
          J.ifStmt(
            J.binary("<", I, J.num(0)),
            J.block(fill((f) => J.index(J.thisMember(`${this.m(id, "col")}_${f}`), K))),
            J.block([J.constDecl("cols", J.member(J.thisMember(this.m(id, "state")), "cols")), ...fill((_, j) => J.index(J.nonNull(J.index(J.id("cols"), J.num(j))), I))]),
          ),
          emitRow(result(S)),
        ];
        const keys = J.callMethod(J.thisMember(this.m(id, "state")), "keysInOrder", [J.thisMember(this.m(id, "first"))]);
        return [J.forOf("const", "k", keys, J.block(body))];
      }
      const states = store === "dense" ? J.thisMember(this.m(id, "order")) : J.callMethod(J.thisMember(this.m(id, "state")), "values");
      return [J.forOf("const", "s", states, emitRow(result(S)))];
    });
  }

  private readonly decoders = new Map<NodeId, GeneratedDecoders>();
  /** Generated byte decoders (decoder.ts) of the sources that read JSONL or CSV files or stdin, or JSON Kafka and NATS messages. */
  private sourceDecoders(): GeneratedDecoders[] {
    for (const s of this.liveSources) {
      // A computed event time is checked where records are decoded (a null time is bad input):
      // the runtime's general decoders do that.
      if (s.decl.eventTime?.expr !== undefined || s.updating) continue;
      const c = s.decl.connector;
      const format = c.kind === "file" || c.kind === "stdin" ? c.format : messagesJsonl(c, s.decl.type) ? "jsonl" : undefined;
      // Sources of other kinds may still be given JavaScript values (RunOptions.sourceOverrides).
      if (c.kind === "range" || format === "lines") continue;
      const base = localName(s.decl.name, new Set()).replace(/_+$/, "") + "Source";
      const d = emitSourceDecoders(base, s.decl.type, s.keep, { jsonl: format === "jsonl", csv: format === "csv" }, {
        where: this.where(s.decl.span),
        recordType: this.nodeType(s),
        ts: (t) => this.names.ts(t),
        schema: (t) => J.id(this.schema(t)),
        js: this.js,
      });
      if (d) this.decoders.set(s.id, d);
    }
    return [...this.decoders.values()];
  }

  /** `event time EXPR`: the function computing a record's time (null: the record is bad). */
  private eventTimeFunction(s: Extract<Node, { kind: "source" }>, expr: TExpr): J.Expr {
    const b = new Body();
    const env: ExprEnv = { vars: new Map([[ELEMENT_REF, jsVar("r")]]), hoist: b.hoist, use: this.use, js: this.js };
    const js = emitExpr(expr, env);
    return J.arrow([J.param("r", this.nodeType(s))], [...b.stmts, J.ret(js)], "number | null");
  }

  private programLiteral(): J.Decl {
    const conn = (c: { kind: string; [k: string]: unknown }) => J.object(Object.entries(c).map(([k, v]) => J.prop(k, J.json(v))));
    const sources = this.liveSources.map((s) => {
      const d = s.decl;
      const parts = [J.prop("name", J.str(d.name)), J.prop("schema", J.id(this.schema(d.type)))];
      if (s.keep) parts.push(J.prop("keep", J.json(s.keep)));
      if ("format" in d.connector && (d.connector.format === "changelog" || d.connector.format === "debezium")) {
        // Changes arrive as JSON lines; the runtime decodes the envelopes (io/changes.ts).
        parts.push(J.prop("connector", conn({ ...d.connector, format: "jsonl" })), J.prop("changes", J.object([J.prop("format", J.json(d.connector.format)), J.prop("key", J.json(d.key ?? []))])));
      } else parts.push(J.prop("connector", conn(d.connector)));
      const delay = J.prop("delayMs", J.num(d.eventTime?.delayMs ?? 0));
      if (d.eventTime?.field !== undefined) parts.push(J.prop("eventTime", J.object([J.prop("field", J.str(d.eventTime.field)), delay])));
      else if (d.eventTime?.expr !== undefined) parts.push(J.prop("eventTime", J.object([J.prop("of", this.eventTimeFunction(s, d.eventTime.expr)), delay])));
      if (d.idleMs !== undefined) parts.push(J.prop("idleMs", J.num(d.idleMs)));
      const decode = this.decoders.get(s.id);
      if (decode) parts.push(J.prop("decode", decode.spec));
      return J.object(parts);
    });
    const tables = this.g.tables.map((t) => J.object([J.prop("name", J.str(t.name)), J.prop("schema", J.id(this.schema(t.type))), J.prop("connector", conn(t.connector)), J.prop("key", J.json(t.key))]));
    const outputs = this.g.outputs.map((o) => {
      const parts = [J.prop("name", J.str(o.name)), J.prop("schema", J.id(this.schema(o.pipeline.out.element)))];
      if (o.sink) parts.push(J.prop("connector", conn(o.sink)));
      if (o.pipeline.out.upsertKeys && !o.final) parts.push(J.prop("key", J.json(o.pipeline.out.upsertKeys)));
      return J.object([...parts, J.prop("final", J.bool(o.final))]);
    });
    const list = (items: J.Expr[]) => J.array(items, true);
    const nums = (xs: number[]) => J.array(xs.map(J.num));
    const loops = J.object([J.prop("range", nums(this.loopSources.range)), J.prop("batch", nums(this.loopSources.batch)), J.prop("pull", nums(this.loopSources.pull))]);
    // Checkpoints (§12): each stateful node's kind, line, shape and the members holding its state;
    // multi-input nodes' watermarks; the classes a checkpoint may hold.
    const stateful = new Set(this.plan.state.map((st) => st.node));
    const state = this.plan.state.map((st) => J.object([J.prop("node", J.num(st.node)), J.prop("kind", J.str(st.kind)), J.prop("line", J.num(st.line)), J.prop("shape", J.str(st.shape)), J.prop("members", J.json(this.stateMembers.get(st.node) ?? []))]));
    const watermarks = [...this.stateMembers].filter(([id]) => !stateful.has(id)).flatMap(([, ms]) => ms);
    // The runtime's state classes travel with the program (a built module bundles its own runtime).
    const keepsState = this.stateMembers.size > 0;
    if (keepsState) this.ops.add("registeredStateClasses");
    const classes: J.Prop[] = [...(keepsState ? [{ kind: "spread" as const, expr: J.call(J.id("registeredStateClasses")) }] : []), ...[...this.stateClasses].sort().map((name) => ({ kind: "shorthand" as const, name }))];
    const program = J.object([
      J.prop("file", J.str(this.g.file)),
      J.prop("sources", list(sources)),
      J.prop("tables", list(tables)),
      J.prop("outputs", list(outputs)),
      J.prop("loops", loops),
      J.prop("state", list(state)),
      J.prop("watermarkMembers", J.json(watermarks)),
      J.prop("stateClasses", J.object(classes)),
      J.prop("create", J.arrow([J.param("ctx", "RunContext")], J.newExpr(J.id("FlowGraph"), [J.id("ctx")]))),
    ], true);
    return { kind: "const", name: "program", exported: true, type: "Program", init: program };
  }

}

/**
 * Kafka and NATS messages in JSON are decoded from their bytes by the source's JSONL decoder
 * first (runtime net/common.ts messageBytesDecoder) — unless the record declares one of the
 * connector's metadata fields, which the general message decoder fills.
 */
function messagesJsonl(c: Extract<Node, { kind: "source" }>["decl"]["connector"], type: Type): boolean {
  if ((c.kind !== "kafka" && c.kind !== "nats") || c.format !== "jsonl") return false;
  const metadata = Object.keys(CONNECTORS[c.kind]?.metadata ?? {});
  return type.kind === "record" && !type.fields.some((f) => metadata.includes(f.name));
}
