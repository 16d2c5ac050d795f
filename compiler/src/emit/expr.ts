// Typed expressions → JavaScript syntax trees (js/ast.ts). Values are plain JS (see runtime/src/contract.ts).
import type { BinOp, TExpr } from "../check/typed";
import { resolveBuiltin } from "../check/builtins";
import { stripOptional } from "../check/types";
import type { BuiltinOverload } from "../../../stdlib/src/catalog";
import * as J from "./js/ast";
import { isIdentifier } from "./js/print";
import { fillTemplate, parseTemplate } from "./js/template";

/** What the emitter knows about a variable: a JS expression holding an object, or its fields. */
export type Value =
  | { kind: "js"; js: J.Expr }
  /** A record not built yet: field name → JS expression (locals or paths). */
  | { kind: "fields"; fields: Map<string, J.Expr>; order: string[] };

export interface ExprEnv {
  vars: Map<string, Value>;
  /** Binds a JS expression to a fresh const (statement emitted before the current one). */
  hoist(js: J.Expr, hint: string): J.Expr;
  /** Records that a stdlib export is used. */
  use(name: string): string;
  /** In aggregate results: JS for `$aggN` / `$keyN`. */
  aggRef?(index: number): J.Expr;
  keyRef?(index: number): J.Expr;
  /** Printing JavaScript: no type assertions. */
  js?: boolean;
}

/**
 * Cheap, side-effect-free expressions may be repeated instead of bound to a const: literals,
 * names and field paths over them. Decided from the typed expression, never from printed code.
 */
export function isSimple(e: TExpr): boolean {
  switch (e.kind) {
    case "lit":
    case "var":
    case "keyRef":
      return true;
    case "get":
      // A field of an optional prints as a conditional.
      return e.object.type.kind !== "optional" && e.object.type.kind !== "null" && isSimple(e.object);
    case "call":
      // `float(i)` and the like print their argument as is.
      return identityCall(e) && isSimple(e.args[0]!);
    default:
      return false;
  }
}

/** A built-in call whose implementation is its argument itself (template `$0`, no null policy). */
function identityCall(e: Extract<TExpr, { kind: "call" }>): boolean {
  const r = resolveBuiltin(e.fn, e.args.map((x) => stripOptional(x.type)));
  return r !== undefined && !("error" in r) && r.overload.inline === "$0" && r.fn.nulls === undefined;
}

/**
 * The printed expression is a primary one (a name, literal, call, member access or something
 * in parentheses): it can be an operand or a receiver (`x.length`) without parentheses.
 */
function isAtomic(e: TExpr): boolean {
  switch (e.kind) {
    case "unary":
      return false;
    case "in":
      return !e.negated;
    case "call":
      // Only the identity template prints its argument as is.
      return identityCall(e) ? isAtomic(e.args[0]!) : true;
    default:
      return true;
  }
}

/** `js` (built from `e`) ready to be an operand or a receiver. */
const operand = (e: TExpr, js: J.Expr): J.Expr => (isAtomic(e) ? js : J.paren(js));

/** Materializes a value as a JS expression (an object literal for a `fields` value). */
export function valueJs(v: Value): J.Expr {
  if (v.kind === "js") return v.js;
  return J.object(v.order.map((f): J.Prop => {
    const x = v.fields.get(f)!;
    return x.kind === "id" && x.name === f && isIdentifier(f) ? { kind: "shorthand", name: f } : J.prop(f, x);
  }));
}

const BIN: Record<BinOp, J.BinaryOp> = { add: "+", sub: "-", mul: "*", div: "/", mod: "%", concat: "+", eq: "===", ne: "!==", lt: "<", le: "<=", gt: ">", ge: ">=", and: "&&", or: "||" };

function literal(v: number | string | boolean | null): J.Expr {
  // Negative numbers read as one operand in parentheses (`x - (-1)`).
  if (typeof v === "number") return v < 0 ? J.paren(J.num(v)) : J.num(v);
  return typeof v === "string" ? J.str(v) : v === null ? J.NULL : J.bool(v);
}

export function emitExpr(e: TExpr, env: ExprEnv): J.Expr {
  const js = emitExprInner(e, env);
  // A narrowed optional is non-null here; tell TypeScript so.
  return e.narrowed && !env.js && (e.kind === "get" || e.kind === "var") ? J.nonNull(js) : js;
}

function emitExprInner(e: TExpr, env: ExprEnv): J.Expr {
  const sub = (x: TExpr) => emitExpr(x, env);
  switch (e.kind) {
    case "lit":
      return literal(e.value);
    case "var": {
      const v = env.vars.get(e.name);
      if (!v) throw new Error(`internal: unbound variable ${e.name}`);
      if (v.kind === "js") return v.js;
      // The whole record is needed: build it once.
      const js = env.hoist(valueJs(v), "row");
      env.vars.set(e.name, { kind: "js", js });
      return js;
    }
    case "get": {
      if (e.object.kind === "var") {
        const v = env.vars.get(e.object.name);
        if (v?.kind === "fields") {
          const f = v.fields.get(e.field);
          if (f !== undefined) return f;
        }
      }
      const obj = sub(e.object);
      if (e.object.type.kind === "optional" || e.object.type.kind === "null") {
        const o = isSimple(e.object) ? obj : env.hoist(obj, "o");
        return J.paren(J.cond(J.binary("===", o, J.NULL), J.NULL, J.member(o, e.field)));
      }
      return J.member(obj, e.field);
    }
    case "index": {
      const obj = sub(e.object), i = sub(e.index);
      return J.paren(J.binary("??", J.index(obj, i), J.NULL));
    }
    case "unary":
      return J.unary(e.op === "not" ? "!" : "-", operand(e.operand, sub(e.operand)));
    case "binary": {
      const l = sub(e.left), r = sub(e.right);
      // `/` and `%` can leave the numbers (x / 0, x % 0): the stdlib versions make that a
      // run-time error of the record instead of a NaN or ±∞ printed as null.
      // A literal divisor that cannot do that keeps the plain operator (and the fast loops).
      const divisor = e.right.kind === "lit" && typeof e.right.value === "number" ? Math.abs(e.right.value) : undefined;
      if (e.op === "div" && !(divisor !== undefined && divisor >= 1)) return J.call(J.id(env.use("flow_fdiv")), [l, r]);
      if (e.op === "mod" && !(divisor !== undefined && divisor > 0)) return J.call(J.id(env.use("flow_mod")), [l, r]);
      return J.paren(J.binary(BIN[e.op], l, r));
    }
    case "coalesce":
      return J.paren(J.binary("??", sub(e.left), sub(e.right)));
    case "in": {
      const v = sub(e.value);
      if (e.list.kind === "array" && e.list.elements.length <= 8) {
        const x = isSimple(e.value) ? v : env.hoist(v, "v");
        const parts = e.list.elements.map((el) => J.binary("===", x, sub(el)));
        const any = parts.length ? J.paren(J.chain("||", parts)) : J.bool(false);
        return e.negated ? J.not(any) : any;
      }
      const test = J.callMethod(operand(e.list, sub(e.list)), "includes", [v]);
      return e.negated ? J.not(test) : test;
    }
    case "if":
      return J.paren(J.cond(sub(e.cond), sub(e.then), sub(e.else)));
    case "array":
      return J.array(e.elements.map(sub));
    case "record":
      return J.object(e.fields.map((f) => J.prop(f.name, sub(f.value))));
    case "call":
      return builtinCall(e.fn, e.args, env);
    case "callExtern":
      return J.call(J.id(e.fn), e.args.map(sub));
    case "callFn":
      throw new Error(`internal: fn ${e.fn} was not inlined`);
    case "aggRef":
      return env.aggRef!(e.index);
    case "keyRef":
      return env.keyRef!(e.index);
  }
}


/**
 * Built-ins: the implementation of the overload the checker chose (stdlib/src/catalog.ts): its
 * inline JavaScript template, else a call of its stdlib export.
 */
function builtinCall(fn: string, args: TExpr[], env: ExprEnv): J.Expr {
  // Argument types as the checker saw them: an optional here was narrowed there (an inlined `fn`
  // substitutes the caller's unnarrowed argument) or is handled by the null policy below.
  const r = resolveBuiltin(fn, args.map((x) => stripOptional(x.type)));
  if (r === undefined || "error" in r) throw new Error(`internal: no overload of the built-in ${fn} for these arguments`);
  const a = args.map((x) => emitExpr(x, env));
  // Arguments that may be null here: only functions with a null policy get them.
  const nullable = r.fn.nulls === undefined ? [] : args.flatMap((x, i) => (x.type.kind === "optional" || x.type.kind === "null" ? [i] : []));
  if (nullable.length === 0) return implementation(r.overload, a, args, env);
  // The implementation sees them non-null (TypeScript narrows simple expressions by itself).
  const inner = a.map((js, i) => (nullable.includes(i) && !env.js && !isSimple(args[i]!) ? J.nonNull(operand(args[i]!, js)) : js));
  const ifNull = r.fn.nulls === "propagate" ? J.NULL : fillTemplate(parseTemplate(r.fn.nulls!.tolerate), () => {
    throw new Error(`internal: the null value of ${fn} has a placeholder`);
  });
  const test = J.chain("||", nullable.map((i) => J.binary("===", a[i]!, J.NULL)));
  return J.paren(J.cond(test, ifNull, implementation(r.overload, inner, args, env)));
}

/** The overload's stdlib export called, or its inline template (js/template.ts) filled in. */
function implementation(o: BuiltinOverload, a: J.Expr[], args: TExpr[], env: ExprEnv): J.Expr {
  if (o.inline === undefined) return J.call(J.id(env.use(o.export!)), a);
  if (o.inline === "$0") return a[0]!;
  // A placeholder that is a whole call argument is used as is, else parenthesized when needed.
  return fillTemplate(parseTemplate(o.inline), (i, bare) => (bare ? a[i]! : operand(args[i]!, a[i]!)));
}
