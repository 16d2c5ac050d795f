// `--metrics HOST:PORT` (LANGUAGE.md §10): what a run exposes while it runs, in the Prometheus
// text exposition format (`GET /metrics`) and as a health answer (`GET /healthz`). Browser-safe:
// the HTTP server is node.ts's; it reads the probe the driver hands to RunOptions.metrics.

import type { SourceState } from "./inputs.js";
import type { MetricsProbe } from "./options.js";
import type { ConnectionBoard } from "./network.js";
import type { Outputs } from "./outputs.js";

export type { MetricsProbe } from "./options.js";

/** A label value as the text format writes it: backslash, double quote and newline escaped. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A sample value: `+Inf`, `-Inf` and `NaN` as the format spells them. */
function sample(v: number): string {
  return v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : Number.isNaN(v) ? "NaN" : String(v);
}

/** The probe of a run: its sources, bad records per source, late records per operator, outputs. */
/** A checkpointed run's timings (checkpoint/run.ts `CheckpointRun.timing`). */
export interface CheckpointTiming {
  buckets: readonly number[];
  bounds: readonly number[];
  sumS: number;
  count: number;
  lastSuccessS: number;
}

export function runProbe(
  sources: readonly SourceState[],
  badBySource: ReadonlyMap<string, number>,
  outputs: Outputs,
  outputNames: readonly string[],
  board: ConnectionBoard,
  checkpoint?: () => CheckpointTiming,
  /** `[operator, entries]` of each stateful operator (state-size.ts), read at each scrape. */
  state?: () => [string, number][],
): MetricsProbe {
  return {
    text() {
      const out: string[] = [];
      const family = (name: string, type: "counter" | "gauge", help: string, rows: [string, number][]) => {
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, v] of rows) out.push(`${name}${labels} ${sample(v)}`);
      };
      const src = (s: SourceState) => `{source="${labelValue(s.name)}"}`;
      family("flowc_source_records_total", "counter", "Valid records read from a source.", sources.map((s) => [src(s), s.count]));
      family("flowc_source_bad_records_total", "counter", "Records of a source that did not match its type.", sources.map((s) => [src(s), badBySource.get(s.name) ?? 0]));
      family(
        "flowc_watermark_seconds",
        "gauge",
        "A source's watermark, in seconds since the epoch (-Inf before its first record).",
        sources.map((s) => [src(s), Math.max(s.clock.watermark, s.idle?.given ?? -Infinity) / 1000]),
      );
      const lags: [string, number][] = [];
      for (const s of sources) for (const [partition, n] of s.lag?.() ?? []) lags.push([`{source="${labelValue(s.name)}",partition="${partition}"}`, n]);
      if (lags.length > 0) family("flowc_source_lag", "gauge", "Records behind the broker's end of a partition, as of its last batch.", lags);
      family("flowc_late_records_total", "counter", "Records dropped as late, per operator (file:line stage).", [...outputs.lateByOperator].map(([op, n]) => [`{operator="${labelValue(op)}"}`, n]));
      family("flowc_output_rows_total", "counter", "Rows written to an output.", outputNames.map((name, k) => [`{output="${labelValue(name)}"}`, outputs.counts[k] ?? 0]));
      const st = state?.();
      if (st !== undefined && st.length > 0) {
        family("flowc_state_entries", "gauge", "Entries of state an operator holds (keys × open windows; estimated from a sample for large structures).", st.map(([op, n]) => [`{operator="${labelValue(op)}"}`, n]));
      }
      const ck = checkpoint?.();
      if (ck !== undefined) {
        // A histogram: cumulative buckets, then +Inf, sum and count (the text format's layout).
        out.push("# HELP flowc_checkpoint_duration_seconds How long writing a checkpoint took.", "# TYPE flowc_checkpoint_duration_seconds histogram");
        ck.bounds.forEach((le, i) => out.push(`flowc_checkpoint_duration_seconds_bucket{le="${le}"} ${ck.buckets[i]}`));
        out.push(`flowc_checkpoint_duration_seconds_bucket{le="+Inf"} ${ck.count}`, `flowc_checkpoint_duration_seconds_sum ${ck.sumS}`, `flowc_checkpoint_duration_seconds_count ${ck.count}`);
        if (!Number.isNaN(ck.lastSuccessS)) family("flowc_checkpoint_last_success_timestamp_seconds", "gauge", "When the last checkpoint was written (seconds since the epoch).", [["", ck.lastSuccessS]]);
      }
      return out.join("\n") + "\n";
    },
    health() {
      const down = board.list();
      return { ok: down.length === 0, down };
    },
  };
}
