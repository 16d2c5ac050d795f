// What the operators of updating streams share (LANGUAGE.md §13): how they hand changes on, and
// when a row has "changed" (an unchanged row is not sent again).

import type { Key } from "./types";

/** An upsert: `row` is now the row of `key` (event time `time`). */
export type Upsert<Row> = (row: Row, time: number, key: Key) => void;
/** A delete: `key` has no row any more (`time`: of the input change that deleted it). */
export type Delete = (key: Key, time: number) => void;

/**
 * Marks a record from a source of changes that is a delete (a copy of its key's kept row). A
 * registered symbol: the driver that decodes and the program module that tests may each carry
 * their own copy of the runtime (`flowc run` bundles the program apart from the CLI).
 */
export const DELETED: unique symbol = Symbol.for("flowc.deleted");

/** True when a record from a source of changes is a delete of its key (io/changes.ts). */
export function isDelete(record: unknown): boolean {
  return (record as { [DELETED]?: boolean })[DELETED] === true;
}

/**
 * Structural equality of two row values: primitives by SameValueZero (NaN equals NaN), arrays
 * element by element, records field by field in their own order. Rows of one stream share their
 * shape, so this is the "did the row change" test of re-aggregation and top-N.
 */
export function sameRow(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a !== a && b !== b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameRow(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !sameRow((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
