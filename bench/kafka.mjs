// Kafka source throughput (issue bar: flowc reading a topic of 1M JSON bids and running NEXMark
// q1 at ≥ 70% of a bare consumer loop of the same client that only parses each message).
//
//   node bench/kafka.mjs [--quick] [--json FILE]
//
// The broker is librdkafka's mock cluster (3 brokers) inside `kcat` (Debian's kcat; see
// test/servers.ts), on this machine. It keeps at most 20,000 messages per partition (and
// auto-creates topics with 4), so a topic cannot hold 1M bids: each round writes a topic of 60,000
// and then, one after the other, each in a fresh process of its own (so both start with the
// client's code cold):
//   bare    a kafkajs consumer group member that parses every message (JSON.parse), nothing else;
//   flowc   q1 over the topic, built with `flowc build` and run through the embedding API with
//           its rows to a counting sink — as the NEXMark rows of bench/run.mjs are measured;
//   stdout  the same with `flowc run`, its rows printed as JSON lines to a pipe that this
//           process counts (formatting and printing 60,000 rows included).
// Each is timed from its first message (row) to its last, so joining the group — seconds
// against the mock, the same for all — is not counted. Best of 3 rounds; the ratio is bare's
// time over flowc's. Needs bench/.build from `node bench/run.mjs`.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
const N = Number(process.env.BENCH_KAFKA_N ?? (quick ? 20_000 : 60_000));
const ROUNDS = quick ? 1 : 3;
const log = (s) => process.stderr.write(s + "\n");

const { Kafka, logLevel } = (await import("kafkajs")).default ?? (await import("kafkajs"));

// ---- children: one measurement each, in a process of its own; prints {"ms": …}
if (args[0] === "--bare-child") {
  const [, bootstrap, topic, group, n] = args;
  const kafka = new Kafka({ brokers: bootstrap.split(","), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let sink = 0;
  const ms = await new Promise((resolve) => {
    consumer.run({
      eachBatch: async ({ batch }) => {
        if (seen === 0) first = performance.now();
        for (const m of batch.messages) sink += JSON.parse(m.value.toString()).price;
        seen += batch.messages.length;
        if (seen >= Number(n)) resolve(performance.now() - first);
      },
    });
  });
  process.stdout.write(JSON.stringify({ ms, checksum: sink }) + "\n");
  process.exit(0);
}
if (args[0] === "--flowc-child") {
  const [, module, n] = args;
  const { run } = await import(pathToFileURL(module).href);
  const stop = new AbortController();
  let rows = 0;
  let first = 0;
  let ms = 0;
  await run({
    summary: false,
    signal: stop.signal,
    onRow: {
      out1: () => {
        if (rows++ === 0) first = performance.now();
        if (rows === Number(n)) {
          ms = performance.now() - first;
          stop.abort();
        }
      },
    },
  });
  process.stdout.write(JSON.stringify({ ms }) + "\n");
  process.exit(0);
}

const lib = await import(pathToFileURL(join(here, ".build/lib.mjs")).href);

/** Runs `argv` in a fresh Node process; its last line of output, parsed. */
function childJson(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop())) : reject(new Error(`${argv.join(" ")} exited ${code}:\n${err}`))));
  });
}

// ---- the broker
const kcat = spawn("kcat", ["-b", "localhost:1", "-C", "-t", "_warm", "-X", "test.mock.num.brokers=3", "-d", "mock"], { stdio: ["ignore", "ignore", "pipe"] });
const bootstrap = await new Promise((resolve, reject) => {
  let err = "";
  const t = setTimeout(() => reject(new Error(`kcat printed no bootstrap address: ${err.slice(-300)}`)), 15_000);
  kcat.stderr.on("data", (d) => {
    err += d.toString("latin1");
    const m = /bootstrap\.servers=([0-9.:,]+)/.exec(err);
    if (m) {
      clearTimeout(t);
      resolve(m[1]);
    }
  });
  kcat.on("error", reject);
});
const dir = mkdtempSync(join(tmpdir(), "flowc-kafka-bench-"));
const results = { messages: N };
try {
  const kafka = new Kafka({ brokers: bootstrap.split(","), logLevel: logLevel.NOTHING });

  for (let round = 0; round < ROUNDS; round++) {
    const topic = `bids-${round}`;
    // ---- the topic: N bids as JSON, one message each (a new topic a round: the mock keeps 20k a partition)
    log(`bench: kafka — writing ${N.toLocaleString("en")} bids to the mock cluster at ${bootstrap}`);
    const producer = kafka.producer();
    await producer.connect();
    let batch = [];
    let written = 0;
    const events = Math.ceil((N * 50) / 46) + 50;
    outer: for (const bids of lib.nexmarkBatches({ eventKind: "bid", events, ...lib.NEXMARK_DEFAULTS })) {
      for (const b of bids) {
        if (written === N) break outer;
        written++;
        batch.push({ value: JSON.stringify({ auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, url: b.url, dateTime: new Date(b.dateTime).toISOString(), extra: b.extra }) });
        if (batch.length === 5000) {
          await producer.send({ topic, messages: batch });
          batch = [];
        }
      }
    }
    if (batch.length > 0) await producer.send({ topic, messages: batch });
    await producer.disconnect();

    // ---- the bare consumer: parse each message, nothing else
    log("bench: kafka — a bare kafkajs consumer that parses each message (its own process)");
    {
      const { ms, checksum } = await childJson([fileURLToPath(import.meta.url), "--bare-child", bootstrap, topic, `bench-bare-${round}`, String(N)]);
      results.bareMs = Math.min(results.bareMs ?? Infinity, ms);
      log(`  ${ms.toFixed(0)} ms (${Math.round(N / (ms / 1000)).toLocaleString("en")} messages/s; checksum ${checksum})`);
    }

    // ---- flowc: q1 over the topic
    const q1 = (group) => `type Bid = { auction: int, bidder: int, price: int, channel: string, url: string, dateTime: time, extra: string }
source bids: Bid = kafka(${JSON.stringify(topic)}, brokers: ${JSON.stringify(bootstrap)}, group: ${JSON.stringify(group)}) event time dateTime watermark 4s
emit bids | select auction, bidder, price = price * 0.908, dateTime, extra
`;
    log("bench: kafka — q1 built, rows to a counting sink (its own process)");
    {
      // In bench/.build: the module imports the Kafka client from the repository's node_modules.
      const flow = join(here, ".build", `kafka-q1-${round}.flow`);
      const mod = join(here, ".build", `kafka-q1-${round}.mjs`);
      writeFileSync(flow, q1(`bench-flowc-${round}`));
      const b = spawnSync(process.execPath, [join(root, "bin/flowc"), "build", flow, "-o", mod], { encoding: "utf8" });
      if (b.status !== 0) throw new Error(`flowc build failed:\n${b.stderr}`);
      const { ms } = await childJson([...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(" ") : []), fileURLToPath(import.meta.url), "--flowc-child", mod, String(N)]);
      results.flowcMs = Math.min(results.flowcMs ?? Infinity, ms);
      log(`  ${ms.toFixed(0)} ms (${Math.round(N / (ms / 1000)).toLocaleString("en")} records/s)`);
    }

    log("bench: kafka — flowc run q1, rows printed to stdout");
    {
      const flow = join(dir, "q1.flow");
      writeFileSync(flow, q1(`bench-stdout-${round}`));
      const child = spawn(process.execPath, [join(root, "bin/flowc"), "run", flow, "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => ((stderr += d), process.env.KDEBUG && process.stderr.write(d)));
      let rows = 0;
      let first = 0;
      const ms = await new Promise((resolve, reject) => {
        child.on("exit", (code) => reject(new Error(`flowc exited (${code}) before ${N} rows:\n${stderr}`)));
        child.stdout.on("data", (d) => {
          if (rows === 0) first = performance.now();
          for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) rows++;
          if (rows >= N) resolve(performance.now() - first);
        });
      });
      child.removeAllListeners("exit");
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
      results.stdoutMs = Math.min(results.stdoutMs ?? Infinity, ms);
      log(`  ${ms.toFixed(0)} ms (${Math.round(N / (ms / 1000)).toLocaleString("en")} records/s)`);
    }
  }
  results.ratio = results.bareMs / results.flowcMs;
  results.stdoutRatio = results.bareMs / results.stdoutMs;
  log(`bench: kafka — flowc q1 at ${(results.ratio * 100).toFixed(0)}% of the bare consumer's rate (rows to stdout: ${(results.stdoutRatio * 100).toFixed(0)}%)`);
} finally {
  kcat.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
process.stdout.write(JSON.stringify(results) + "\n");
process.exit(0);
