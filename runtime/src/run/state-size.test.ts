import { describe, expect, it } from "vitest";
import type { GraphInstance } from "../contract";
import { WindowAgg } from "../ops/index";
import type { AggSpec } from "../ops/types";
import { stateEntries } from "./state-size";

type Row = { k: string; v: number };
type S = { k: string; n: number };
const spec: AggSpec<Row, S, { k: string; n: number }> = {
  key: (r) => r.k,
  init: (r) => ({ k: r.k, n: 0 }),
  add: (s) => void s.n++,
  result: (s) => ({ k: s.k, n: s.n }),
  merge: (s, o) => void (s.n += o.n),
};

const graphOf = (members: Record<string, unknown>) => members as unknown as GraphInstance;

describe("flowc_state_entries", () => {
  it("a windowed aggregate holds keys × open windows", () => {
    const op = new WindowAgg({ kind: "tumbling", size: 1000 }, spec, () => {}, () => {});
    // 3 open windows: 5 keys, 2 keys, 1 key.
    for (let i = 0; i < 5; i++) op.push({ k: `a${i}`, v: 1 }, 100);
    for (let i = 0; i < 2; i++) op.push({ k: `b${i}`, v: 1 }, 1100);
    op.push({ k: "c", v: 1 }, 2100);
    const [[label, n]] = stateEntries("q.flow", [{ node: 1, kind: "agg", line: 4, shape: "", members: ["op1"] }], graphOf({ op1: op }));
    expect(label).toBe("q.flow:4 agg");
    expect(n).toBe(8);
    op.advance(1000); // the first window fires
    expect(stateEntries("q.flow", [{ node: 1, kind: "agg", line: 4, shape: "", members: ["op1"] }], graphOf({ op1: op }))[0]![1]).toBe(3);
  });

  it("a keyed store's keys once, though a Map, an order array and typed columns hold them", () => {
    const states = new Map(Array.from({ length: 10 }, (_, i) => [5000 + i, { k: 5000 + i, n: 1 }]));
    const order = [1, 2, 3, ...states.keys()];
    const g = graphOf({ seen: new Uint8Array(4096), col: new Float64Array(4096), states, order });
    expect(stateEntries("q.flow", [{ node: 1, kind: "agg", line: 2, shape: "", members: ["seen", "col", "states", "order"] }], g)[0]![1]).toBe(13);
  });

  it("estimates a large uniform structure from a sample, exactly", () => {
    const big = new Map(Array.from({ length: 100_000 }, (_, i) => [i, new Map([[1, { x: 1 }], [2, { x: 2 }]])]));
    expect(stateEntries("q.flow", [{ node: 1, kind: "distinct", line: 3, shape: "", members: ["m"] }], graphOf({ m: big }))[0]![1]).toBe(200_000);
  });
});
