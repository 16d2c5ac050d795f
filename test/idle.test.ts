// Idle sources (LANGUAGE.md §10), the graph's part: a union or join does not wait for an input
// whose sources are all idle; when every input is idle it takes the smallest watermark above −∞;
// watermarks never go down. Driven directly through the generated graph's idle() and advance().
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import type { GraphInstance, Program } from "../runtime/src/contract";
import { nativeImport, removeSharedRuntime, sharedRuntime, testDir } from "./helpers";

afterAll(removeSharedRuntime);

const PROGRAM = `type E = { k: string, ts: time }
source a: E = stdin() event time ts watermark 0s idle 30s
source b: E = file("b.jsonl") event time ts
source c: E = file("c.jsonl") event time ts idle 1m
emit union(a, b) | window tumbling(10s) | agg n = count()
emit union(a, c) | window tumbling(10s) | agg n = count()
`;

async function graph(): Promise<{ g: GraphInstance; rows: string[][] }> {
  const { url } = await sharedRuntime();
  const r = compile(PROGRAM, { file: "idle.flow", javascript: true, runtime: url, ops: url, stdlib: url });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const file = join(testDir("idle-"), "program.mjs");
  writeFileSync(file, r.typescript!);
  const { program } = (await nativeImport(pathToFileURL(file).href)) as { program: Program };
  expect(program.sources.map((s) => s.idleMs)).toEqual([30_000, undefined, 60_000]);
  const rows: string[][] = [[], []];
  const g = program.create({ emit: [0, 1].map((k) => (row: unknown) => rows[k]!.push(JSON.stringify(row))), late: () => {}, tables: [], failed: () => {} });
  return { g, rows };
}

const s = (n: number) => n * 1000;

describe("idle sources in the graph", () => {
  it("a union does not wait for an idle input; its watermark never goes down", async () => {
    const { g, rows } = await graph();
    g.push[1]!({ k: "x", ts: s(1) }, s(1));
    g.advance(1, s(25)); // b is at 25 s; a has said nothing: the union waits for a
    expect(rows[0]).toEqual([]);
    g.idle!(0, true); // a is idle: the union takes b's watermark, windows up to 20 s fire
    expect(rows[0]!.length).toBe(1);
    g.idle!(0, false); // a speaks again with a watermark of 5 s: the union's stays at 25 s
    g.advance(0, s(5));
    g.push[1]!({ k: "x", ts: s(21) }, s(21));
    g.advance(1, s(40));
    expect(rows[0]!.length).toBe(1); // now held by a (5 s) again, not lowered
    g.advance(0, s(35));
    expect(rows[0]!.length).toBe(2);
  });

  it("when every input is idle, the smallest watermark above −∞", async () => {
    const { g, rows } = await graph();
    g.push[2]!({ k: "y", ts: s(2) }, s(2));
    g.advance(2, s(12)); // c at 12 s; a at −∞ and not idle
    expect(rows[1]).toEqual([]);
    g.idle!(2, true);
    expect(rows[1]).toEqual([]); // a is not idle: still held at −∞
    g.idle!(0, true); // both idle: a's −∞ does not count, c's 12 s does
    expect(rows[1]!.length).toBe(1);
  });
});

describe("idle sources in a run (virtual wall clock)", () => {
  it("a lone quiet source closes its last window with the wall clock; its next record is late by the usual rule", async () => {
    const { url, rt } = await sharedRuntime();
    const src = `type E = { k: string, ts: time }
source a: E = stdin() event time ts watermark 1s idle 5s
emit a | window tumbling(10s) | agg n = count()
`;
    const r = compile(src, { file: "lone.flow", javascript: true, runtime: url, ops: url, stdlib: url });
    const file = join(testDir("idle-run-"), "program.mjs");
    writeFileSync(file, r.typescript!);
    const { program } = (await nativeImport(pathToFileURL(file).href)) as { program: Program };
    let wall = 1_000_000;
    const env = Object.assign(rt.createMemoryEnv(), { wallClock: () => wall, sleep: () => new Promise<void>((res) => setImmediate(res)) });
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    async function* feed() {
      yield { k: "x", ts: 1000 };
      yield { k: "x", ts: 12_000 };
      await gate; // the source goes quiet
      yield { k: "x", ts: 13_000 }; // after its window [10 s, 20 s) fired: late
    }
    const rows: unknown[] = [];
    const run = rt.runProgram(program, { env, summary: false, sourceOverrides: { a: feed() }, onRow: { out1: (row) => rows.push(row) } });
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 2000 && !ok(); i++) await new Promise((res) => setImmediate(res));
      expect(ok(), what).toBe(true);
    };
    await until("the first window fires (watermark 11 s)", () => rows.length === 1);
    wall += 4_000; // not idle yet
    for (let i = 0; i < 50; i++) await new Promise((res) => setImmediate(res));
    expect(rows.length).toBe(1);
    wall += 1_000; // 5 s without a record: idle from watermark 11 s
    for (let i = 0; i < 50; i++) await new Promise((res) => setImmediate(res));
    expect(rows.length).toBe(1);
    wall += 9_000; // the watermark reaches 20 s: [10 s, 20 s) fires
    await until("the last window fires with the wall clock", () => rows.length === 2);
    release();
    const summary = await run;
    expect(rows).toEqual([
      { window_start: 0, window_end: 10_000, n: 1 },
      { window_start: 10_000, window_end: 20_000, n: 1 },
    ]);
    expect(summary.late).toBe(1);
  });
});
