// Checkpoint costs (LANGUAGE.md §12; issue bars in docs/performance.md), one measurement per
// process, one at a time:
//
//   node bench/checkpoint.mjs [--quick] [--json FILE]
//
//   keys      a keyed `count, sum, avg` over 1M keys (2M records): the checkpoint the run takes
//             when stopped (write: snapshot, text, fsync, rename), its size per key, and the
//             restore of it by a second run (read, checksum, parse, state put back). The record
//             loop waits for a checkpoint to be written, so `write` is also its longest stall.
//   overhead  NEXMark q5 and q8 (5M events) with `--checkpoint-every 1s` against without:
//             throughput ratio, runs alternating, best of 3 each.
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
const EVENTS = quick ? 500_000 : 5_000_000;

// ---- child: one run of the keys program, suspended (a signal) at a checkpoint once fed -------
if (args[0] === "--keys-child") {
  const [, dir, keys] = args;
  const lib = await import(pathToFileURL(join(build, "lib.mjs")).href);
  const { run } = await import(pathToFileURL(join(build, "checkpoint-keys.mjs")).href);
  const stop = new AbortController();
  const fed = Number(keys) * 2;
  // An endless source: 2 records a key, then nothing until the run is stopped.
  async function* records() {
    const restored = args[3] === "restore";
    if (!restored) {
      const batch = [];
      for (let i = 0; i < fed; i++) {
        batch.push(i);
        if (batch.length === 4096) yield* batch.splice(0);
      }
      yield* batch;
    }
    setTimeout(() => stop.abort(), 50);
    await new Promise((r) => stop.signal.addEventListener("abort", r));
  }
  const summary = await run({
    env: await lib.nodeEnv(),
    summary: false,
    onRow: { out1: () => {} },
    sourceOverrides: { n: records() },
    checkpoint: { storage: lib.fileCheckpointStorage(dir), everyMs: 3_600_000 },
    signal: stop.signal,
  });
  process.stdout.write(JSON.stringify(summary.checkpoint) + "\n");
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

log(`bench: checkpoint of ${KEYS.toLocaleString("en")} keys of count/sum/avg`);
flowcBuild(
  `source n: int = range(0, 1)\n\nemit final n\n  | group by k = n % ${KEYS}\n  | agg c = count(), s = sum(n), a = avg(n)\n`,
  "checkpoint-keys.mjs",
);
const dir = mkdtempSync(join(tmpdir(), "flowc-ck-bench-"));
try {
  const first = childJson([fileURLToPath(import.meta.url), "--keys-child", dir, String(KEYS)]);
  const second = childJson([fileURLToPath(import.meta.url), "--keys-child", dir, String(KEYS), "restore"]);
  Object.assign(results, { writeMs: first.lastMs, bytesPerKey: first.lastBytes / KEYS, restoreMs: second.restoreMs, rewriteMs: second.lastMs });
  log(`  write ${first.lastMs.toFixed(0)} ms, ${(first.lastBytes / KEYS).toFixed(1)} bytes a key; restore ${second.restoreMs.toFixed(0)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

results.overhead = [];
for (const q of ["q5", "q8"]) {
  log(`bench: checkpoint overhead — ${q}, ${EVENTS.toLocaleString("en")} events, every 1s`);
  const src = (await import("node:fs")).readFileSync(join(root, "examples/nexmark", `${q}.flow`), "utf8");
  flowcBuild(src.replace(/events: [\d_]+/g, `events: ${EVENTS}`).replace(/\s*->\s*file\([^)]*\)/, ""), `checkpoint-${q}.mjs`);
  // bench/child.mjs builds paths from bench/.build: the module name is relative to it.
  const plain = [];
  const checked = [];
  let checkpoints = 0;
  for (let i = 0; i < 3; i++) {
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
