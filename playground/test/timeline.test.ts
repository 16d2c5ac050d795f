import { describe, expect, it } from "vitest";
import { barLabel, buildTimeline, defaultLayout, describeHit, niceTicks, renderTimeline, stepAtTime, watermarkAt, windowsOf } from "../src/timeline";
import { example, runSource } from "./helpers";

// The SVG escapes only & < > " in text; titles are compared as the SVG holds them.
const esc = (t: string) => t.replace(/^<title>|<\/title>$/g, "").replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!).replace(/^/, "<title>").replace(/$/, "</title>");

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

  it("an interval join gets a lane: both sides' rows and a link per pair matched (c08)", async () => {
    const ex = example("c08_interval_join");
    const { c, r } = await runSource(ex.program, ex.files);
    expect(c.ops.map((o) => [o.kind, o.interval])).toEqual([["join", { lower: -5000, upper: 5000 }]]);
    const m = buildTimeline(r.trace, c.ops);
    const join = m.ops[0]!.join!;
    expect(join.pairs.length).toBe(r.outputs[0]!.total);
    for (const p of join.pairs) {
      const l = join.dots[p.left]!, rt = join.dots[p.right]!;
      expect([l.side, rt.side]).toEqual([0, 1]);
      expect(Math.abs(rt.t - l.t)).toBeLessThanOrEqual(5000);
    }
    const end = renderTimeline(m, m.steps, defaultLayout(900));
    expect(end.svg.match(/class="pair"/g)!.length).toBe(join.pairs.length);
    expect(end.svg).toContain("join within [−5s, +5s]");
    expect(end.svg).toContain(`${join.pairs.length} pairs`);
    expect(renderTimeline(m, 0, defaultLayout(900)).svg).not.toContain('class="pair"');
    const hover = describeHit(m, `j0:${join.pairs[0]!.left}`, m.steps)!;
    expect(hover.title).toMatch(/^join · left row/);
    expect(hover.body).toMatch(/paired with [1-9]/);
  });

  it("window-join bars count records per side and, once fired, the rows they joined (c09)", async () => {
    const ex = example("c09_window_join");
    const { c, r } = await runSource(ex.program, ex.files);
    const m = buildTimeline(r.trace, c.ops);
    const lane = m.ops[0]!;
    expect(lane.windows.every((w) => w.sides !== undefined)).toBe(true);
    expect(lane.windows.reduce((a, w) => a + w.rows.length, 0)).toBe(r.outputs[0]!.total);
    const w = lane.windows.find((x) => x.rows.length > 1)!;
    expect(barLabel(w, m.steps, true)).toBe(`L ${w.sides![0].length} · R ${w.sides![1].length} → ${w.rows.length} rows`);
    expect(barLabel(w, 0, false)).toBe("L 0 · R 0");
    expect(renderTimeline(m, m.steps, defaultLayout(1400)).svg).toContain(`→ ${w.rows.length} rows`);
  });

  it("a window that has not fired yet shows no rows; session bars show their key (c07, c06)", async () => {
    const ex = example("c07_late_records");
    const { c, r } = await runSource(ex.program, ex.files);
    const m = buildTimeline(r.trace, c.ops);
    const w = m.ops[0]!.windows[3]!;
    const before = describeHit(m, "o0:3", w.fireStep! - 1)!;
    expect(before.body).not.toContain("rows (");
    expect(before.body).toContain(`fires after record ${w.fireStep}`);
    expect(describeHit(m, "o0:3", w.fireStep!)!.body).toContain("rows (1)");

    const sx = example("c06_session");
    const s = await runSource(sx.program, sx.files);
    const sm = buildTimeline(s.r.trace, s.c.ops);
    const svg = renderTimeline(sm, sm.steps, defaultLayout(1400)).svg;
    for (const bar of sm.ops[0]!.windows) expect(svg).toContain(esc(`<title>${bar.key} · ✓ ${bar.adds.length}</title>`));
    // Each row of the lane is labelled with its key, left of the bars.
    expect([...sm.ops[0]!.rowKeys!].sort()).toEqual(['user "u1"', 'user "u2"', 'user "u3"']);
    expect(svg.match(/class="row-key"[^>]*>user &quot;u\d&quot;</g)!.length).toBe(3);
  });

  it("past the trace limit the end still says the inputs ended (+∞)", async () => {
    const ex = example("c07_late_records");
    const { c, r } = await runSource(ex.program, ex.files, { maxRows: 1000, maxTrace: 20 });
    expect(r.trace.truncated).toBe(true);
    const m = buildTimeline(r.trace, c.ops);
    expect(watermarkAt(m.sources[0]!.watermarks, m.steps)).toBe(Infinity);
    expect(watermarkAt(m.ops[0]!.watermarks, m.steps)).toBe(Infinity);
    const svg = renderTimeline(m, m.steps, defaultLayout(900)).svg;
    expect(svg.match(/\+∞ \(ended\)/g)!.length).toBe(2);
  });

  it("nice ticks", () => {
    expect(niceTicks(0, 60_000, 6)).toEqual({ step: 10_000, ticks: [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000] });
    expect(niceTicks(0, 10, 5).step).toBe(2);
  });
});

describe("timeline: outer and anti joins (§13)", () => {
  it("marks the rows a left join emitted padded, and its watermark lane (c30)", async () => {
    const ex = example("c30_left_join_within");
    const { c, r } = await runSource(ex.program, ex.files);
    const m = buildTimeline(r.trace, c.ops);
    const lane = m.ops.find((o) => o.join)!;
    expect(lane.op.joinKind).toBe("left");
    const padded = lane.join!.released!;
    // The padded rows are the ones printed with a null carrier.
    const nullRows = r.outputs[0]!.rows.filter((x) => JSON.parse(x).carrier === null).length;
    expect(padded.length).toBe(nullRows);
    expect(padded.every((p) => p.side === 0 && p.kind === "unmatched")).toBe(true);
    expect(lane.watermarks.length).toBeGreaterThan(1);
    const svg = renderTimeline(m, m.steps, defaultLayout(900)).svg;
    expect(svg).toContain(`${nullRows} unmatched`);
    expect(svg.match(/class="released unmatched"/g)!.length).toBe(nullRows);
    expect(describeHit(m, `r${m.ops.indexOf(lane)}:0`, m.steps)!.body).toContain("emitted with the right side null");
  });

  it("a left window join's bars say how many rows had no partner, and mark them (c34)", async () => {
    const ex = example("c34_window_left_join");
    const { c, r } = await runSource(ex.program, ex.files);
    expect(c.ops.map((o) => o.joinKind)).toEqual(["left"]);
    const m = buildTimeline(r.trace, c.ops);
    const lane = m.ops[0]!;
    const nullRows = r.outputs[0]!.rows.filter((x) => JSON.parse(x).reserve === null).length;
    expect(nullRows).toBeGreaterThan(0);
    expect(lane.windows.reduce((a, w) => a + (w.unmatched?.length ?? 0), 0)).toBe(nullRows);
    const k = lane.windows.findIndex((w) => (w.unmatched?.length ?? 0) > 0);
    const w = lane.windows[k]!;
    expect(barLabel(w, m.steps, true, "left")).toBe(`L ${w.sides![0].length} · R ${w.sides![1].length} → ${w.rows.length} row${w.rows.length === 1 ? "" : "s"}, ${w.unmatched!.length} unmatched`);
    expect(barLabel(w, w.fireStep! - 1, false, "left")).not.toContain("unmatched");
    const svg = renderTimeline(m, m.steps, defaultLayout(1400)).svg;
    expect(svg.match(/class="released unmatched"/g)!.length).toBe(lane.windows.filter((x) => x.unmatched).length);
    expect(renderTimeline(m, 0, defaultLayout(1400)).svg).not.toContain("released");
    expect(describeHit(m, `o0:${k}`, m.steps)!.body).toContain("without a partner in the window: emitted with the other side null");
  });

  it("marks every row of an anti join as absent (c32)", async () => {
    const ex = example("c32_anti_join_unpaid");
    const { c, r } = await runSource(ex.program, ex.files);
    const m = buildTimeline(r.trace, c.ops);
    const lane = m.ops.find((o) => o.join)!;
    expect(lane.join!.released!.length).toBe(r.outputs.find((o) => o.name === "unpaid_orders")!.total);
    expect(renderTimeline(m, m.steps, defaultLayout(900)).svg).toContain("without a match");
  });
});
