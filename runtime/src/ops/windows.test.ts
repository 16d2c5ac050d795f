import { describe, expect, it } from "vitest";
import { CARRIED, WindowAssigner, WindowIndex } from "./windows";

describe("WindowAssigner", () => {
  it("tumbling: one epoch-aligned window, negative times too", () => {
    const w = new WindowAssigner({ kind: "tumbling", size: 10 });
    expect(w.windowsOf(0)).toEqual([[0, 10]]);
    expect(w.windowsOf(9)).toEqual([[0, 10]]);
    expect(w.windowsOf(-1)).toEqual([[-10, 0]]);
    expect(w.start(25)).toBe(20);
  });

  it("hop: every window holding t, latest first; none in a gap (slide > size)", () => {
    const w = new WindowAssigner({ kind: "hop", size: 10, slide: 5 });
    expect(w.windowsOf(7)).toEqual([[5, 15], [0, 10]]);
    expect(w.windowsOf(-3)).toEqual([[-5, 5], [-10, 0]]);
    const gap = new WindowAssigner({ kind: "hop", size: 2, slide: 5 });
    expect(gap.windowsOf(1)).toEqual([[0, 2]]);
    expect(gap.windowsOf(3)).toEqual([]);
    expect(gap.isLate(3, -Infinity)).toBe(true);
  });

  it("late: every window of t has end ≤ watermark", () => {
    const w = new WindowAssigner({ kind: "hop", size: 10, slide: 5 });
    expect(w.isLate(7, 9)).toBe(false); // [5, 15) open
    expect(w.isLate(7, 15)).toBe(true);
    // the open windows of t at a watermark: the loop the operators run
    const open: number[] = [];
    for (let s = w.start(7); w.holds(s, 7, 10); s -= w.slide) open.push(s);
    expect(open).toEqual([5]);
    const t = new WindowAssigner({ kind: "tumbling", size: 10 });
    expect(t.isLate(9, 9)).toBe(false);
    expect(t.isLate(9, 10)).toBe(true);
  });

  it("carried: a derived row's own window is tumbling(1 ms) at time window_end − 1", () => {
    const w = new WindowAssigner(CARRIED);
    expect(w.windowsOf(10_000 - 1)).toEqual([[9999, 10_000]]);
    expect(w.isLate(9999, 9999)).toBe(false);
    expect(w.isLate(9999, 10_000)).toBe(true);
  });

  it("rejects sizes that are not positive and unknown kinds", () => {
    expect(() => new WindowAssigner({ kind: "tumbling", size: 0 })).toThrow(RangeError);
    expect(() => new WindowAssigner({ kind: "hop", size: 10, slide: 0 })).toThrow(RangeError);
    expect(() => new WindowAssigner({ kind: "carried" } as never)).toThrow(TypeError);
  });
});

describe("WindowIndex", () => {
  it("fires windows with end ≤ watermark in order of end", () => {
    const ix = new WindowIndex<string[]>(() => []);
    ix.get(20, 30).data.push("c");
    ix.get(0, 10).data.push("a");
    ix.get(10, 20).data.push("b");
    expect(ix.get(0, 10).data).toEqual(["a"]);
    expect(ix.firstEnd).toBe(10);
    const fired: string[] = [];
    for (let w; (w = ix.shift(20)) !== undefined; ) fired.push(`${w.start}-${w.end}:${w.data.join()}`);
    expect(fired).toEqual(["0-10:a", "10-20:b"]);
    expect(ix.size).toBe(1);
    expect(ix.firstEnd).toBe(30);
  });
});
