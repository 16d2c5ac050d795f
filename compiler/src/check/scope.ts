// Name resolution inside a stage, and null narrowing.
//
// A bare name is looked up (1) among the fields of `bases` in order — the current element's own
// fields first, then the fields of each join side — then (2) among `roots`: `it`, the pipeline's
// name or alias, join aliases, fn parameters. Narrowing works on canonical paths of the resolved
// value (`r.c.owner`), so `c.owner` and `it.c.owner` narrow together.
import type { TExpr } from "./typed";
import { stripOptional, type Type } from "./types";

export interface Scope {
  /** Values whose fields are reachable by bare name. The first is the element itself. */
  bases: { expr: TExpr; label: string; side: boolean }[];
  roots: Map<string, TExpr>;
  narrowed: Set<string>;
}

export const emptyScope = (): Scope => ({ bases: [], roots: new Map(), narrowed: new Set() });

/** `var.field.field` for var/get chains, else undefined. */
export function canonicalPath(e: TExpr): string | undefined {
  if (e.kind === "var") return e.name;
  if (e.kind === "get") {
    const o = canonicalPath(e.object);
    return o === undefined ? undefined : `${o}.${e.field}`;
  }
  return undefined;
}

/** Applies narrowing: a path known non-null gets its optional stripped. */
export function narrow(e: TExpr, scope: Scope): TExpr {
  const p = canonicalPath(e);
  if (p !== undefined && scope.narrowed.has(p) && e.type.kind === "optional") return { ...e, type: stripOptional(e.type), narrowed: true };
  return e;
}

export function withNarrowed(scope: Scope, paths: Iterable<string>): Scope {
  const narrowed = new Set(scope.narrowed);
  for (const p of paths) narrowed.add(p);
  return { ...scope, narrowed };
}

export function varExpr(name: string, type: Type, span = { start: 0, end: 0 }): TExpr {
  return { kind: "var", name, type, span };
}
