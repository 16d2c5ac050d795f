// TypeScript types and runtime schemas for Flow types.
import type { Type } from "../check/types";

import { typeMemberKey } from "./escape";
import * as J from "./js/ast";
import { isIdentifier, printExpr } from "./js/print";

/** A safe local variable name derived from a field name. */
export function localName(name: string, taken: Set<string>): string {
  let base = name.replace(/[^A-Za-z0-9_$]/g, "_");
  if (!/^[A-Za-z_$]/.test(base)) base = "_" + base;
  // A reserved word, or a name the generated code gives its own parameters.
  if (!isIdentifier(base) || ["r", "t", "k", "l", "rt", "ctx"].includes(base)) base = base + "_";
  let n = base, i = 2;
  while (taken.has(n)) n = `${base}${i++}`;
  taken.add(n);
  return n;
}

/** Structural key of a type (for naming interfaces once). */
export function typeKey(t: Type): string {
  switch (t.kind) {
    case "optional":
      return `${typeKey(t.inner)}?`;
    case "array":
      return `[${typeKey(t.element)}]`;
    case "record":
      return `{${t.fields.map((f) => `${f.name}:${typeKey(f.type)}`).join(",")}}`;
    default:
      return t.kind;
  }
}

/** Named record interfaces of a module: structural key → interface name. */
export class TypeNames {
  private readonly names = new Map<string, string>();
  private readonly used = new Set<string>();
  /** The interfaces declared, in order (printed by js/print.ts). */
  readonly decls: J.Decl[] = [];

  /** Declares `t` (a record) under `name` unless an equal type already has a name. */
  declare(t: Type, name: string, doc?: string): string {
    if (t.kind !== "record") return this.ts(t);
    const k = typeKey(t);
    const existing = this.names.get(k);
    if (existing) return existing;
    let n = name.replace(/[^A-Za-z0-9_]/g, "");
    n = n.charAt(0).toUpperCase() + n.slice(1) || "Row";
    let unique = n, i = 2;
    while (this.used.has(unique)) unique = `${n}${i++}`;
    this.used.add(unique);
    this.names.set(k, unique);
    const members = t.fields.map((f) => ({ key: f.name, type: this.ts(f.type) }));
    this.decls.push({ kind: "interface", name: unique, exported: true, members, ...(doc ? { doc } : {}) });
    return unique;
  }

  ts(t: Type): string {
    switch (t.kind) {
      case "int":
      case "float":
      case "time":
      case "duration":
        return "number";
      case "bool":
        return "boolean";
      case "string":
        return "string";
      case "null":
        return "null";
      case "error":
        return "never";
      case "optional":
        return `${this.ts(t.inner)} | null`;
      case "array": {
        // `T[]` binds tighter than `|` and reads badly after `{ … }`: those use `Array<T>`.
        const el = t.element;
        const generic = el.kind === "optional" || el.kind === "null" || (el.kind === "record" && !this.names.has(typeKey(el)));
        return generic ? `Array<${this.ts(el)}>` : `${this.ts(el)}[]`;
      }
      case "record": {
        const named = this.names.get(typeKey(t));
        if (named) return named;
        return `{ ${t.fields.map((f) => `${typeMemberKey(f.name)}: ${this.ts(f.type)}`).join("; ")} }`;
      }
    }
  }
}

/** The runtime Schema (runtime/src/contract.ts) of a type, as plain data. */
export function schemaData(t: Type): J.Data {
  switch (t.kind) {
    case "optional":
      return { kind: "optional", inner: schemaData(t.inner) };
    case "array":
      return { kind: "array", element: schemaData(t.element) };
    case "record":
      return { kind: "record", fields: t.fields.map((f) => ({ name: f.name, type: schemaData(f.type) })) };
    case "null":
    case "error":
      return { kind: "optional", inner: { kind: "string" } };
    default:
      return { kind: t.kind };
  }
}

/** The runtime Schema literal of a type, printed (for tests that build decoders by hand). */
export const schemaLiteral = (t: Type): string => printExpr(J.data(schemaData(t)), { types: true });
