// `npm run bench`: every workload of docs/performance.md, flowc beside its baselines, as one table.
//
//   node bench/run.mjs [--quick] [--only SECTION,...] [--runs N] [--md FILE] [--json FILE]
//
// Sections: inmem (flowc vs a hand loop, RxJS, @most/core), files (JSONL and CSV: flowc vs a hand
// script, jq, Miller, DuckDB), nexmark (examples/nexmark/q*.flow on the generator), memory,
// compile, latency (bench/latency.mjs: records through stdin at 1k/10k/100k per second, and at
// 10k/s with 1M keys of state checkpointed every second),
// checkpoint (bench/checkpoint.mjs: 1M keys written and restored, q5/q8 overhead), kafka
// (bench/kafka.mjs: q1 over a topic vs a bare consumer) and backpressure (bench/backpressure.ts:
// Kafka → a slow Postgres table, peak RSS) — these two need kcat and Postgres 15 (.ci/run). Every measurement runs in a process of its own (bench/child.mjs or the tool itself),
// one at a time. Each program's rows are checked against the hand-written version's (a mismatch
// fails the run). --quick uses smaller inputs (for trying the harness, not for numbers).
import { execFileSync, spawnSync } from "node:child_process";
import { cpus, totalmem, type as osType, release } from "node:os";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const build = join(here, ".build");
const data = join(here, ".data");
mkdirSync(build, { recursive: true });
mkdirSync(data, { recursive: true });

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const quick = flag("--quick");
const only = value("--only", "inmem,files,nexmark,memory,compile,latency,checkpoint,kafka,backpressure").split(",");
const RUNS = Number(value("--runs", quick ? 2 : 5));
const N_MEM = quick ? 1_000_000 : 10_000_000;
const N_BIDS = quick ? 100_000 : 1_000_000;
const N_NEXMARK = quick ? 200_000 : 5_000_000;
const N_WINDOW = quick ? 1_000_000 : 10_000_000;

const log = (s) => process.stderr.write(s + "\n");
const node = process.execPath;

// ---------------------------------------------------------------------------------------------
// Build: the bench helpers, the programs, the data.

function esbuild(entry, outfile, external = false) {
  execFileSync(join(root, "node_modules/.bin/esbuild"), [entry, "--bundle", "--platform=node", "--format=esm", `--outfile=${outfile}`, "--log-level=warning", ...(external ? ["--packages=external"] : [])], { stdio: "inherit" });
}

function flowcBuild(flowFile, outName, rewrite) {
  let file = flowFile;
  if (rewrite) {
    file = join(build, outName.replace(/\.mjs$/, ".flow"));
    writeFileSync(file, rewrite(readFileSync(flowFile, "utf8")));
  }
  const r = spawnSync(node, [join(root, "bin/flowc"), "build", file, "-o", join(build, outName)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`flowc build ${relative(root, flowFile)} failed:\n${r.stderr}`);
}

log("bench: building helpers and programs ...");
esbuild(join(here, "lib.ts"), join(build, "lib.mjs"));
esbuild(join(root, "compiler/src/pipeline.ts"), join(build, "compiler.mjs"));
for (const p of readdirSync(join(here, "programs")).filter((f) => f.endsWith(".flow"))) {
  // Sizes follow --quick; file paths are made absolute so built modules run from anywhere.
  flowcBuild(join(here, "programs", p), p.replace(/\.flow$/, ".mjs"), (src) =>
    src
      .replace(/range\(0, 10_000_000\)/, `range(0, ${N_MEM})`)
      .replace(/file\("\.\.\/\.data\/bids-1m\.(jsonl|csv)"\)/, (_, ext) => `file(${JSON.stringify(join(data, `bids-${N_BIDS}.${ext}`))})`),
  );
}
const lib = await import(join(build, "lib.mjs"));
for (const ext of ["jsonl", "csv"]) {
  const f = join(data, `bids-${N_BIDS}.${ext}`);
  if (!existsSync(f)) {
    log(`bench: writing ${relative(root, f)} ...`);
    await lib.writeBids(f, N_BIDS, ext);
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

const rows = []; // the table
const problems = [];

function child(...a) {
  const r = spawnSync(node, [join(here, "child.mjs"), ...a.map(String)], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench/child.mjs ${a.join(" ")} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

const best = (ms) => Math.min(...ms);
const median = (ms) => [...ms].sort((x, y) => x - y)[Math.floor(ms.length / 2)];
const fmtMs = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`);
const fmtRate = (n, ms) => {
  const r = n / (ms / 1000);
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M/s` : `${Math.round(r / 1e3)}k/s`;
};
const ratio = (a, b) => (a / b).toFixed(2) + "×";

/** Wall time of a command (min of `runs`), its stdout and peak RSS (KB, GNU time when present). */
function timed(cmd, argv, runs, opts = {}) {
  let bestMs = Infinity;
  let stdout = "";
  let rss;
  const hasTime = existsSync("/usr/bin/time");
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = hasTime
      ? spawnSync("/usr/bin/time", ["-f", "%M", cmd, ...argv], { encoding: "utf8", maxBuffer: 1 << 28, ...opts })
      : spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 28, ...opts });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}):\n${r.stderr}`);
    if (hasTime) rss = Number(r.stderr.trim().split("\n").pop());
    bestMs = Math.min(bestMs, ms);
    stdout = r.stdout;
  }
  return { ms: bestMs, stdout, rss };
}

const have = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const haveDuck = (() => {
  try {
    return existsSync(join(root, "node_modules/@duckdb/node-api/package.json"));
  } catch {
    return false;
  }
})();

// ---------------------------------------------------------------------------------------------
// In memory

const TARGETS = {
  filterMapReduce: 1.1,
  keyedAgg: 1.0,
  tumblingSum: 1.1,
};
const INMEM = [
  ["filterMapReduce", "filter-map-reduce (range, where, map, sum)", N_MEM],
  ["keyedAgg", "count + sum per key, 1,000 keys (range)", N_MEM],
  ["tumblingSum", "1-s tumbling window sum (iterable of {t, v})", N_MEM],
];

if (only.includes("inmem")) {
  for (const [w, label, n] of INMEM) {
    log(`bench: in memory — ${label}`);
    const res = {};
    for (const impl of ["hand", "flowc", "rxjs", "most"]) res[impl] = child("inmem", w, impl, n, RUNS);
    for (const impl of ["flowc", "rxjs", "most"]) {
      if (res[impl].digest !== res.hand.digest) problems.push(`${w}: ${impl} rows differ from the hand loop's`);
    }
    const h = best(res.hand.ms);
    const f = best(res.flowc.ms);
    rows.push({
      section: "in memory",
      workload: label,
      events: n,
      flowc: `${fmtMs(f)} (${fmtRate(n, f)})`,
      hand: `${fmtMs(h)} (${fmtRate(n, h)})`,
      ratio: ratio(f, h),
      others: `RxJS ${ratio(best(res.rxjs.ms), h)}, most ${ratio(best(res.most.ms), h)}`,
      target: `≤ ${TARGETS[w]}×`,
      met: f / h <= TARGETS[w],
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Files

/** Rows of a tool's JSON output as {channel, n, avg}, whatever it names its fields. */
function normalize(text) {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const o = JSON.parse(l);
      return { channel: o.channel, n: Number(o.n ?? o.price_count), avg: Number(o.avg_price ?? o.price_mean) };
    });
}
function sameRows(a, b) {
  if (a.length !== b.length) return false;
  const m = new Map(b.map((r) => [r.channel, r]));
  return a.every((r) => {
    const o = m.get(r.channel);
    return o !== undefined && o.n === r.n && Math.abs(o.avg - r.avg) <= 1e-9 * Math.abs(r.avg);
  });
}

if (only.includes("files")) {
  for (const ext of ["jsonl", "csv"]) {
    const file = join(data, `bids-${N_BIDS}.${ext}`);
    const mb = statSync(file).size / 1e6;
    const label = `${ext.toUpperCase()}: where price > 1000 | group by channel | count, avg (${Math.round(mb)} MB)`;
    log(`bench: files — ${label}`);
    const hand = timed(node, [join(here, `hand/${ext}-agg.mjs`), file], RUNS > 2 ? 3 : 1);
    const flowc = timed(node, [join(build, `${ext}-agg.mjs`), "--quiet"], RUNS > 2 ? 3 : 1);
    const ref = normalize(hand.stdout);
    if (!sameRows(normalize(flowc.stdout), ref)) problems.push(`${ext}: flowc rows differ from the hand script's`);
    const others = [];
    const other = (name, cmd, argv) => {
      try {
        const r = timed(cmd, argv, 1);
        if (!sameRows(normalize(r.stdout), ref)) problems.push(`${ext}: ${name} rows differ from the hand script's`);
        others.push(`${name} ${ratio(r.ms, hand.ms)}`);
      } catch (e) {
        others.push(`${name} failed`);
        problems.push(`${ext}: ${name}: ${e.message.split("\n")[0]}`);
      }
    };
    if (ext === "jsonl") {
      if (have("jq"))
        // Slurp + group_by: jq 1.6's `reduce` over an object with thousands of keys is quadratic.
        other("jq", "jq", ["-c", "-s", "map(select(.price > 1000)) | group_by(.channel)[] | {channel: .[0].channel, n: length, avg_price: (map(.price) | add / length)}", file]);
      else others.push("jq not installed");
    }
    if (have("mlr")) other("Miller", "mlr", [ext === "csv" ? "--icsv" : "--ijsonl", "--ojsonl", "filter", "$price > 1000", "then", "stats1", "-a", "count,mean", "-f", "price", "-g", "channel", file]);
    else others.push("Miller not installed");
    if (haveDuck) other("DuckDB", node, [join(here, "duckdb.mjs"), ext, file]);
    else others.push("DuckDB not installed (npm i --no-save @duckdb/node-api)");
    rows.push({
      section: "files",
      workload: label,
      events: N_BIDS,
      flowc: `${fmtMs(flowc.ms)} (${fmtRate(N_BIDS, flowc.ms)})`,
      hand: `${fmtMs(hand.ms)} (${ext === "csv" ? "split" : "JSON.parse"})`,
      ratio: ratio(flowc.ms, hand.ms),
      others: others.join(", "),
      target: ext === "jsonl" ? "≤ 0.35×" : "—",
      met: ext === "jsonl" ? flowc.ms / hand.ms <= 0.35 : undefined,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// NEXMark

const NEXMARK_TARGETS = { q0: 2e6, q1: 2e6, q2: 2e6, q4: 5e5, q5: 5e5, q6: 5e5, q7: 5e5, q8: 5e5, q9: 5e5, q11: 5e5, q19: 5e5, bid_histogram: 1e6 };

if (only.includes("nexmark")) {
  const dir = join(root, "examples/nexmark");
  const queries = readdirSync(dir)
    .filter((f) => f.endsWith(".flow"))
    // q0 … q22, then RisingWave's q101 …, then the other workloads on the generator by name.
    .sort((x, y) => (/^q\d/.test(x) && /^q\d/.test(y) ? Number(x.slice(1, -5)) - Number(y.slice(1, -5)) : /^q\d/.test(x) ? -1 : /^q\d/.test(y) ? 1 : x < y ? -1 : 1));
  for (const q of queries) {
    const name = q.slice(0, -5);
    const src = readFileSync(join(dir, q), "utf8");
    if (!/\bemit\b/.test(src.replace(/\/\/.*$/gm, ""))) {
      rows.push({ section: "nexmark", workload: `${name} — not expressible (see ${q})`, events: "", flowc: "—", hand: "", ratio: "", others: "", target: "", met: undefined });
      continue;
    }
    log(`bench: nexmark — ${name}`);
    // The events count is the benchmark's; q10's file output goes to the counting sink too.
    flowcBuild(join(dir, q), `nexmark-${name}.mjs`, (s) => s.replace(/events: [\d_]+/g, `events: ${N_NEXMARK}`).replace(/\s*->\s*file\([^)]*\)/, ""));
    let r;
    try {
      // q13's side table is a file next to the query
      r = child("nexmark", `nexmark-${name}.mjs`, N_NEXMARK);
    } catch (e) {
      problems.push(`${name}: ${e.message.split("\n").slice(0, 3).join(" ")}`);
      continue;
    }
    const ms = r.ms[0];
    const target = NEXMARK_TARGETS[name];
    rows.push({
      section: "nexmark",
      workload: `${name} (${N_NEXMARK / 1e6}M events, ${r.rows} rows out)`,
      events: N_NEXMARK,
      flowc: `${fmtMs(ms)} (${fmtRate(N_NEXMARK, ms)})`,
      hand: "",
      ratio: "",
      others: "",
      target: target ? `≥ ${target >= 1e6 ? target / 1e6 + "M" : target / 1e3 + "k"}/s` : "",
      met: target ? N_NEXMARK / (ms / 1000) >= target : undefined,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Memory

if (only.includes("memory")) {
  log("bench: memory — windowed keyed aggregation");
  const r = child("memory", "windowed-keyed.mjs", N_WINDOW, 1000);
  rows.push({
    section: "memory",
    workload: `${N_WINDOW / 1e6}M values, tumbling(10s), 1,000 keys: peak RSS`,
    events: N_WINDOW,
    flowc: `${r.rss} MB (${fmtRate(N_WINDOW, r.ms[0])})`,
    hand: "",
    ratio: "",
    others: `${r.rows} rows out`,
    target: "< 150 MB",
    met: r.rss < 150,
  });
  log("bench: memory — rolling average over 5m per key");
  const ro = child("memory", "rolling-avg.mjs", N_WINDOW, 1000);
  rows.push({
    section: "memory",
    workload: `${N_WINDOW / 1e6}M values, avg(v) over 5m per key, 1,000 keys: rate, peak RSS`,
    events: N_WINDOW,
    flowc: `${fmtRate(N_WINDOW, ro.ms[0])} (${ro.rss} MB)`,
    hand: "",
    ratio: "",
    others: `${ro.rows} rows out`,
    target: "≥ 2M/s",
    met: N_WINDOW / (ro.ms[0] / 1000) >= 2e6,
  });
  // 2× and 8×: a 1× run may end before the heap reaches its steady size (flat means a plateau).
  log("bench: memory — stateless pipeline, 2× and 8× the JSONL file on stdin");
  const file = join(data, `bids-${N_BIDS}.jsonl`);
  const rss = [];
  for (const times of [2, 8]) {
    const cmd = `for i in $(seq ${times}); do cat ${JSON.stringify(file)}; done | ${JSON.stringify(node)} ${JSON.stringify(join(build, "jsonl-filter.mjs"))} --quiet > /dev/null`;
    const r2 = timed("sh", ["-c", cmd], 1);
    rss.push(r2.rss / 1024);
  }
  // GNU time measures the whole pipeline's largest process: node.
  rows.push({
    section: "memory",
    workload: `stateless where/select over stdin: ${Math.round((2 * statSync(file).size) / 1e6)} MB vs ${Math.round((8 * statSync(file).size) / 1e6)} MB`,
    events: "",
    flowc: `${Math.round(rss[0])} MB vs ${Math.round(rss[1])} MB peak RSS`,
    hand: "",
    ratio: "",
    others: "",
    target: "flat",
    met: rss[1] <= rss[0] * 1.15 + 5,
  });
}

// ---------------------------------------------------------------------------------------------
// Compile latency

if (only.includes("compile")) {
  log("bench: compile latency");
  const fifty = join(here, "fifty-lines.flow");
  const lines = readFileSync(fifty, "utf8").trimEnd().split("\n").length;
  const cold = timed(node, [join(root, "bin/flowc"), "check", fifty], 5);
  rows.push({ section: "compile", workload: `flowc check, ${lines}-line program, cold process`, events: "", flowc: fmtMs(cold.ms), hand: "", ratio: "", others: "", target: "< 300 ms", met: cold.ms < 300 });
  const warm = child("compile", fifty, 20);
  rows.push({ section: "compile", workload: `compile() in process, warm (median of 20)`, events: "", flowc: fmtMs(median(warm.ms)), hand: "", ratio: "", others: `min ${fmtMs(best(warm.ms))}`, target: "< 20 ms", met: warm.ok && median(warm.ms) < 20 });
}

if (only.includes("latency")) {
  log("bench: live latency through stdin (bench/latency.mjs)");
  const out = join(build, "latency.json");
  const r = spawnSync(node, [join(here, "latency.mjs"), "--json", out, ...(quick ? ["--seconds", "1"] : [])], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench/latency.mjs failed:\n${r.stderr}`);
  for (const x of JSON.parse(readFileSync(out, "utf8"))) {
    const ok = x.rate !== 10000 || (x.passP99 <= 10 && x.windowP99 <= 10);
    rows.push({
      section: "latency", workload: `stdin at ${x.rate.toLocaleString("en")} records/s: p50 / p99 delay, pass-through and window rows`, events: "",
      flowc: `${x.passP50.toFixed(1)} / ${x.passP99.toFixed(1)} ms`, hand: "", ratio: "", others: `window rows ${x.windowP50.toFixed(1)} / ${x.windowP99.toFixed(1)} ms`,
      target: x.rate === 10000 ? "p99 ≤ 10 ms" : "", met: x.rate === 10000 ? ok : undefined,
    });
  }
  // The checkpoint pause (issue: checkpoints) measured as the issue asks, with this benchmark:
  // the same records with 1M keys of state checkpointed every second.
  const ckOut = join(build, "latency-ck.json");
  const c = spawnSync(node, [join(here, "latency.mjs"), "--checkpoint-keys", quick ? "100000" : "1000000", "--json", ckOut], { encoding: "utf8" });
  if (c.status !== 0) throw new Error(`bench/latency.mjs --checkpoint-keys failed:\n${c.stderr}`);
  for (const x of JSON.parse(readFileSync(ckOut, "utf8"))) {
    rows.push({
      section: "latency", workload: `stdin at ${x.rate.toLocaleString("en")} records/s, ${x.checkpointKeys.toLocaleString("en")} keys checkpointed every second: p50 / p99 / max delay`, events: "",
      flowc: `${x.passP50.toFixed(1)} / ${x.passP99.toFixed(1)} / ${x.passMax.toFixed(1)} ms`, hand: "", ratio: "", others: `window rows ${x.windowP50.toFixed(1)} / ${x.windowP99.toFixed(1)} / ${x.windowMax.toFixed(1)} ms`,
      target: "stall ≤ 50 ms", met: x.passMax <= 50 && x.windowMax <= 50,
    });
  }
}

if (only.includes("checkpoint")) {
  log("bench: checkpoints (bench/checkpoint.mjs)");
  const out = join(build, "checkpoint.json");
  const r = spawnSync(node, [join(here, "checkpoint.mjs"), "--json", out, ...(quick ? ["--quick"] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error("bench/checkpoint.mjs failed");
  const x = JSON.parse(readFileSync(out, "utf8"));
  const keys = `${x.keys.toLocaleString("en")} keys of count/sum/avg`;
  rows.push({ section: "checkpoint", workload: `${keys}: written at a stop (cut to durable)`, events: "", flowc: fmtMs(x.writeMs), hand: "", ratio: "", others: "", target: "< 500 ms", met: x.writeMs < 500 });
  rows.push({ section: "checkpoint", workload: `${keys}: written while the run goes on, a checkpoint a second (${x.periodic})`, events: "", flowc: fmtMs(x.periodicWriteMs), hand: "", ratio: "", others: `loop waited ≤ ${fmtMs(x.stallMs)} a step`, target: "< 500 ms", met: x.periodicWriteMs < 500 });
  rows.push({ section: "checkpoint", workload: `${keys}: longest gap between two records meanwhile`, events: "", flowc: fmtMs(x.longestGapMs), hand: "", ratio: "", others: "", target: "stall ≤ 50 ms", met: x.longestGapMs <= 50 });
  rows.push({ section: "checkpoint", workload: `${keys}: restored`, events: "", flowc: fmtMs(x.restoreMs), hand: "", ratio: "", others: "", target: "< 500 ms", met: x.restoreMs < 500 });
  rows.push({ section: "checkpoint", workload: `${keys}: size`, events: "", flowc: `${x.bytesPerKey.toFixed(1)} bytes a key`, hand: "", ratio: "", others: "", target: "≤ 40 bytes", met: x.bytesPerKey <= 40 });
  for (const o of x.overhead) {
    rows.push({ section: "checkpoint", workload: `${o.query} with --checkpoint-every 1s (${o.checkpoints} checkpoints) ÷ without`, events: "", flowc: `${fmtMs(o.checkpointMs)} vs ${fmtMs(o.plainMs)}`, hand: "", ratio: `${(o.ratio * 100).toFixed(1)}% of the throughput`, others: "", target: "≥ 95%", met: o.ratio >= 0.95 });
  }
}

const haveBinary = (bin) => spawnSync("sh", ["-c", `command -v ${bin} || test -x ${bin}`]).status === 0;
if (only.includes("kafka")) {
  if (!haveBinary("kcat")) problems.push("kafka: kcat is not installed (see .ci/run)");
  else {
    log("bench: Kafka source (bench/kafka.mjs)");
    const out = join(build, "kafka.json");
    const r = spawnSync(node, [join(here, "kafka.mjs"), "--json", out, ...(quick ? ["--quick"] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) problems.push("kafka: bench/kafka.mjs failed");
    else {
      const x = JSON.parse(readFileSync(out, "utf8"));
      rows.push({ section: "kafka", workload: `q1 over a topic of ${x.messages.toLocaleString("en")} JSON bids (mock cluster), first to last row`, events: x.messages, flowc: `${fmtMs(x.flowcMs)} (${fmtRate(x.messages, x.flowcMs)})`, hand: `${fmtMs(x.bareMs)} (bare kafkajs consumer, JSON.parse only)`, ratio: `${(x.ratio * 100).toFixed(0)}% of its rate`, others: "", target: "≥ 70%", met: x.ratio >= 0.7 });
    }
  }
}
if (only.includes("backpressure")) {
  if (!haveBinary("kcat") || !haveBinary("/usr/lib/postgresql/15/bin/postgres")) problems.push("backpressure: kcat or Postgres 15 is not installed (see .ci/run)");
  else {
    log("bench: backpressure (bench/backpressure.ts)");
    esbuild(join(here, "backpressure.ts"), join(build, "backpressure.mjs"), true);
    const out = join(build, "backpressure.json");
    const r = spawnSync(node, [join(build, "backpressure.mjs"), "--json", out, ...(quick ? ["--quick"] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) problems.push("backpressure: bench/backpressure.ts failed");
    else {
      const x = JSON.parse(readFileSync(out, "utf8"));
      rows.push({ section: "backpressure", workload: `${x.records.toLocaleString("en")} records Kafka → a slow Postgres table (${x.topicMb.toFixed(0)} MB topic)`, events: x.records, flowc: `peak RSS ${Math.round(x.peakRssMb)} MB`, hand: "", ratio: "", others: `${fmtMs(x.ms)} (${Math.round(x.rowsPerSec).toLocaleString("en")} rows/s, every row arrived)`, target: "bounded (≪ topic + baseline)", met: undefined });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const cpu = cpus()[0]?.model ?? "unknown CPU";
const machine = `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${osType()} ${release()}, Node ${process.versions.node}`;
const header = ["", "workload", "flowc", "baseline (hand-written)", "flowc ÷ hand", "others ÷ hand", "target", "met"];
const table = [
  `| ${header.join(" | ")} |`,
  `|${header.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${[r.section, r.workload, r.flowc, r.hand, r.ratio, r.others, r.target, r.met === undefined ? "" : r.met ? "yes" : "**no**"].map((c) => String(c).replaceAll("|", "\\|")).join(" | ")} |`),
].join("\n");
const text = `${table}\n\nMachine: ${machine}. ${quick ? "QUICK RUN (small inputs) — not for numbers. " : ""}Times: best of ${RUNS} (in memory), best of ${RUNS > 2 ? 3 : 1} (files, wall time with process start-up).\n`;
process.stdout.write("\n" + text);
if (problems.length) process.stdout.write("\nProblems:\n" + problems.map((p) => `- ${p}`).join("\n") + "\n");
const md = value("--md");
if (md) writeFileSync(md, text);
const json = value("--json");
if (json) writeFileSync(json, JSON.stringify({ machine, quick, rows, problems }, null, 2));
process.exitCode = problems.length ? 1 : 0;
