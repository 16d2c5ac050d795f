// Test harness for runtime/src/ops: reads the copied conformance inputs, drives operators the
// way the runtime does, and provides a small hand-written aggregate spec builder.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SourceClock } from "../../source-clock";
import type { AggSpec, Key } from "../types";

const here = dirname(fileURLToPath(import.meta.url));

/** The records of testdata/<dir>/<file> (JSONL). */
export function readJsonl(dir: string, file: string): any[] {
  const text = readFileSync(join(here, dir, file), "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

/** Expected output lines of testdata/<dir>/expected.out. */
export function expectedLines(dir: string): string[] {
  return readFileSync(join(here, dir, "expected.out"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
}

/** A time field as epoch ms (accepts ms numbers and ISO-8601 text). */
export function ms(v: unknown): number {
  return typeof v === "number" ? v : Date.parse(String(v));
}

/** Converts the named time fields of a record to epoch ms (a copy). */
export function withTimes<T extends Record<string, unknown>>(rec: T, ...fields: string[]): T {
  const out: Record<string, unknown> = { ...rec };
  for (const f of fields) out[f] = ms(out[f]);
  return out as T;
}

/** JSON line of a row, with `window_start`/`window_end` (and other listed fields) as ISO text. */
export function line(row: Record<string, unknown>, timeFields: string[] = ["window_start", "window_end"]): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = timeFields.includes(k) && typeof v === "number" ? new Date(v).toISOString() : v;
  }
  return JSON.stringify(out);
}

export interface Driven {
  push(row: any, time: number): void;
  advance(wm: number): void;
}

/**
 * Drives one source like the runtime (watermarks by the runtime's SourceClock): push each record,
 * then advance to its watermark (max time seen − delay); at the end advance(+∞). `stages` after
 * the first are advanced after it, in order (chains).
 */
export function driveOne(records: any[], timeField: string, delay: number, first: Driven, ...stages: Driven[]): void {
  const clock = new SourceClock(delay);
  const advanceAll = (wm: number) => {
    first.advance(wm);
    for (const s of stages) s.advance(wm);
  };
  for (const r of records) {
    const t = r[timeField] as number;
    first.push(r, t);
    clock.observe(t);
    advanceAll(clock.watermark);
  }
  advanceAll(clock.end());
}

export interface SourceFeed {
  records: any[];
  timeField: string;
  delay: number;
}

/**
 * Reads several sources merged by event time like the runtime (smallest next time first, ties by
 * declaration order); each source's watermark (a SourceClock) is its max time − delay, +∞ once its
 * last record is read. Calls onRecord(source, row, time) then onWatermark(source, wm) after each record.
 */
export function driveMerged(
  sources: SourceFeed[],
  onRecord: (source: number, row: any, time: number) => void,
  onWatermark: (source: number, wm: number) => void,
): void {
  const pos = sources.map(() => 0);
  const clocks = sources.map((s) => new SourceClock(s.delay));
  for (;;) {
    let best = -1;
    let bestT = Infinity;
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]!;
      if (pos[i]! >= s.records.length) continue;
      const t = s.records[pos[i]!][s.timeField] as number;
      if (best === -1 || t < bestT) {
        best = i;
        bestT = t;
      }
    }
    if (best === -1) break;
    const s = sources[best]!;
    const row = s.records[pos[best]!++];
    onRecord(best, row, bestT);
    const clock = clocks[best]!;
    clock.observe(bestT);
    onWatermark(best, pos[best]! >= s.records.length ? clock.end() : clock.watermark);
  }
  for (let i = 0; i < sources.length; i++) if (sources[i]!.records.length === 0) onWatermark(i, clocks[i]!.end());
}

// ---- a small aggregate spec builder (stands in for generated code) ----

export type Agg<In> =
  | { fn: "count" }
  | { fn: "count"; of: (r: In) => unknown }
  | { fn: "sum" | "min" | "max" | "avg"; of: (r: In) => number | string | null }
  | { fn: "first" | "last" | "collect" | "count_distinct"; of: (r: In) => unknown }
  | { fn: "max_by" | "min_by"; of: (r: In) => unknown; by: (r: In) => number | null };

interface AggState {
  keys: Record<string, unknown>;
  acc: any[];
}

/**
 * Builds an AggSpec: group key fields `keys` (values read from the row), aggregates `aggs`.
 * Results are `{window_start, window_end, ...keys, ...aggs}` (window fields left out when
 * unwindowed). `merge` is provided (panes / incremental sessions); `orderInsensitive` is set when
 * every aggregate is.
 */
export function aggSpec<In>(
  keys: Record<string, (r: In) => unknown>,
  aggs: Record<string, Agg<In>>,
  opts: { windowed?: boolean; merge?: boolean } = {},
): AggSpec<In, AggState, Record<string, unknown>> {
  const keyNames = Object.keys(keys);
  const keyFns = Object.values(keys);
  const aggNames = Object.keys(aggs);
  const aggList = Object.values(aggs);
  const windowed = opts.windowed ?? true;
  const orderInsensitive = aggList.every((a) => ["count", "sum", "min", "max", "count_distinct"].includes(a.fn));
  const spec: AggSpec<In, AggState, Record<string, unknown>> = {
    key(r) {
      if (keyFns.length === 0) return null;
      if (keyFns.length === 1) return keyFns[0]!(r) as Key;
      return JSON.stringify(keyFns.map((f) => f(r)));
    },
    init(r) {
      const k: Record<string, unknown> = {};
      keyNames.forEach((n, i) => (k[n] = keyFns[i]!(r)));
      return {
        keys: k,
        acc: aggList.map((a) =>
          a.fn === "count" ? 0 : a.fn === "collect" ? [] : a.fn === "count_distinct" ? new Set() : a.fn === "avg" ? [0, 0] : null,
        ),
      };
    },
    add(s, r) {
      aggList.forEach((a, i) => {
        if (a.fn === "count") {
          if (!("of" in a) || a.of(r) != null) s.acc[i]++;
          return;
        }
        const v = a.of(r) as any;
        if (v == null) return;
        switch (a.fn) {
          case "sum":
            s.acc[i] = (s.acc[i] ?? 0) + v;
            break;
          case "avg":
            s.acc[i][0] += v;
            s.acc[i][1]++;
            break;
          case "min":
            if (s.acc[i] === null || v < s.acc[i]) s.acc[i] = v;
            break;
          case "max":
            if (s.acc[i] === null || v > s.acc[i]) s.acc[i] = v;
            break;
          case "first":
            if (s.acc[i] === null) s.acc[i] = v;
            break;
          case "last":
            s.acc[i] = v;
            break;
          case "collect":
            s.acc[i].push(v);
            break;
          case "count_distinct":
            s.acc[i].add(v);
            break;
          case "max_by":
          case "min_by": {
            const b = a.by(r);
            if (b == null) return;
            const cur = s.acc[i] as [unknown, number] | null;
            if (cur === null || (a.fn === "max_by" ? b > cur[1] : b < cur[1])) s.acc[i] = [v, b];
            break;
          }
        }
      });
    },
    result(s, start, end) {
      const out: Record<string, unknown> = {};
      if (windowed) {
        out.window_start = start;
        out.window_end = end;
      }
      Object.assign(out, s.keys);
      aggList.forEach((a, i) => {
        const v = s.acc[i];
        out[aggNames[i]!] =
          a.fn === "count_distinct"
            ? v.size
            : a.fn === "avg"
              ? v[1] === 0
                ? null
                : v[0] / v[1]
              : a.fn === "max_by" || a.fn === "min_by"
                ? v === null
                  ? null
                  : v[0]
                : a.fn === "collect"
                  ? [...v]
                  : v;
      });
      return out;
    },
  };
  if (opts.merge !== false) {
    spec.merge = (into, from) => {
      aggList.forEach((a, i) => {
        const f = from.acc[i];
        switch (a.fn) {
          case "count":
            into.acc[i] += f;
            break;
          case "sum":
            if (f !== null) into.acc[i] = (into.acc[i] ?? 0) + f;
            break;
          case "avg":
            into.acc[i][0] += f[0];
            into.acc[i][1] += f[1];
            break;
          case "min":
            if (f !== null && (into.acc[i] === null || f < into.acc[i])) into.acc[i] = f;
            break;
          case "max":
            if (f !== null && (into.acc[i] === null || f > into.acc[i])) into.acc[i] = f;
            break;
          case "first":
            if (into.acc[i] === null) into.acc[i] = f;
            break;
          case "last":
            if (f !== null) into.acc[i] = f;
            break;
          case "collect":
            for (const v of f) into.acc[i].push(v);
            break;
          case "count_distinct":
            for (const v of f) into.acc[i].add(v);
            break;
          case "max_by":
          case "min_by":
            if (f !== null && (into.acc[i] === null || (a.fn === "max_by" ? f[1] > into.acc[i][1] : f[1] < into.acc[i][1]))) {
              into.acc[i] = f;
            }
            break;
        }
      });
    };
    spec.orderInsensitive = orderInsensitive;
  }
  return spec;
}

/** A seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
