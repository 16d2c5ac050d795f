// Checkpoints of live sources (LANGUAGE.md §12) with real servers (test/servers.ts): a
// `flowc run --checkpoint` reading a Kafka topic with 4 partitions, a NATS JetStream stream and
// a Redis stream (all written before the run), killed with SIGKILL at random moments and
// restarted until it has read everything, then stopped with SIGINT (at a checkpoint: network
// sources never end). Checked:
//   - the windowed aggregate over the three sources is byte-identical to one run that was never
//     killed (its rows do not depend on which source delivers first: each partition's times
//     rise, so no record is late whatever the order);
//   - the interval join's rows do depend on the order the sources delivered in; they are the
//     same set as the uninterrupted run's, and — the read log at work — everything a killed run
//     had written is a prefix of what the restored lineage wrote in the end: the restored runs
//     recomputed exactly the rows of the runs that were killed.
// The end of the input is known by a last record of each partition far in the future: the last
// real window fires only once every partition's last record was read.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCli, FLOWC, testDir } from "./helpers";
import { freePort, haveServer, sleep, startKafka, startNats, startRedis, waitFor, type TestServer } from "./servers";

beforeAll(() => ensureCli());

const dirs: string[] = [];
// KEEP=1 keeps the runs' folders (test/.tmp/ck-live-*) for a look afterwards.
afterAll(() => {
  for (const d of dirs) if (process.env.KEEP === undefined) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse("2026-01-01T00:00:00Z");
const END = T0 + 3_600_000;
const PARTITIONS = 4;
const PER_PARTITION = 400;
const PER_STREAM = 800;
const CHUNKS = 50;

const iso = (ms: number) => new Date(ms).toISOString();
const rec = (k: string, v: number, t: number) => JSON.stringify({ k, v, t: iso(t) });

/** A small deterministic generator (LCG), for kill moments. */
const lcg = (seed: number) => {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648);
};

describe.skipIf(!haveServer("kafka") || !haveServer("nats") || !haveServer("redis"))("checkpoints of live sources survive kill -9", () => {
  let kafka: TestServer;
  let nats: TestServer;
  let redis: TestServer;
  let producer: import("kafkajs").Producer;
  let nc: import("nats").NatsConnection;
  let rc: { sendCommand(a: string[]): Promise<unknown>; close(): Promise<unknown> };
  /**
   * Writes chunk `c` of the input (CHUNKS in all, then each partition's last record): per
   * Kafka partition PER_PARTITION / CHUNKS records, to NATS and Redis PER_STREAM / CHUNKS.
   * Times rise within each partition.
   */
  const feed = async (c: number) => {
    const kn = PER_PARTITION / CHUNKS;
    const sn = PER_STREAM / CHUNKS;
    const messages = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = c * kn; i < (c + 1) * kn; i++) messages.push({ partition: p, value: rec(`k${i % 3}`, i * 10 + p, T0 + i * 100 + p * 7) });
      if (c === CHUNKS - 1) messages.push({ partition: p, value: rec("end", 0, END) });
    }
    await producer.send({ topic: "ck-ev", messages });
    const js = nc.jetstream();
    for (let i = c * sn; i < (c + 1) * sn; i++) await js.publish("ckev.x", rec(`k${i % 3}`, i, T0 + i * 50 + 3));
    for (let i = c * sn; i < (c + 1) * sn; i++) await rc.sendCommand(["XADD", "ckev", "*", "k", `k${i % 3}`, "v", String(i), "t", iso(T0 + i * 50 + 5)]);
    if (c === CHUNKS - 1) {
      await js.publish("ckev.x", rec("end", 0, END));
      await rc.sendCommand(["XADD", "ckev", "*", "k", "end", "v", "0", "t", iso(END)]);
    }
  };
  beforeAll(async () => {
    [kafka, nats, redis] = await Promise.all([startKafka(), startNats(), startRedis()]);
    const k = (await import("kafkajs")).default;
    producer = new k.Kafka({ clientId: "test", brokers: kafka.url.split(","), logLevel: k.logLevel.NOTHING }).producer();
    await producer.connect();
    const n = await import("nats");
    nc = await n.connect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: "CKEV", subjects: ["ckev.>"] });
    const r = await import("redis");
    const c = r.createClient({ url: redis.url, RESP: 2 });
    await c.connect();
    rc = c as unknown as typeof rc;
    // A fifth of the input is there before the first run; the rest comes while runs are killed.
    for (let c = 0; c < CHUNKS / 5; c++) await feed(c);
  }, 120_000);
  afterAll(async () => {
    await producer?.disconnect().catch(() => {});
    await nc?.close().catch(() => {});
    await rc?.close().catch(() => {});
    await Promise.all([kafka?.stop(), nats?.stop(), redis?.stop()]);
  });

  const programText = (group: string) => `type E = { k: string, v: int, t: time }
source ka: E = kafka("ck-ev", brokers: "${kafka.url}", group: "${group}") event time t watermark 500ms
source na: E = nats("ckev.x", url: "${nats.url}", stream: "CKEV") event time t watermark 500ms
source re: E = redis("ckev", url: "${redis.url}") event time t watermark 500ms
emit w = union(ka, na, re) | window tumbling(2s) | agg n = count(), s = sum(v) -> file("out/w.jsonl")
emit j = ka as a | join na as b on a.k == b.k within -100ms .. 100ms | select k = a.k, av = a.v, bv = b.v -> file("out/j.jsonl")
`;
  /** The last real window ([38 s, 40 s)): written once every partition's last record was read. */
  const LAST_WINDOW = `"window_start":"${iso(T0 + 38_000)}"`;
  const read = (dir: string, f: string) => (existsSync(join(dir, "out", f)) ? readFileSync(join(dir, "out", f), "utf8") : "");
  const complete = (dir: string) => read(dir, "w.jsonl").includes(LAST_WINDOW);
  const sorted = (text: string) => text.split("\n").filter((l) => l !== "").sort();

  /** The Kafka records the checkpoint in `dir` counts as read (0: no checkpoint). */
  const kafkaRead = (dir: string): number => {
    try {
      const text = readFileSync(join(dir, "ck", "checkpoint"), "utf8");
      return (JSON.parse(text.slice(text.indexOf("\n") + 1)) as { sources: { count: number }[] }).sources[0]!.count;
    } catch {
      return 0;
    }
  };

  /**
   * One `flowc run --checkpoint`: SIGKILLed after `kill.ms` — counted from its start, or (`busy`)
   * from when a checkpoint of its own counts more Kafka records (the group has let it in: it is
   * reading all sources) — or (undefined) SIGINTed once its output is complete.
   */
  async function oneRun(dir: string, kill: { ms: number; busy: boolean } | undefined): Promise<{ code: number | "killed"; stderr: string; j: string }> {
    const read0 = kafkaRead(dir);
    const port = await freePort();
    const child = spawn(FLOWC, ["run", "p.flow", "--checkpoint", "ck", "--checkpoint-every", "50ms", "--metrics", `127.0.0.1:${port}`], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    const exit = new Promise<number | "killed">((resolve) =>
      child.on("exit", (code, signal) => {
        exited = true;
        resolve(signal === "SIGKILL" ? "killed" : (code ?? -1));
      }),
    );
    if (kill !== undefined) {
      // (A run with nothing left to read counts no more: it is killed after 60 s.)
      if (kill.busy) await waitFor("the run reading", () => exited || kafkaRead(dir) > read0, 60_000).catch(() => {});
      if (exited) return { code: await exit, stderr, j: read(dir, "j.jsonl") };
      await Promise.race([sleep(kill.ms), exit]);
      // What the run had written when it died: a restored run must write the same again.
      const j = read(dir, "j.jsonl");
      if (!exited) child.kill("SIGKILL");
      return { code: await exit, stderr, j };
    }
    // The output files hold what a killed run wrote until this run has opened them (truncated to
    // the checkpoint): its metrics list the sources once it has.
    const running = async () => {
      const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => "");
      return body.includes("flowc_source_records_total");
    };
    await waitFor("the run started", async () => exited || (await running()), 60_000);
    await waitFor("the whole input read", () => exited || complete(dir), 120_000).catch((e: Error) => {
      child.kill("SIGKILL");
      throw new Error(`${e.message}; the run said: ${stderr}`);
    });
    child.kill("SIGINT");
    return { code: await exit, stderr, j: read(dir, "j.jsonl") };
  }

  it("kafka (4 partitions), nats and redis with a window and an interval join: killed runs restarted write one run's output", async () => {
    // The rest of the input arrives over some 40 s, while runs are killed and restarted.
    const feeding = (async () => {
      for (let c = CHUNKS / 5; c < CHUNKS; c++) {
        await sleep(1000);
        await feed(c);
      }
    })();
    const dir = testDir("ck-live-");
    dirs.push(dir);
    writeFileSync(join(dir, "p.flow"), programText("g-killed"));
    const next = lcg(4242);
    const killedOutputs: string[] = [];
    let killed = 0;
    let last: Awaited<ReturnType<typeof oneRun>> | undefined;
    for (let attempt = 0; attempt < 12 && last === undefined; attempt++) {
      // Random moments: startup, restore and replay, group joins (from the start); mid-input
      // (once the run reads: its rows after its last checkpoint are then written again).
      const busy = killed % 3 !== 0;
      const r = await oneRun(dir, killed < 5 ? { ms: busy ? next() % 300 : 300 + (next() % 2700), busy } : undefined);
      if (r.code === "killed") {
        killed++;
        killedOutputs.push(r.j);
        continue;
      }
      expect(r.code, r.stderr).toBe(0);
      last = r;
    }
    expect(last, "the run never completed").toBeDefined();
    await feeding;
    // The uninterrupted run, over the same input (stopped at a checkpoint too, so open windows
    // stay open alike).
    const ref = testDir("ck-live-ref-");
    dirs.push(ref);
    writeFileSync(join(ref, "p.flow"), programText("g-ref"));
    const plain = await oneRun(ref, undefined);
    expect(plain.code, plain.stderr).toBe(0);
    const expectedW = read(ref, "w.jsonl");
    const expectedJ = read(ref, "j.jsonl");
    expect(expectedW.split("\n").filter((l) => l !== "").length).toBe(20);
    expect(sorted(expectedJ).length).toBeGreaterThan(100);
    expect(killed).toBe(5);
    expect(last!.stderr).toMatch(/^flowc: interrupted, resumed, checkpoint written, /m);
    expect(last!.stderr).not.toContain("lost");
    // Byte for byte the uninterrupted run's windows.
    expect(read(dir, "w.jsonl")).toBe(expectedW);
    // The join: the same rows; and each killed run's rows again, in its order, at the start.
    const j = read(dir, "j.jsonl");
    expect(sorted(j)).toEqual(sorted(expectedJ));
    for (const [k, before] of killedOutputs.entries()) expect(j.startsWith(before), `run ${k + 1}'s join rows are not a prefix of the final ones`).toBe(true);
    // Some run was killed mid-input, after rows it had not checkpointed yet (the input trickles
    // in for 40 s and most kills come while the run reads).
    expect(killedOutputs.some((x) => x.length > 0 && x.length < j.length)).toBe(true);
    // The checkpoint holds each partition's place: after the last message.
    const inspect = spawn(FLOWC, ["checkpoint", "inspect", "ck"], { cwd: dir });
    let text = "";
    inspect.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    await new Promise((r) => inspect.on("exit", r));
    const o = PER_PARTITION;
    expect(text).toContain(`ka  kafka: partition 0 after offset ${o}, partition 1 after offset ${o}, partition 2 after offset ${o}, partition 3 after offset ${o}`);
    expect(text).toMatch(new RegExp(`na\\s+nats: after stream sequence ${PER_STREAM + 1}\\s`));
    expect(text).toMatch(/re\s+redis: after entry \d+-\d+/);
  }, 600_000);

  it("a Kafka rebalance that takes partitions from a checkpointed run stops it with exit 75", async () => {
    const k = (await import("kafkajs")).default;
    const client = new k.Kafka({ clientId: "test-rb", brokers: kafka.url.split(","), logLevel: k.logLevel.NOTHING });
    await producer.send({ topic: "ck-rb", messages: [0, 1, 2, 3].map((partition) => ({ partition, value: `{"v":${partition}}` })) });
    const dir = testDir("ck-live-rb-");
    dirs.push(dir);
    writeFileSync(join(dir, "p.flow"), `source s: { v: int } = kafka("ck-rb", brokers: "${kafka.url}", group: "g-rb")\nemit s -> file("out/s.jsonl")\n`);
    const run = spawn(FLOWC, ["run", "p.flow", "--checkpoint", "ck"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    run.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => run.on("exit", (code) => resolve(code)));
    // The run holds every partition (it has read all four records), then a second member joins.
    await waitFor("the run reading", () => read(dir, "s.jsonl").split("\n").length > 4, 60_000);
    const other = client.consumer({ groupId: "g-rb", sessionTimeout: 10_000 });
    try {
      await other.connect();
      await other.subscribe({ topic: "ck-rb" });
      await other.run({ eachMessage: async () => {} });
      const code = await Promise.race([exit, sleep(60_000).then(() => "still running")]);
      expect(code, stderr).toBe(75);
      expect(stderr).toMatch(/flowc: source s \(kafka topic ck-rb\): a rebalance of group g-rb took partitions? [\d, ]+ from this run; it stops so that a restart resumes from its checkpoint/);
    } finally {
      run.kill("SIGKILL");
      await other.disconnect().catch(() => {});
    }
  }, 180_000);
});
