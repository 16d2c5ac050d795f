// The run reads every clock through its Env: `now()` (elapsed time, progress, pacing) and
// `wallClock()` (arrival times). A fake clock makes them exact.
import { describe, expect, it } from "vitest";
import type { GraphInstance, Program, RecordSchema, Schema } from "../contract.js";
import { runProgram } from "../driver.js";
import { createMemoryEnv } from "../env.js";
import { SourceClock } from "../source-clock.js";

const int: Schema = { kind: "int" };
const time: Schema = { kind: "time" };
const Ev: RecordSchema = { kind: "record", fields: [{ name: "n", type: int }, { name: "t", type: time }] };

/** One source `s` (given as an override), one output; pushes are recorded. */
function program(eventTime: boolean): Program & { pushes: [unknown, number][]; advances: number[] } {
  const p: Program & { pushes: [unknown, number][]; advances: number[] } = {
    file: "clock.flow",
    sources: [{ name: "s", schema: Ev, connector: { kind: "stdin", format: "jsonl" }, ...(eventTime && { eventTime: { field: "t", delayMs: 5 } }) }],
    tables: [],
    outputs: [{ name: "o", schema: Ev, final: false }],
    pushes: [],
    advances: [],
    create(ctx): GraphInstance {
      return {
        push: [
          (r: unknown, t: number) => {
            p.pushes.push([r, t]);
            ctx.emit[0]!(r);
          },
        ],
        advance: (_i, wm) => void p.advances.push(wm),
        finish() {},
      };
    },
  };
  return p;
}

describe("the run's clocks come from its Env", () => {
  it("elapsed time and events/s of the summary are computed from Env.now()", async () => {
    let now = 1000;
    const env = createMemoryEnv({ now: () => now });
    async function* items() {
      yield { n: 1, t: 10 };
      yield { n: 2, t: 20 };
      now = 1500; // half a second passes while the source is read
      yield { n: 3, t: 30 };
    }
    const s = await runProgram(program(true), { env, sourceOverrides: { s: items() } });
    expect(s.elapsedMs).toBe(500);
    expect(s.eventsPerSec).toBe(6);
    expect(env.stderrText()).toContain(", 500 ms, 6 events/s");
  });

  it("the progress line ticks by Env.now()", async () => {
    let now = 0;
    const env = createMemoryEnv({ now: () => now, stderrIsTTY: true });
    async function* items() {
      for (let i = 1; i <= 3; i++) {
        now = 300 * i; // each item arrives 300 ms after the one before: past the 250 ms tick
        yield { n: i, t: i };
      }
    }
    await runProgram(program(true), { env, sourceOverrides: { s: items() } });
    const ticks = env.stderrText().match(/flowc: \d+ events, [^\r]*? events\/s/g);
    expect(ticks).toEqual(["flowc: 1 events, 3 events/s", "flowc: 2 events, 3 events/s", "flowc: 3 events, 3 events/s"]);
  });

  it("arrival times (a source without event time) come from Env.wallClock()", async () => {
    let wall = 1_700_000_000_000;
    const env = createMemoryEnv({ wallClock: () => wall++ });
    const p = program(false);
    await runProgram(p, { env, summary: false, sourceOverrides: { s: [{ n: 1, t: 0 }, { n: 2, t: 0 }] } });
    // one batch: one arrival time for both records, and the watermark follows it
    expect(p.pushes.map(([, t]) => t)).toEqual([1_700_000_000_000, 1_700_000_000_000]);
    expect(p.advances).toEqual([1_700_000_000_000, Infinity]);
  });
});

describe("SourceClock", () => {
  it("watermark = largest time − delay, rising only, +∞ at end", () => {
    const c = new SourceClock(5);
    expect(c.watermark).toBe(-Infinity);
    expect(c.observe(10)).toBe(true);
    expect(c.watermark).toBe(5);
    expect(c.observe(8)).toBe(false);
    expect(c.observe(10)).toBe(false);
    expect(c.watermark).toBe(5);
    expect(c.observe(12)).toBe(true);
    expect(c.watermark).toBe(7);
    expect(c.end()).toBe(Infinity);
    expect(c.watermark).toBe(Infinity);
  });
});

describe("PartitionedClock in a checkpoint", () => {
  it("snapshot and restore keep each partition's largest time, last batch and idle state", async () => {
    const { PartitionedClock } = await import("../source-clock.js");
    const a = new PartitionedClock(10);
    a.assign([0, 1, 2], 1000);
    a.select(0, 1000);
    a.observe(500);
    a.select(1, 1005);
    a.observe(700);
    // Partitions 0 and 2 go idle (1 is current): the source's watermark is partition 1's.
    expect(a.markIdle(1100, 50)).toBe(true);
    expect(a.maxTime).toBe(700);
    expect(a.nextIdleAt(50)).toBe(Infinity);
    const saved = JSON.parse(JSON.stringify(a.snapshot()));
    const b = new PartitionedClock(10);
    b.restore(saved);
    b.maxTime = a.maxTime;
    expect(b.snapshot()).toEqual(a.snapshot());
    // Both go on alike: partition 2 speaks (−∞ → 600), the idle ones do not hold the source back.
    for (const c of [a, b]) {
      c.select(2, 1200);
      c.observe(600);
    }
    expect(b.maxTime).toBe(a.maxTime);
    expect(b.nextIdleAt(50)).toBe(a.nextIdleAt(50));
    expect(b.nextIdleAt(50)).toBe(1055); // partition 1, seen at 1005
  });
});
