// Live latency (LANGUAGE.md §10): records written to a built program's stdin at a steady rate;
// the delay from writing a record to reading the row it produced on stdout — for a pass-through
// `where` row, and for a window row after the record that closes its window (watermark 0s).
//
//   node bench/latency.mjs [--rates 1000,10000,100000] [--seconds 3] [--warmup 1] [--json FILE]
//   node bench/latency.mjs --checkpoint-keys 1000000 [--rates 10000] [--seconds 5]
//
// Needs `node scripts/build.mjs` first (uses bin/flowc to build the program). Prints a table;
// the target (issue: live streams) is p99 ≤ 10 ms at 10k records/s.
//
// With --checkpoint-keys N the program also keeps N keys of `count, sum, avg` (from a range
// source, built while the first seconds are not measured) and runs with --checkpoint, a
// checkpoint a second: the delays then include every wait of the record loop for a checkpoint of
// that state (issue: checkpoints, "the longest stall ... measured with the live-latency
// benchmark"); the table adds the longest delay.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const build = join(here, ".build");
mkdirSync(build, { recursive: true });
const args = process.argv.slice(2);
const value = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const CK_KEYS = Number(value("--checkpoint-keys", "0"));
const RATES = value("--rates", CK_KEYS > 0 ? "10000" : "1000,10000,100000").split(",").map(Number);
const SECONDS = Number(value("--seconds", CK_KEYS > 0 ? "5" : "3"));
/** The first second(s) are not measured: the program starts (Node, JIT; the keys) while records queue up. */
const WARMUP_S = Number(value("--warmup", CK_KEYS > 0 ? "4" : "1"));
const WINDOW_MS = 100;

let PROGRAM = `type E = { id: int, sent: float, t: time }
source es: E = stdin() event time t
emit pass = es | where id >= 0 | select id, sent
emit windows = es | window tumbling(${WINDOW_MS}ms) | agg n = count()
`;
const ckDir = join(build, "latency-ck");
if (CK_KEYS > 0) {
  PROGRAM += `source n: int = range(0, ${2 * CK_KEYS})
emit final n | group by k = n % ${CK_KEYS} | agg c = count(), s = sum(n), a = avg(n) -> file(${JSON.stringify(join(build, "latency-keys.jsonl"))})
`;
}

const flow = join(build, "latency.flow");
const mod = join(build, "latency.mjs");
writeFileSync(flow, PROGRAM);
const b = spawnSync(process.execPath, [join(root, "bin/flowc"), "build", flow, "-o", mod], { encoding: "utf8" });
if (b.status !== 0) throw new Error(`flowc build failed:\n${b.stderr}`);

const now = () => performance.timeOrigin + performance.now();
const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, c) => a - c);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** One run at `rate` records/s for SECONDS: the delays (ms) of pass-through and window rows. */
function measure(rate) {
  return new Promise((resolve, reject) => {
    const ck = CK_KEYS > 0 ? ["--checkpoint", ckDir, "--checkpoint-reset", "--checkpoint-every", "1s"] : [];
    const child = spawn(process.execPath, [mod, "--quiet", ...ck], { stdio: ["pipe", "pipe", "inherit"] });
    const sentAt = []; // id → time written
    const firstAtOrAfter = []; // window end → first id whose t ≥ end (closes the window)
    const pass = [], windows = [];
    let buf = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      const at = now();
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const tab = line.indexOf("\t");
        const name = line.slice(0, tab);
        const row = JSON.parse(line.slice(tab + 1));
        if (name === "pass") {
          if (row.id >= warm) pass.push(at - row.sent);
        } else {
          const end = Date.parse(row.window_end);
          const closer = firstAtOrAfter[end];
          if (closer !== undefined && closer >= warm) windows.push(at - sentAt[closer]);
        }
      }
    });
    child.on("error", reject);
    child.on("exit", () => resolve({ rate, pass, windows }));
    const start = now();
    const t0 = Math.ceil(start / WINDOW_MS) * WINDOW_MS;
    let id = 0;
    const warm = rate * WARMUP_S;
    const total = rate * (SECONDS + WARMUP_S);
    const tick = () => {
      const elapsed = now() - start;
      const due = Math.min(total, Math.floor((elapsed / 1000) * rate));
      let text = "";
      while (id < due) {
        const sent = now();
        const t = t0 + Math.floor((id / rate) * 1000);
        const end = Math.floor(t / WINDOW_MS) * WINDOW_MS;
        if (firstAtOrAfter[end] === undefined) firstAtOrAfter[end] = id;
        sentAt[id] = sent;
        text += `{"id":${id},"sent":${sent},"t":${t}}\n`;
        id++;
      }
      if (text) child.stdin.write(text);
      if (id < total) setImmediate(tick);
      else setTimeout(() => child.stdin.end(), 200);
    };
    tick();
  });
}

const results = [];
for (const rate of RATES) results.push(await measure(rate));
const fmt = (x) => (Number.isNaN(x) ? "—" : `${x.toFixed(1)} ms`);
const most = (xs) => (xs.length === 0 ? NaN : xs.reduce((a, x) => Math.max(a, x), -Infinity));
if (CK_KEYS > 0) console.log(`With ${CK_KEYS.toLocaleString("en")} keys of count/sum/avg and a checkpoint a second:`);
console.log(`| records/s | pass-through p50 | p99 | max | window rows p50 | p99 | max | rows |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const r of results) console.log(`| ${r.rate.toLocaleString("en")} | ${fmt(pct(r.pass, 0.5))} | ${fmt(pct(r.pass, 0.99))} | ${fmt(most(r.pass))} | ${fmt(pct(r.windows, 0.5))} | ${fmt(pct(r.windows, 0.99))} | ${fmt(most(r.windows))} | ${r.pass.length} / ${r.windows.length} |`);
const json = value("--json", undefined);
if (json) writeFileSync(json, JSON.stringify(results.map((r) => ({ rate: r.rate, checkpointKeys: CK_KEYS, passP50: pct(r.pass, 0.5), passP99: pct(r.pass, 0.99), passMax: most(r.pass), windowP50: pct(r.windows, 0.5), windowP99: pct(r.windows, 0.99), windowMax: most(r.windows) }))));
