import { describe, expect, it } from "vitest";
import { ClassTable, encode, stateClass } from "./codec";
import { describeCheckpoint, describeCheckpointJson } from "./inspect";
import type { CheckpointDoc } from "./run";

class KeyState {
  constructor(public k0: number) {}
  n = 1;
  sum = 2.5;
}
stateClass("test.KeyState", KeyState);

/** A checkpoint of a keyed aggregate (1,000 keys, by columns) and a windowed one (2 windows × 3 keys). */
function doc(): CheckpointDoc {
  const states = new Map(Array.from({ length: 1000 }, (_, i) => [i * 7, new KeyState(i * 7)] as const));
  const windows = new Map([
    [1000, { start: 0, end: 1000, data: new Map([["a", { n: 1 }], ["b", { n: 2 }], ["c", { n: 3 }]]) }],
    [2000, { start: 1000, end: 2000, data: new Map([["a", { n: 1 }], ["b", { n: 2 }], ["c", { n: 3 }]]) }],
  ]);
  const state = encode([{ seen: new Uint8Array(4096), states, order: [...states.keys()] }, { op: { windows, last: windows.get(2000) } }, {}], new ClassTable());
  return {
    format: "flowc-checkpoint",
    version: 1,
    runId: "r1",
    seq: 3,
    time: Date.UTC(2026, 0, 1),
    finished: false,
    program: "q.flow",
    fingerprint: { sources: ["source e = file(\"e.jsonl\", jsonl) arrival time; type {}"], operators: [{ kind: "agg", line: 4, shape: "" }, { kind: "windowAgg", line: 7, shape: "" }] },
    sources: [{ name: "e", kind: "file", offset: 120, line: 4, skip: 2, badThrough: 0, count: 6, maxTime: null, watermark: null, ended: false }],
    sinks: [],
    counters: { out: { o: 5 }, late: 0, bad: 0 },
    state,
  } as CheckpointDoc;
}

describe("flowc checkpoint inspect", () => {
  it("says each operator's entries (keys × open windows) and bytes, from the encoding alone", () => {
    const text = describeCheckpoint(doc(), "ck");
    expect(text).toMatch(/\n {2}q\.flow:4 +agg +1,000 entries +[\d.]+ KiB\n {2}q\.flow:7 +windowAgg +6 entries +\d+ B$/);
    const json = describeCheckpointJson(doc(), "ck") as { state: { operator: string; kind: string; entries: number; bytes: number }[]; sources: { position: string; offset: number; line: number }[] };
    expect(json.state.map((o) => [o.operator, o.kind, o.entries])).toEqual([["q.flow:4", "agg", 1000], ["q.flow:7", "windowAgg", 6]]);
    expect(json.state.every((o) => o.bytes > 0)).toBe(true);
    expect(json.sources[0]).toMatchObject({ position: "byte 120 (line 5) + 2 records", offset: 120, line: 5 });
  });
});
