// One benchmark measurement, in a process of its own (started by bench/run.mjs):
//   node bench/child.mjs inmem WORKLOAD IMPL N RUNS     in-memory workload, RUNS timed runs after a warm-up
//   node bench/child.mjs nexmark MODULE.mjs EVENTS [CKDIR EVERY_MS]
//                                                      one NEXMark query, rows to a counting sink
//                                                      (checkpointed to CKDIR every EVERY_MS)
//   node bench/child.mjs memory MODULE.mjs N KEYS       a windowed program over N keyed values: peak RSS
//   node bench/child.mjs compile FILE.flow RUNS         in-process compile time, warm
// Prints one JSON line: { ms: [...], rows, digest, rss }.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { hand, keyedTicks, mostVersions, rxjsVersions, ticks } from "./workloads.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const build = join(here, ".build");
const [mode, a, b, c, d] = process.argv.slice(2);

const digest = (rows) => createHash("sha1").update(rows.map((r) => JSON.stringify(r)).join("\n")).digest("hex").slice(0, 12);
const rssMb = () => process.resourceUsage().maxRSS / 1024;
const out = (o) => process.stdout.write(JSON.stringify({ ...o, rss: Math.round(rssMb()) }) + "\n");

async function flowc(module, options) {
  const checkpoint = options?.checkpointDir ? { storage: (await import(pathToFileURL(join(build, "lib.mjs")).href)).fileCheckpointStorage(options.checkpointDir), everyMs: options.everyMs } : undefined;
  const lib = await import(pathToFileURL(join(build, "lib.mjs")).href);
  const { run } = await import(pathToFileURL(join(build, module)).href);
  return async (overrides) => {
    const rows = [];
    let count = 0;
    const summary = await run({
      env: options?.baseDir ? await lib.nodeEnv() : lib.createMemoryEnv(),
      summary: false,
      onRow: { out1: options?.keep === false ? () => count++ : (r) => rows.push(r) },
      sourceOverrides: overrides ?? {},
      baseDir: options?.baseDir ?? ".",
      ...(checkpoint ? { checkpoint } : {}),
    });
    return { rows, count: options?.keep === false ? count : rows.length, summary };
  };
}

if (mode === "inmem") {
  const [workload, impl, n, runs] = [a, b, Number(c), Number(d)];
  const input = () => (workload === "tumblingSum" ? ticks(n) : n);
  let fn;
  if (impl === "hand") fn = async () => hand[workload](input());
  else if (impl === "rxjs") {
    const r = await rxjsVersions();
    fn = async () => r[workload](input());
  } else if (impl === "most") {
    const m = await mostVersions();
    fn = async () => m[workload](input());
  } else {
    const module = { filterMapReduce: "filter-map-reduce.mjs", keyedAgg: "keyed-agg.mjs", tumblingSum: "tumbling-sum.mjs" }[workload];
    const f = await flowc(module);
    fn = async () => (await f(workload === "tumblingSum" ? { ticks: ticks(n) } : undefined)).rows;
  }
  let rows = await fn(); // warm-up (and the rows to check)
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows = await fn();
    ms.push(performance.now() - t0);
  }
  out({ ms, rows: rows.length, digest: digest(rows) });
} else if (mode === "nexmark") {
  const f = await flowc(a, { keep: false, baseDir: join(here, "../examples/nexmark"), checkpointDir: c, everyMs: Number(d) });
  const t0 = performance.now();
  const r = await f();
  out({ ms: [performance.now() - t0], rows: r.count, totalIn: r.summary.totalIn, checkpoints: r.summary.checkpoint?.written });
} else if (mode === "memory") {
  const [n, keys] = [Number(b), Number(c)];
  const f = await flowc(a, { keep: false });
  const t0 = performance.now();
  const r = await f({ ticks: keyedTicks(n, keys) });
  out({ ms: [performance.now() - t0], rows: r.count });
} else if (mode === "compile") {
  const { compile } = await import(pathToFileURL(join(build, "compiler.mjs")).href);
  const source = readFileSync(a, "utf8");
  const runs = Number(b);
  const ms = [];
  let ok = true;
  for (let i = 0; i < runs + 5; i++) {
    const t0 = performance.now();
    const r = compile(source, { file: "fifty.flow" });
    const t = performance.now() - t0;
    ok &&= r.ok;
    if (i >= 5) ms.push(t); // the first five warm the JIT
  }
  out({ ms, ok });
} else {
  console.error(`usage: node bench/child.mjs inmem|nexmark|memory|compile ...`);
  process.exit(2);
}
