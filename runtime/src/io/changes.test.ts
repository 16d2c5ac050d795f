// Sources of changes (LANGUAGE.md §13): Debezium envelopes and changelog lines decoded to
// upserts and deletes; anything else is bad input (a DecodeError with a reason), never a crash.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../decode";
import { isDelete } from "../ops/changes";
import type { RecordSchema } from "../schema";
import { SKIPPED, makeChangeDecoder } from "./changes";

const USER: RecordSchema = { kind: "record", fields: [{ name: "id", type: { kind: "int" } }, { name: "name", type: { kind: "string" } }] };

describe("Debezium", () => {
  it("c/r insert, u updates, d deletes with a key-only before, t and tombstones skip, a schema wrapper unwraps", () => {
    const d = makeChangeDecoder("debezium", USER, undefined, ["id"]);
    expect(d({ op: "r", after: { id: 1, name: "a" } })).toEqual({ id: 1, name: "a" });
    expect(d({ schema: {}, payload: { op: "u", before: null, after: { id: 1, name: "b" } } })).toEqual({ id: 1, name: "b" });
    expect(d(null)).toBe(SKIPPED);
    expect(d({ op: "t" })).toBe(SKIPPED);
    const del = d({ op: "d", before: { id: 1 }, after: null }) as { id: number; name: string };
    expect(isDelete(del)).toBe(true);
    expect([del.id, del.name]).toEqual([1, "b"]); // the kept row: it carries the row's time
    expect(() => d({ op: "d", before: { id: 1 } })).toThrow(/delete of key id=1, which is not present/);
    expect(() => d({ op: "u", after: { id: 2, name: "x" } })).toThrow(/never inserted/);
    expect(() => d({ op: "c", after: { id: "x", name: "x" } })).toThrow(/field "after\.id": expected int/);
  });

  it("changelog: upsert/insert and delete by key", () => {
    const d = makeChangeDecoder("changelog", USER, undefined, ["id"]);
    expect(d({ op: "upsert", row: { id: 3, name: "c" } })).toEqual({ id: 3, name: "c" });
    expect(isDelete(d({ op: "delete", key: { id: 3 } }))).toBe(true);
    expect(() => d({ op: "merge", row: {} })).toThrow(DecodeError);
  });

  it("any JSON value is a record, SKIPPED or a DecodeError — never another error", () => {
    for (const format of ["debezium", "changelog"] as const) {
      const d = makeChangeDecoder(format, USER, undefined, ["id"]);
      fc.assert(
        fc.property(fc.jsonValue(), fc.constantFrom("c", "u", "d", "r", "t", "upsert", "delete", "__proto__", "constructor"), (v, op) => {
          for (const x of [v, { op, after: v, before: v, row: v, key: v }, { schema: v, payload: { op, after: v } }]) {
            try {
              d(x);
            } catch (e) {
              if (!(e instanceof DecodeError)) throw e;
            }
          }
        }),
        { numRuns: 500 },
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});
