// Programs and input for the checkpoint tests (checkpoint.stress.test.ts, checkpoint-kill.stress.test.ts):
// together they use every operator that keeps state — windowed (tumbling, hop with panes, session)
// and unwindowed aggregates in each store (map, columns, dense, one state, generated-loop locals),
// windowed top, distinct (windowed and within), re-aggregation, updating top, emit final tables,
// rolling extend, interval / outer / window joins, an updating stream printed as Debezium
// changes (whose output remembers the rows present) — over JSONL and CSV files (quoted line breaks
// included) with records out of order, late records and bad lines.

import { writeFileSync } from "node:fs";
import { join } from "node:path";

const E = "type E = { k: string, u: int, v: int, note: string?, t: time }\nsource e: E = file(\"e.jsonl\") event time t watermark 1s\n";

export const CHECKPOINT_PROGRAMS: Record<string, string> = {
  windows:
    E +
    `emit tumbling = e | window tumbling(2s) | group by k
  | agg n = count(), s = sum(v), a = avg(v), lo = min(v), hi = max(v), f = first(u), l = last(u),
        d = count_distinct(u), ad = approx_count_distinct(u), p = percentile(v, 0.5), c = collect(note), mb = max_by(u, v)
  -> file("out/tumbling.jsonl")
let hops = e | window hop(4s, 1s) | group by k | agg n = count(), s = sum(v)
emit hop = hops -> file("out/hop.jsonl")
emit top = hops | top 2 by n desc -> file("out/top.jsonl")
emit session = e | window session(700ms) | group by u | agg n = count(), vs = collect(v) -> file("out/session.jsonl")
emit distinct_w = e | window tumbling(3s) | distinct k -> file("out/distinct_w.jsonl")
emit within = e | distinct u within 2s -> file("out/within.jsonl")
`,
  updating:
    E +
    `emit running = e | group by k | agg n = count(), s = sum(v), d = count_distinct(u) -> file("out/running.jsonl")
emit final per_u = e | group by u | agg n = count(), s = sum(v) -> file("out/per_u.jsonl")
emit final per_uv = e | group by uv = u * 1000 + v | agg n = count(), s = sum(v), a = avg(v) -> file("out/per_uv.jsonl")
emit per_uv_running = e | group by uv = u * 1000 + v | agg n = count(), s = sum(v) -> file("out/per_uv_running.jsonl")
emit final per_u_list = e | group by u | agg c = collect(v), f = first(k) -> file("out/per_u_list.jsonl")
emit final all = e | agg n = count(), d = count_distinct(k), ad = approx_count_distinct(u), p = percentile(v, 0.9) -> file("out/all.jsonl")
let per_k = e | group by k | agg n = count(), s = sum(v)
emit hist = per_k | group by n | agg ks = count(), avg_s = avg(s) -> file("out/hist.jsonl")
emit ranks = per_k | top 3 by s desc -> file("out/ranks.jsonl")
emit final per_k_final = per_k | where s > 0 -> file("out/per_k_final.jsonl")
emit changes = per_k | where s % 3 != 0 -> file("out/changes.jsonl", format: "debezium")
emit rolling = e | group by k | extend a = avg(v) over 5s, lo = min(v) over 3 rows, prev = lag(v) | select k, t, v, a, lo, prev -> file("out/rolling.jsonl")
`,
  joins:
    E +
    `type R = { id: int, w: string, t: time }
source r: R = file("r.csv") event time t watermark 1s
emit ij = e as a | join r as b on a.u == b.id within -1s .. 1s | select k = a.k, v = a.v, w = b.w -> file("out/ij.jsonl")
emit lj = e as a | left join r as b on a.u == b.id within 0s .. 2s | select k = a.k, u = a.u, w = b.w -> file("out/lj.csv")
let ew = e | window tumbling(2s)
let rw = r | window tumbling(2s)
emit wj = ew | join rw on ew.u == rw.id | select window_start, k = ew.k, w = rw.w -> file("out/wj.jsonl")
emit anti = e as a | anti join r as b on a.u == b.id within 0s .. 500ms -> file("out/anti.jsonl")
`,
};

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE = Date.UTC(2026, 0, 1);

/**
 * Writes e.jsonl (`n` lines: out of order by up to 1.5 s — some late —, a bad line now and then)
 * and r.csv (`n / 4` rows, some with a quoted line break) into `dir`.
 */
export function writeCheckpointData(dir: string, n: number, seed = 7): void {
  const r = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 997 === 500) {
      lines.push(i % 2 === 0 ? "{ not json" : `{"k":"x","u":"bad","v":1,"t":"2026-01-01T00:00:00Z"}`);
      continue;
    }
    const t = BASE + i * 50 + Math.floor((r() - 0.8) * 1500);
    const note = r() < 0.3 ? null : `n${Math.floor(r() * 5)}`;
    lines.push(JSON.stringify({ k: `k${Math.floor(r() * 8)}`, u: Math.floor(r() * 10), v: Math.floor(r() * 200) - 20, note, t: new Date(t).toISOString() }));
  }
  writeFileSync(join(dir, "e.jsonl"), lines.join("\n") + "\n");
  const rows = ["id,w,t"];
  for (let i = 0; i < n / 4; i++) {
    const t = BASE + i * 200 + Math.floor((r() - 0.7) * 1200);
    const w = r() < 0.05 ? `"w${i}\nsecond line, ""quoted"""` : `w${i % 13}`;
    rows.push(`${Math.floor(r() * 12)},${w},${new Date(t).toISOString()}`);
  }
  writeFileSync(join(dir, "r.csv"), rows.join("\n") + "\n");
}

/** The files a run of these programs writes (outputs, dead letters, late records), under out/. */
export const RUN_FLAGS = ["--dead-letter", "out/dead.jsonl", "--late", "out/late.jsonl", "--quiet"];
