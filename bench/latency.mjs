// Live latency (LANGUAGE.md §10): records written to a built program's stdin at a steady rate;
// the delay from writing a record to reading the row it produced on stdout — for a pass-through
// `where` row, and for a window row after the record that closes its window (watermark 0s).
//
//   node bench/latency.mjs [--rates 1000,10000,100000] [--seconds 3] [--warmup 1] [--json FILE]
//
// Needs `node scripts/build.mjs` first (uses bin/flowc to build the program). Prints a table;
// the target (issue: live streams) is p99 ≤ 10 ms at 10k records/s.
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
const RATES = value("--rates", "1000,10000,100000").split(",").map(Number);
const SECONDS = Number(value("--seconds", "3"));
/** The first second is not measured: the program starts (Node, JIT) while records queue up. */
const WARMUP_S = Number(value("--warmup", "1"));
const WINDOW_MS = 100;

const PROGRAM = `type E = { id: int, sent: float, t: time }
source es: E = stdin() event time t
emit pass = es | where id >= 0 | select id, sent
emit windows = es | window tumbling(${WINDOW_MS}ms) | agg n = count()
`;

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
    const child = spawn(process.execPath, [mod, "--quiet"], { stdio: ["pipe", "pipe", "inherit"] });
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
console.log(`| records/s | pass-through p50 | p99 | window rows p50 | p99 | rows |`);
console.log(`|---|---|---|---|---|---|`);
for (const r of results) console.log(`| ${r.rate.toLocaleString("en")} | ${fmt(pct(r.pass, 0.5))} | ${fmt(pct(r.pass, 0.99))} | ${fmt(pct(r.windows, 0.5))} | ${fmt(pct(r.windows, 0.99))} | ${r.pass.length} / ${r.windows.length} |`);
const json = value("--json", undefined);
if (json) writeFileSync(json, JSON.stringify(results.map((r) => ({ rate: r.rate, passP50: pct(r.pass, 0.5), passP99: pct(r.pass, 0.99), windowP50: pct(r.windows, 0.5), windowP99: pct(r.windows, 0.99) }))));
