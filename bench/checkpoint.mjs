// Checkpoint costs (LANGUAGE.md §12; issue bars in docs/performance.md), one measurement per
// process, one at a time:
//
//   node bench/checkpoint.mjs [--quick] [--only keys|overhead] [--variant final|upsert|"string keys"] [--json FILE]
//
//   keys      a keyed `count, sum, avg` over 1M keys (2M records), read by `emit final` and as an
//             upsert stream (`emit`), and with the keys as strings: the checkpoint the run takes
//             when stopped (write: cut, packing, file, fsync, rename), its size per key, and the
//             restore of it by a second run (read, checksum, parse, state put back). The second
//             run is then fed records of those keys for 4 s with a checkpoint every second,
//             written while the loop goes on: how long the loop waited for one (the checkpoint's
//             own count: its cut and its steps), and the longest gap between two records seen
//             by the source (everything that stalled the loop, garbage collection included).
//   overhead  NEXMark q5 and q8 (5M events) with `--checkpoint-every 1s` against without:
//             throughput ratio, runs alternating, best of 5 each.
//
// Needs bench/.build from `node bench/run.mjs` (run.mjs's `checkpoint` section calls this).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const build = join(here, ".build");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
const log = (s) => process.stderr.write(s + "\n");
const KEYS = quick ? 100_000 : 1_000_000;
/** The restored run: fed this long, checkpointing every EVERY_MS. */
const FEED_MS = 4000;
const EVERY_MS = 1000;
const EVENTS = quick ? 500_000 : 5_000_000;

// ---- child: one run of the keys program: fed 1M keys, then stopped (a signal) at a checkpoint;
// or restored from it and fed records of the same keys for a few seconds while periodic
// checkpoints are written, the longest gap between two batches measured from outside.
if (args[0] === "--keys-child") {
  const [, dir, keys, mode] = args;
  const lib = await import(pathToFileURL(join(build, "lib.mjs")).href);
  const { run } = await import(pathToFileURL(join(build, "checkpoint-keys.mjs")).href);
  const stop = new AbortController();
  const restored = mode === "restore";
  const n = Number(keys);
  let longestGap = 0;
  let batches = 0;
  async function* records() {
    if (!restored) {
      // 2 records a key, then nothing until the run is stopped.
      const batch = [];
      for (let i = 0; i < n * 2; i++) {
        batch.push(i);
        if (batch.length === 4096) yield* batch.splice(0);
      }
      yield* batch;
    } else {
      // Records of the keys already there (no new slot) for FEED_MS. An async iterable's items
      // reach the run one at a time: the time between two is the loop's work on one record
      // and whatever stalled it.
      const until = performance.now() + FEED_MS;
      let i = 0;
      let last = performance.now();
      while (performance.now() < until) {
        for (let j = 0; j < 4096; j++) {
          yield (i = (i + 7919) % n);
          const now = performance.now();
          if (now - last > longestGap) longestGap = now - last;
          if (process.env.BENCH_GAPS && now - last > 10) process.stderr.write(`gap ${(now - last).toFixed(1)} ms at ${(now - (until - FEED_MS)).toFixed(0)} ms\n`);
          last = now;
        }
        batches++;
        // Lets timers and I/O in (a checkpoint's write completes on them), as a live source does.
        await new Promise((r) => setImmediate(r));
        last = performance.now();
      }
    }
    setTimeout(() => stop.abort(), 50);
    await new Promise((r) => stop.signal.addEventListener("abort", r));
  }
  const summary = await run({
    env: await lib.nodeEnv(),
    summary: false,
    onRow: { out1: () => {} },
    sourceOverrides: { n: records() },
    checkpoint: { storage: lib.fileCheckpointStorage(dir), everyMs: restored ? EVERY_MS : 3_600_000 },
    signal: stop.signal,
  });
  process.stdout.write(JSON.stringify({ ...summary.checkpoint, longestGap, batches }) + "\n");
  process.exit(0);
}

function childJson(argv) {
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

function flowcBuild(source, out) {
  const file = join(build, out.replace(/\.mjs$/, ".flow"));
  writeFileSync(file, source);
  const r = spawnSync(process.execPath, [join(root, "bin/flowc"), "build", file, "-o", join(build, out)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`flowc build ${file} failed:\n${r.stderr}`);
}

const results = { keys: KEYS };
/** `--only keys|overhead`: one of the two parts. */
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

if (only !== "overhead") {
  // The same state read by `emit final` (rows at the end) and as an upsert stream (a row per
  // record, its key's updated aggregates): both keep it in typed-array columns.
  // `string keys`: the same keys as text (`"123"`), as user or session ids usually are.
  const variants = [["final", "emit final n", `n % ${KEYS}`], ["upsert", "emit n", `n % ${KEYS}`], ["string keys", "emit final n", `string(n % ${KEYS})`]];
  for (const [variant, emit, key] of variants.filter(([v]) => !args.includes("--variant") || args[args.indexOf("--variant") + 1] === v)) {
    log(`bench: checkpoint of ${KEYS.toLocaleString("en")} keys of count/sum/avg (${emit}, group by ${key})`);
    flowcBuild(`source n: int = range(0, 1)\n\n${emit}\n  | group by k = ${key}\n  | agg c = count(), s = sum(n), a = avg(n)\n`, "checkpoint-keys.mjs");
    const dir = mkdtempSync(join(tmpdir(), "flowc-ck-bench-"));
    try {
      const first = childJson([fileURLToPath(import.meta.url), "--keys-child", dir, String(KEYS)]);
      const second = childJson([fileURLToPath(import.meta.url), "--keys-child", dir, String(KEYS), "restore"]);
      const r = {
        writeMs: first.lastMs,
        bytesPerKey: first.lastBytes / KEYS,
        restoreMs: second.restoreMs,
        periodic: second.written - 1,
        periodicWriteMs: second.liveWriteMs,
        stallMs: second.stallMs,
        longestGapMs: second.longestGap,
      };
      // The `emit final` numbers are the top-level ones (bench/run.mjs's table); both under `variants`.
      if (variant === "final") Object.assign(results, r);
      (results.variants ??= {})[variant] = r;
      log(`  stopped: write ${first.lastMs.toFixed(0)} ms, ${(first.lastBytes / KEYS).toFixed(1)} bytes a key; restore ${second.restoreMs.toFixed(0)} ms`);
      log(`  restored and fed ${FEED_MS / 1000}s: ${second.written - 1} checkpoints while the loop ran, written in ${second.liveWriteMs?.toFixed(0)} ms at most; the loop waited ${second.stallMs?.toFixed(1)} ms for one at most; longest gap between two records ${second.longestGap.toFixed(1)} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

results.overhead = [];
for (const q of only === "keys" ? [] : ["q5", "q8"]) {
  log(`bench: checkpoint overhead — ${q}, ${EVENTS.toLocaleString("en")} events, every 1s`);
  const src = (await import("node:fs")).readFileSync(join(root, "examples/nexmark", `${q}.flow`), "utf8");
  flowcBuild(src.replace(/events: [\d_]+/g, `events: ${EVENTS}`).replace(/\s*->\s*file\([^)]*\)/, ""), `checkpoint-${q}.mjs`);
  // bench/child.mjs builds paths from bench/.build: the module name is relative to it.
  const plain = [];
  const checked = [];
  let checkpoints = 0;
  for (let i = 0; i < (quick ? 1 : 5); i++) {
    plain.push(childJson([join(here, "child.mjs"), "nexmark", `checkpoint-${q}.mjs`, String(EVENTS)]).ms[0]);
    const d = mkdtempSync(join(tmpdir(), "flowc-ck-bench-"));
    try {
      const r = childJson([join(here, "child.mjs"), "nexmark", `checkpoint-${q}.mjs`, String(EVENTS), d, "1000"]);
      checked.push(r.ms[0]);
      checkpoints = r.checkpoints;
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }
  const best = (xs) => Math.min(...xs);
  const ratio = best(plain) / best(checked);
  results.overhead.push({ query: q, plainMs: best(plain), checkpointMs: best(checked), ratio, checkpoints });
  log(`  ${q}: ${best(plain).toFixed(0)} ms without, ${best(checked).toFixed(0)} ms with ${checkpoints} checkpoints: ${(ratio * 100).toFixed(1)}% of the throughput`);
}

if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
process.stdout.write(JSON.stringify(results) + "\n");
