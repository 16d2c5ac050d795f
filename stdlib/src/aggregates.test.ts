import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CountDistinct, HyperLogLog, Percentile, hash64 } from "./aggregates.js";
import { FlowRuntimeError } from "./errors.js";

function relErr(estimate: number, n: number): number {
  return Math.abs(estimate - n) / n;
}

describe("HyperLogLog", () => {
  it("is empty at first and ignores duplicates", () => {
    const h = new HyperLogLog();
    expect(h.count()).toBe(0);
    h.add(42);
    expect(h.count()).toBe(1);
    for (let i = 0; i < 1000; i++) h.add(42);
    expect(h.count()).toBe(1);
    h.add("42");
    h.add(true);
    expect(h.count()).toBe(3);
  });

  it("is exact-ish for small cardinalities", () => {
    for (const n of [2, 10, 100, 300]) {
      const h = new HyperLogLog();
      for (let i = 0; i < n; i++) h.addNumber(i);
      expect(Math.abs(h.count() - n), `n=${n}`).toBeLessThanOrEqual(Math.max(1, n * 0.01));
    }
  });

  it("is within 2% from 1k to 10M distinct integers", () => {
    const checkpoints = new Set([1_000, 5_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000]);
    const h = new HyperLogLog();
    for (let i = 1; i <= 10_000_000; i++) {
      h.addNumber(1000 + i * 7);
      if (checkpoints.has(i)) expect(relErr(h.count(), i), `n=${i}`).toBeLessThan(0.02);
    }
  });

  it("is within 2% at 100k distinct strings, floats, and values added with duplicates", () => {
    const s = new HyperLogLog();
    const f = new HyperLogLog();
    const d = new HyperLogLog();
    for (let i = 0; i < 100_000; i++) {
      s.addString("user-" + i);
      f.add(i * 0.1 + 0.05);
      d.add(i % 100_000);
      d.add((i * 31) % 100_000); // every value again, in another order
    }
    expect(relErr(s.count(), 100_000)).toBeLessThan(0.02);
    expect(relErr(f.count(), 100_000)).toBeLessThan(0.02);
    expect(relErr(d.count(), 100_000)).toBeLessThan(0.02);
  });

  it("is deterministic: same values in any order give the same count", () => {
    const a = new HyperLogLog();
    const b = new HyperLogLog();
    const n = 50_000;
    for (let i = 0; i < n; i++) a.add("k" + i);
    for (let i = n - 1; i >= 0; i--) b.add("k" + i);
    expect(a.count()).toBe(b.count());
    // Pinned: the hash and the estimator are fixed, so this number must never change.
    expect(hash64(0)).toEqual(hash64(0));
    expect(hash64(3)).toEqual(hash64(3.0));
    expect(hash64(-0)).toEqual(hash64(0));
    expect(hash64(1)).not.toEqual(hash64(2));
    expect(hash64("1")).not.toEqual(hash64(1));
    expect(hash64({ a: 1 })).toEqual(hash64({ a: 1 }));
    expect(a.count()).toMatchInlineSnapshot(`50329`);
    expect(hash64("flow")).toMatchInlineSnapshot(`
      [
        3298207295,
        2386851999,
      ]
    `);
  });

  it("merge gives exactly the union's count (sparse and dense sketches)", () => {
    for (const [na, nb] of [
      [10, 20],
      [100, 100_000],
      [100_000, 50],
      [60_000, 80_000],
    ] as const) {
      const a = new HyperLogLog();
      const b = new HyperLogLog();
      const all = new HyperLogLog();
      for (let i = 0; i < na; i++) {
        a.add(i);
        all.add(i);
      }
      for (let i = na / 2; i < na / 2 + nb; i++) {
        b.add(i);
        all.add(i);
      }
      const bBefore = b.count();
      a.merge(b);
      expect(a.count()).toBe(all.count());
      expect(b.count()).toBe(bBefore);
      expect(relErr(a.count(), Math.max(na, na / 2 + nb))).toBeLessThan(0.02);
    }
  });

  it("count is cheap to call after every add (cached histogram estimate)", () => {
    const h = new HyperLogLog();
    let last = 0;
    for (let i = 0; i < 200_000; i++) {
      h.add(i);
      last = h.count();
    }
    expect(relErr(last, 200_000)).toBeLessThan(0.02);
  });
});

/** The definition: the smallest value v with count(x ≤ v) / n ≥ p. */
function naivePercentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  for (const v of sorted) {
    const atMost = sorted.filter((x) => x <= v).length;
    if (atMost / sorted.length >= p) return v;
  }
  return sorted[sorted.length - 1]!;
}

describe("Percentile (nearest rank)", () => {
  const of = (vs: number[]) => {
    const p = new Percentile();
    for (const v of vs) p.add(v);
    return p;
  };

  it("answers p = 0, 0.5, 0.9, 1 on 1…10", () => {
    const p = of([7, 3, 10, 1, 5, 2, 9, 4, 8, 6]);
    expect(p.value(0)).toBe(1);
    expect(p.value(0.05)).toBe(1);
    expect(p.value(0.1)).toBe(1);
    expect(p.value(0.11)).toBe(2);
    expect(p.value(0.5)).toBe(5);
    expect(p.value(0.51)).toBe(6);
    expect(p.value(0.7)).toBe(7); // not 8: 0.7·10 is 7.000000000000001 in floating point
    expect(p.value(0.75)).toBe(8);
    expect(p.value(0.9)).toBe(9);
    expect(p.value(0.95)).toBe(10);
    expect(p.value(1)).toBe(10);
    expect(p.size).toBe(10);
  });

  it("handles duplicates, a single value and no value", () => {
    const p = of([2, 1, 2, 3, 2]);
    expect(p.value(0)).toBe(1);
    expect(p.value(0.2)).toBe(1);
    expect(p.value(0.21)).toBe(2);
    expect(p.value(0.5)).toBe(2);
    expect(p.value(0.8)).toBe(2);
    expect(p.value(0.81)).toBe(3);
    expect(p.value(1)).toBe(3);
    expect(of([42]).value(0.3)).toBe(42);
    expect(new Percentile().value(0.5)).toBeNull();
    expect(of([-1.5, -0.5, 2.25]).value(0.5)).toBe(-0.5);
  });

  it("rejects p outside [0, 1]", () => {
    const p = of([1, 2, 3]);
    expect(() => p.value(1.5)).toThrow(FlowRuntimeError);
    expect(() => p.value(-0.1)).toThrow(FlowRuntimeError);
    expect(() => p.value(NaN)).toThrow(FlowRuntimeError);
  });

  it("matches the definition with queries interleaved with adds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.boolean()), { maxLength: 200 }),
        fc.constantFrom(0, 0.01, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 0.99, 1),
        (ops, q) => {
          const p = new Percentile();
          const seen: number[] = [];
          for (const [v, query] of ops) {
            p.add(v);
            seen.push(v);
            if (query && p.value(q) !== naivePercentile(seen, q)) return false;
          }
          return p.value(q) === naivePercentile(seen, q);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("merge adds the other's values", () => {
    const a = of([5, 1, 9]);
    const b = of([3, 7]);
    a.merge(b);
    expect(a.size).toBe(5);
    expect(a.value(0.5)).toBe(5);
    expect(a.value(0)).toBe(1);
    expect(a.value(1)).toBe(9);
    expect(b.size).toBe(2);
    expect(b.value(1)).toBe(7);
  });

  it("stays fast for a query after every add", () => {
    const p = new Percentile();
    const seen: number[] = [];
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const v = x >>> 20;
      p.add(v);
      seen.push(v);
      p.value(0.9);
    }
    seen.sort((a, b) => a - b);
    expect(p.value(0)).toBe(seen[0]);
    expect(p.value(0.5)).toBe(seen[9_999]);
    expect(p.value(1)).toBe(seen[19_999]);
  });
});

describe("CountDistinct", () => {
  it("counts exactly", () => {
    const c = new CountDistinct();
    for (let i = 0; i < 1000; i++) c.add(i % 37);
    expect(c.count()).toBe(37);
    c.add(3.0);
    c.add(-0);
    expect(c.count()).toBe(37);
    c.add("3");
    expect(c.count()).toBe(38);
  });

  it("compares records and arrays structurally", () => {
    const c = new CountDistinct();
    c.add({ a: 1, b: "x" });
    c.add({ a: 1, b: "x" });
    c.add([1, 2]);
    c.add([1, 2]);
    c.add([2, 1]);
    expect(c.count()).toBe(3);
  });

  it("merge is the union", () => {
    const a = new CountDistinct();
    const b = new CountDistinct();
    for (let i = 0; i < 10; i++) a.add(i);
    for (let i = 5; i < 20; i++) b.add(i);
    a.merge(b);
    expect(a.count()).toBe(20);
    expect(b.count()).toBe(15);
  });
});
