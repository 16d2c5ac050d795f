// Flow's types, as the checker and the back end see them.

export type Scalar = "int" | "float" | "bool" | "string" | "time" | "duration";

export interface Field {
  name: string;
  type: Type;
}

export type Type =
  | { kind: Scalar }
  | { kind: "optional"; inner: Type }
  | { kind: "array"; element: Type }
  /** `name` is the declared type name, for messages and generated interfaces. */
  | { kind: "record"; fields: Field[]; name?: string }
  /** The type of the literal `null` before it meets a context. */
  | { kind: "null" }
  /** A type that could not be computed; an error was already reported, so nothing more is. */
  | { kind: "error" };

export type RecordT = Extract<Type, { kind: "record" }>;

export const T = {
  int: { kind: "int" } as Type,
  float: { kind: "float" } as Type,
  bool: { kind: "bool" } as Type,
  string: { kind: "string" } as Type,
  time: { kind: "time" } as Type,
  duration: { kind: "duration" } as Type,
  null: { kind: "null" } as Type,
  error: { kind: "error" } as Type,
  optional: (inner: Type): Type => (inner.kind === "optional" || inner.kind === "null" || inner.kind === "error" ? inner : { kind: "optional", inner }),
  array: (element: Type): Type => ({ kind: "array", element }),
  record: (fields: Field[], name?: string): RecordT => ({ kind: "record", fields, ...(name ? { name } : {}) }),
};

export const isError = (t: Type) => t.kind === "error";
export const isOptional = (t: Type) => t.kind === "optional" || t.kind === "null";
export const stripOptional = (t: Type): Type => (t.kind === "optional" ? t.inner : t);
export const isNumeric = (t: Type) => t.kind === "int" || t.kind === "float";
export const isScalar = (t: Type) => ["int", "float", "bool", "string", "time", "duration"].includes(t.kind);
/** Types with an order: `<`, min, max, top, sorting. */
export const isOrdered = (t: Type) => ["int", "float", "string", "time", "duration"].includes(t.kind);

export function fieldOf(t: Type, name: string): Field | undefined {
  return t.kind === "record" ? t.fields.find((f) => f.name === name) : undefined;
}

export function typeToString(t: Type): string {
  switch (t.kind) {
    case "optional":
      return `${typeToString(t.inner)}?`;
    case "array":
      return `[${typeToString(t.element)}]`;
    case "record":
      return t.name ?? `{ ${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(", ")} }`;
    case "null":
      return "null";
    case "error":
      return ERROR_TYPE_TEXT;
    default:
      return t.kind;
  }
}

/** Structural equality (record names are ignored: types are structural). */
export function sameType(a: Type, b: Type): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "optional":
      return sameType(a.inner, (b as typeof a).inner);
    case "array":
      return sameType(a.element, (b as typeof a).element);
    case "record": {
      const bf = (b as typeof a).fields;
      return a.fields.length === bf.length && a.fields.every((f, i) => f.name === bf[i]!.name && sameType(f.type, bf[i]!.type));
    }
    default:
      return true;
  }
}

/** Can a value of `from` be used where `to` is expected? (int widens to float; T to T?; null to T?) */
export function assignable(from: Type, to: Type): boolean {
  if (from.kind === "error" || to.kind === "error") return true;
  if (sameType(from, to)) return true;
  if (from.kind === "int" && to.kind === "float") return true;
  if (to.kind === "optional") return from.kind === "null" || assignable(stripOptional(from), to.inner);
  if (from.kind === "array" && to.kind === "array") return assignable(from.element, to.element);
  if (from.kind === "record" && to.kind === "record") {
    return from.fields.length === to.fields.length && from.fields.every((f, i) => f.name === to.fields[i]!.name && assignable(f.type, to.fields[i]!.type));
  }
  return false;
}

/** The least type both can be used as (for `if` branches, array elements, `??`), or undefined. */
export function join(a: Type, b: Type): Type | undefined {
  if (a.kind === "error") return b;
  if (b.kind === "error") return a;
  if (a.kind === "null") return b.kind === "null" ? a : T.optional(b);
  if (b.kind === "null") return T.optional(a);
  if (a.kind === "optional" || b.kind === "optional") {
    const j = join(stripOptional(a), stripOptional(b));
    return j && T.optional(j);
  }
  if (sameType(a, b)) return a;
  if (isNumeric(a) && isNumeric(b)) return T.float;
  if (a.kind === "array" && b.kind === "array") {
    const e = join(a.element, b.element);
    return e && T.array(e);
  }
  if (a.kind === "record" && b.kind === "record" && a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i]!.name)) {
    const fs: Field[] = [];
    for (let i = 0; i < a.fields.length; i++) {
      const j = join(a.fields[i]!.type, b.fields[i]!.type);
      if (!j) return undefined;
      fs.push({ name: a.fields[i]!.name, type: j });
    }
    return T.record(fs, a.name === b.name ? a.name : undefined);
  }
  return undefined;
}

/** How a type that holds an error prints (never shown to users: see Checker.report). */
export const ERROR_TYPE_TEXT = "<error>";
