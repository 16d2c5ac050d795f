// The metrics of a run in Prometheus text format (LANGUAGE.md §10): families, labels escaped,
// ±∞ spelled as the format wants, broker lag per partition only where a source tells it.
import { describe, expect, it } from "vitest";
import { PartitionedClock, SourceClock } from "../source-clock";
import { labelValue, runProbe } from "./metrics";
import { ConnectionBoard } from "./network";
import type { SourceState } from "./inputs";
import type { Outputs } from "./outputs";

const source = (name: string, clock: SourceClock, count: number, lag?: Map<number, number>) => ({ name, clock, count, ...(lag && { lag: () => lag }) }) as unknown as SourceState;

describe("runProbe", () => {
  it("writes each family with its type, escapes labels, and lags only for broker sources", () => {
    const clicks = new PartitionedClock(1000);
    clicks.assign([0]);
    clicks.select(0);
    clicks.observe(61_000);
    const outputs = { counts: [3], lateByOperator: new Map([['q.flow:4 window agg', 2]]) } as unknown as Outputs;
    const board = new ConnectionBoard();
    const p = runProbe([source('we"ird\\name', new SourceClock(0), 5), source("clicks", clicks, 7, new Map([[0, 12]]))], new Map([["clicks", 1]]), outputs, ["out1"], board);
    const text = p.text();
    expect(text).toContain('# TYPE flowc_source_records_total counter\nflowc_source_records_total{source="we\\"ird\\\\name"} 5\nflowc_source_records_total{source="clicks"} 7');
    expect(text).toContain('flowc_watermark_seconds{source="we\\"ird\\\\name"} -Inf');
    expect(text).toContain('flowc_watermark_seconds{source="clicks"} 60');
    expect(text).toContain('flowc_source_bad_records_total{source="clicks"} 1');
    expect(text).toContain('flowc_source_lag{source="clicks",partition="0"} 12');
    expect(text).toContain('flowc_late_records_total{operator="q.flow:4 window agg"} 2');
    expect(text).toContain('flowc_output_rows_total{output="out1"} 3');
    expect(p.health()).toEqual({ ok: true, down: [] });
    board.down("source clicks (kafka topic c)", "connect ECONNREFUSED");
    expect(p.health()).toEqual({ ok: false, down: ["source clicks (kafka topic c) (connect ECONNREFUSED)"] });
    expect(labelValue("a\nb")).toBe("a\\nb");
  });
});
