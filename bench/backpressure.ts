// Backpressure end to end (issue bar: 1M records through kafka → a slow postgres sink, peak RSS).
//
//   node bench/backpressure.mjs [--quick] [--json FILE]      (bench/run.mjs bundles this file)
//
// 1M small JSON records through a topic on librdkafka's mock cluster (kcat); `flowc run` copies it into
// a Postgres table whose row trigger sleeps, so the sink takes rows far more slowly than Kafka
// delivers them. Bounded memory means the source pauses (the inbox holds at most 20k records, the
// sink writer one batch) instead of buffering the topic: the flowc process's peak RSS (VmHWM) is
// reported beside the topic's size, with how long the copy took and that every row arrived.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startKafka, startPostgres, sleep } from "../test/servers";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
const N = Number(process.env.BENCH_BP_N ?? (quick ? 100_000 : 1_000_000));
// This file runs bundled as bench/.build/backpressure.mjs: the repository is two folders up.
const root = fileURLToPath(new URL("../../", import.meta.url));
const log = (s: string) => process.stderr.write(s + "\n");

const kafka = await startKafka();
const pg = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), "flowc-bp-bench-"));
const results: Record<string, unknown> = { records: N };
try {
  const kjs = await import("kafkajs");
  const { Kafka, logLevel } = (kjs as unknown as { default?: typeof kjs }).default ?? kjs;
  const client = new Kafka({ brokers: kafka.url.split(","), logLevel: logLevel.NOTHING });
  // librdkafka's mock cluster keeps at most 20,000 messages per partition (4 partitions): the
  // topic is written as the copy goes, never more than 50,000 records ahead of the table.
  const producer = client.producer();
  await producer.connect();
  let bytes = 0;
  let produced = 0;
  const produceUpTo = async (limit: number) => {
    while (produced < Math.min(N, limit)) {
      const messages = [];
      for (let j = produced; j < Math.min(N, produced + 5000); j++) {
        const value = JSON.stringify({ id: j, note: `record ${j} of the backpressure benchmark, padded to about a hundred bytes` });
        bytes += value.length;
        messages.push({ value });
      }
      await producer.send({ topic: "events", messages });
      produced += messages.length;
    }
  };
  await produceUpTo(50_000);
  results.topicMb = (bytes / produced) * N / 2 ** 20;
  // The slow sink: every 50th row costs the server a 2 ms sleep (about 20k rows/s at most,
  // well below what the Kafka source delivers).
  pg.psql(`CREATE TABLE events (id bigint, note text);
CREATE FUNCTION slow_down() RETURNS trigger AS $$ BEGIN IF NEW.id % 50 = 0 THEN PERFORM pg_sleep(0.002); END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow_down();`);
  writeFileSync(
    join(dir, "copy.flow"),
    `type E = { id: int, note: string }
source events: E = kafka("events", brokers: ${JSON.stringify(kafka.url)}, group: "bench-bp")
emit events -> postgres("events", url: ${JSON.stringify(pg.url)})
`,
  );
  log("bench: backpressure — flowc run: Kafka → the slow Postgres table");
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, "bin/flowc"), "run", "copy.flow", "--quiet", ...(process.env.BENCH_METRICS ? ["--metrics", `127.0.0.1:${process.env.BENCH_METRICS}`] : [])], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d));
  const peakKb = () => {
    try {
      return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? NaN);
    } catch {
      return NaN;
    }
  };
  let rows = 0;
  let peak = 0;
  let stalled = 0;
  let lastRows = -1;
  for (;;) {
    await sleep(1000);
    if (child.exitCode !== null) throw new Error(`flowc exited (${child.exitCode}):\n${stderr}`);
    peak = Math.max(peak, peakKb());
    rows = Number(pg.psql("SELECT count(*) FROM events").trim());
    log(`  ${rows.toLocaleString("en")} rows in Postgres, ${produced.toLocaleString("en")} written to Kafka, peak RSS ${(peak / 1024).toFixed(0)} MB`);
    if (rows >= N) break;
    const before = produced;
    await produceUpTo(rows + 50_000);
    stalled = rows === lastRows && produced === before ? stalled + 1 : 0;
    lastRows = rows;
    if (stalled === 20) {
      const metrics = process.env.BENCH_METRICS ? await (await fetch(`http://127.0.0.1:${process.env.BENCH_METRICS}/metrics`)).text() : "";
      throw new Error(`no row for 20 s at ${rows} of ${N}; flowc said:\n${stderr}\n${metrics}`);
    }
  }
  const ms = performance.now() - started;
  await producer.disconnect();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  Object.assign(results, { ms, rows, peakRssMb: peak / 1024, rowsPerSec: N / (ms / 1000) });
  log(`bench: backpressure — ${N.toLocaleString("en")} rows in ${(ms / 1000).toFixed(1)} s (${Math.round(N / (ms / 1000)).toLocaleString("en")}/s); peak RSS ${(peak / 1024).toFixed(0)} MB for a ${(bytes / 2 ** 20).toFixed(0)} MB topic`);
} finally {
  await kafka.stop();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
process.stdout.write(JSON.stringify(results) + "\n");
process.exit(0);
