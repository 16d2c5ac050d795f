// The operators of updating streams (LANGUAGE.md §13) driven directly: ReAgg's state stays
// constant per group when every aggregate retracts exactly and recomputes only when it must;
// UpdatingTop keeps N rows per key on an append input and deletes ranks that vanish.
import { describe, expect, it } from "vitest";
import { ReAgg, type ReAggSpec } from "./re-agg";
import { UpdatingTop, type UpdatingTopSpec } from "./updating-top";
import type { Key } from "./types";

type Row = { k: string; g: string; v: number };
type Out = { g: string; n: number; lo: number | null };

/** count() and min(v) by g, as generated code would write them (`exact`: count only). */
function spec(exact: boolean, counter: { adds: number }): ReAggSpec<Row, { g: string; n: number; lo: number | null }, Out> {
  return {
    ...(exact ? { exactRetract: true } : {}),
    key: (r) => r.g,
    init: (r) => ({ g: r.g, n: 0, lo: null }),
    add(s, r) {
      counter.adds++;
      s.n++;
      if (!exact && (s.lo === null || r.v < s.lo)) s.lo = r.v;
    },
    retract(s, r) {
      s.n--;
      return exact || r.v !== s.lo;
    },
    result: (s) => ({ g: s.g, n: s.n, lo: exact ? null : s.lo }),
  };
}

describe("ReAgg", () => {
  it("keeps no rows when every aggregate retracts exactly, however many updates", () => {
    const changes: string[] = [];
    const counter = { adds: 0 };
    const op = new ReAgg(spec(true, counter), (row, _t, k) => changes.push(`${String(k)}=${row.n}`), (k) => changes.push(`-${String(k)}`));
    for (let i = 0; i < 100_000; i++) op.upsert(`key${i % 1000}`, { k: `key${i % 1000}`, g: `g${i % 7}`, v: i }, i);
    expect(op.rowsKept).toBe(0);
    expect(op.size).toBe(7);
    expect(counter.adds).toBe(100_000); // one add per change: no recomputation
  });

  it("recomputes a group from its rows only when the retracted row held its min", () => {
    const counter = { adds: 0 };
    const out: Out[] = [];
    const op = new ReAgg(spec(false, counter), (row) => out.push({ ...row }), () => {});
    op.upsert("a", { k: "a", g: "x", v: 5 }, 0);
    op.upsert("b", { k: "b", g: "x", v: 9 }, 1);
    counter.adds = 0;
    op.upsert("b", { k: "b", g: "x", v: 7 }, 2); // b did not hold the min: retracted in place
    expect(counter.adds).toBe(1);
    op.upsert("a", { k: "a", g: "x", v: 8 }, 3); // a held the min: recomputed from the 2 rows
    expect(counter.adds).toBe(1 + 2);
    expect(out.at(-1)).toEqual({ g: "x", n: 2, lo: 7 });
    expect(op.rowsKept).toBe(2);
  });

  it("deletes a group whose rows are all retracted, and ignores a delete of an absent key", () => {
    const log: string[] = [];
    const op = new ReAgg(spec(true, { adds: 0 }), (row, _t, k) => log.push(`${String(k)}:${row.n}`), (k) => log.push(`-${String(k)}`));
    op.upsert("a", { k: "a", g: "x", v: 1 }, 0);
    op.upsert("a", { k: "a", g: "y", v: 1 }, 1); // moves: x's change first
    op.remove("zzz", 2);
    op.remove("a", 3);
    expect(log).toEqual(["x:1", "-x", "y:1", "-y"]);
  });
});

describe("UpdatingTop", () => {
  const topSpec: UpdatingTopSpec<Row, Row & { rank: number }> = {
    key: (r) => r.g,
    compare: (a, b) => b.v - a.v,
    ranked: (r, rank) => ({ ...r, rank }),
    outKey: (r) => JSON.stringify([r.g, r.rank]),
  };

  it("keeps N rows per key on an append input", () => {
    const op = new UpdatingTop(3, topSpec, () => {}, () => {});
    for (let i = 0; i < 10_000; i++) op.push({ k: `k${i}`, g: `g${i % 5}`, v: i % 97 }, i);
    expect(op.size).toBe(3 * 5);
  });

  it("on an updating input, sends moved ranks in rank order and deletes ranks that vanish", () => {
    const log: string[] = [];
    const op = new UpdatingTop(2, topSpec, (row) => log.push(`${row.rank}:${row.k}`), (k: Key) => log.push(`-${String(k)}`));
    op.upsert("a", { k: "a", g: "x", v: 1 }, 0);
    op.upsert("b", { k: "b", g: "x", v: 2 }, 1);
    op.upsert("c", { k: "c", g: "x", v: 0 }, 2); // below the top 2: nothing
    op.remove("b", 3); // a moves up, c enters
    op.remove("a", 4);
    op.remove("c", 5);
    expect(log).toEqual(["1:a", "1:b", "2:a", "1:a", "2:c", "1:c", '-["x",2]', '-["x",1]']);
  });
});

describe("UpdatingTop against brute force (many keys: the waiting heap and its compaction)", () => {
  it("after every change, the ranks sent so far are the best N of the table, ties by last arrival", async () => {
    const fc = (await import("fast-check")).default;
    const spec: UpdatingTopSpec<Row, Row & { rank: number }> = {
      key: () => 0,
      compare: (a, b) => b.v - a.v,
      ranked: (r, rank) => ({ ...r, rank }),
      outKey: (r) => r.rank,
    };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 199 }), fc.integer({ min: 0, max: 20 }), fc.boolean()), { minLength: 1, maxLength: 600 }), (ops) => {
        const shown = new Map<Key, Row & { rank: number }>();
        const op = new UpdatingTop(3, spec, (row, _t, k) => shown.set(k, row), (k) => shown.delete(k));
        const table = new Map<string, { v: number; at: number }>();
        ops.forEach(([key, v, del], at) => {
          const k = `k${key}`;
          if (del) {
            op.remove(k, at);
            table.delete(k);
          } else {
            op.upsert(k, { k, g: "x", v }, at);
            table.set(k, { v, at });
          }
          const want = [...table].sort((a, b) => b[1].v - a[1].v || a[1].at - b[1].at).slice(0, 3).map(([kk, x], i) => ({ k: kk, g: "x", v: x.v, rank: i + 1 }));
          expect([...shown.values()].sort((a, b) => a.rank - b.rank)).toEqual(want);
        });
        expect(op.size).toBe(table.size);
      }),
      { numRuns: 200 },
    );
  });
});
