import { describe, expect, it } from "vitest";
import { buildTimeline, defaultLayout, describeHit, niceTicks, renderTimeline, stepAtTime, watermarkAt, windowsOf } from "../src/timeline";
import { example, runSource } from "./helpers";

describe("timeline model", () => {
  it("windows of a record: tumbling, hop, carried", () => {
    const tumbling = { kind: "tumbling" as const, size: 5000, slide: 5000, carried: false };
    expect(windowsOf(7300, tumbling)).toEqual([[5000, 10000]]);
    expect(windowsOf(-1, tumbling)).toEqual([[-5000, 0]]);
    const hop = { kind: "hop" as const, size: 10_000, slide: 2000, carried: false };
    expect(windowsOf(7300, hop)).toEqual([[-2000, 8000], [0, 10000], [2000, 12000], [4000, 14000], [6000, 16000]]);
    expect(windowsOf(9999, { ...hop, carried: true })).toEqual([[0, 10000]]);
  });

  it("late records, fired windows and watermarks of c07, step by step", async () => {
    const ex = example("c07_late_records");
    const { c, r } = await runSource(ex.program, ex.files);
    const m = buildTimeline(r.trace, c.ops);
    expect(m.steps).toBe(80);
    const lane = m.ops[0]!;
    expect(lane.windows.length).toBe(8);
    expect(lane.windows.map((w) => w.adds.length)).toEqual([3, 8, 12, 16, 8, 14, 9, 7]);
    expect(lane.windows.every((w) => w.fireStep !== undefined && w.rows.length === 1)).toBe(true);
    expect(lane.late.length).toBe(3);
    expect(m.sources[0]!.records.filter((x) => x.late).length).toBe(3);
    // Each window fires once the watermark (max time − 2s) reaches its end.
    for (const w of lane.windows) {
      expect(watermarkAt(lane.watermarks, w.fireStep!)).toBeGreaterThanOrEqual(w.end);
      expect(watermarkAt(lane.watermarks, w.fireStep! - 1)).toBeLessThan(w.end);
    }
    // At the start nothing is read; at the end everything has fired.
    const start = renderTimeline(m, 0, defaultLayout(900));
    expect(start.svg).not.toContain('class="win');
    const end = renderTimeline(m, m.steps, defaultLayout(900));
    expect(end.svg.match(/class="win fired"/g)!.length).toBe(8);
    expect(end.svg.match(/class="late"/g)!.length).toBe(3);
    expect(end.svg).toContain("3 late");
    const mid = renderTimeline(m, 40, defaultLayout(900));
    expect(mid.svg).toMatch(/40 of 80 read/);
    expect(mid.svg.match(/class="win fired"/g)!.length).toBeLessThan(8);
  });

  it("scrubs to an event time and describes what is under the pointer", async () => {
    const ex = example("c07_late_records");
    const { c, r } = await runSource(ex.program, ex.files);
    const m = buildTimeline(r.trace, c.ops);
    expect(stepAtTime(m, m.t0 - 1)).toBe(0);
    expect(stepAtTime(m, m.t1)).toBe(m.steps);
    const s = stepAtTime(m, Date.parse("2026-01-01T00:00:10Z"));
    expect(m.prefixMax[s]!).toBeLessThanOrEqual(Date.parse("2026-01-01T00:00:10Z"));
    expect(m.prefixMax[s + 1]!).toBeGreaterThan(Date.parse("2026-01-01T00:00:10Z"));
    const lateIndex = m.sources[0]!.records.findIndex((x) => x.late);
    const d = describeHit(m, `s0:${lateIndex}`, m.steps)!;
    expect(d.late).toBe(true);
    expect(d.title).toContain("LATE");
    expect(d.body).toContain('"auction"');
    const w = describeHit(m, "o0:0", m.steps)!;
    expect(w.title).toMatch(/^window \[/);
    expect(w.body).toContain("fired after record");
    expect(describeHit(m, "x1:2", 0)).toBeUndefined();
  });

  it("session windows come from the rows they fire, per key", async () => {
    const ex = example("c06_session");
    const { c, r } = await runSource(ex.program, ex.files);
    const m = buildTimeline(r.trace, c.ops);
    const lane = m.ops[0]!;
    expect(lane.windows.length).toBe(r.outputs[0]!.total);
    expect(lane.rows).toBe(3); // three users
    const total = lane.windows.reduce((a, w) => a + w.adds.length, 0);
    expect(total).toBe(60);
    // each session's count matches its row's `clicks`
    for (const w of lane.windows) expect(JSON.parse(w.rows[0]!).clicks).toBe(w.adds.length);
  });

  it("nice ticks", () => {
    expect(niceTicks(0, 60_000, 6)).toEqual({ step: 10_000, ticks: [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000] });
    expect(niceTicks(0, 10, 5).step).toBe(2);
  });
});
