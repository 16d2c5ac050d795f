// Kafka source throughput (issue bar: flowc reading a topic of 1M JSON bids and running NEXMark
// q1 at ≥ 70% of a bare consumer loop of the same client that only parses each message).
//
//   node bench/kafka.mjs [--quick] [--json FILE]
//
// The broker is librdkafka's mock cluster (3 brokers) inside `kcat` (Debian's kcat; see
// test/servers.ts), on this machine. It keeps at most 20,000 messages per partition (and
// auto-creates topics with 4), so a topic cannot hold 1M bids: each round writes a topic of 60,000
// and then, one after the other, a bare kafkajs consumer group member parses every message
// (JSON.parse), and `flowc run` runs q1 over the topic (its own consumer group) with rows to
// stdout (counted here). Each is timed from its first message (row) to its last, so joining the
// group — seconds against the mock, the same for both — is not counted. Best of 3 rounds.
// Needs bench/.build from `node bench/run.mjs`.
import { spawn } from "node:child_process";
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
const lib = await import(pathToFileURL(join(here, ".build/lib.mjs")).href);

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
    log("bench: kafka — a bare kafkajs consumer that parses each message");
    {
      const consumer = kafka.consumer({ groupId: `bench-bare-${round}` });
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
            if (process.env.BENCH_DEBUG) log(`  batch p${batch.partition} ${batch.messages.length} (seen ${seen})`);
            if (seen >= N) resolve(performance.now() - first);
          },
        });
      });
      await consumer.disconnect();
      results.bareMs = Math.min(results.bareMs ?? Infinity, ms);
      log(`  ${ms.toFixed(0)} ms (${Math.round(N / (ms / 1000)).toLocaleString("en")} messages/s; checksum ${sink})`);
    }

    // ---- flowc: q1 over the topic
    log("bench: kafka — flowc run q1 over the topic");
    {
      const flow = join(dir, "q1.flow");
      writeFileSync(
        flow,
        `type Bid = { auction: int, bidder: int, price: int, channel: string, url: string, dateTime: time, extra: string }
  source bids: Bid = kafka(${JSON.stringify(topic)}, brokers: ${JSON.stringify(bootstrap)}, group: "bench-flowc-${round}") event time dateTime watermark 4s
  emit bids | select auction, bidder, price = price * 0.908, dateTime, extra
  `,
      );
      const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(" ") : []), join(root, "bin/flowc"), "run", flow, "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
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
      results.flowcMs = Math.min(results.flowcMs ?? Infinity, ms);
      log(`  ${ms.toFixed(0)} ms (${Math.round(N / (ms / 1000)).toLocaleString("en")} records/s)`);
    }
  }
  results.ratio = results.bareMs / results.flowcMs;
  log(`bench: kafka — flowc q1 at ${(results.ratio * 100).toFixed(0)}% of the bare consumer's rate`);
} finally {
  kcat.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
process.stdout.write(JSON.stringify(results) + "\n");
process.exit(0);
