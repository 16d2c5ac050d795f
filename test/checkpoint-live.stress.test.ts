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
import { haveServer, sleep, startKafka, startNats, startRedis, waitFor, type TestServer } from "./servers";

beforeAll(() => ensureCli());

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse("2026-01-01T00:00:00Z");
const END = T0 + 3_600_000;
const PARTITIONS = 4;
const PER_PARTITION = 150;
const PER_STREAM = 300;

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
  beforeAll(async () => {
    [kafka, nats, redis] = await Promise.all([startKafka(), startNats(), startRedis()]);
    // Kafka: per partition, times rising; the last record far ahead.
    const k = (await import("kafkajs")).default;
    const client = new k.Kafka({ clientId: "test", brokers: kafka.url.split(","), logLevel: k.logLevel.NOTHING });
    const producer = client.producer();
    await producer.connect();
    for (let p = 0; p < PARTITIONS; p++) {
      const messages = Array.from({ length: PER_PARTITION }, (_, i) => ({ partition: p, value: rec(`k${i % 3}`, i * 10 + p, T0 + i * 100 + p * 7) }));
      messages.push({ partition: p, value: rec("end", 0, END) });
      await producer.send({ topic: "ck-ev", messages });
    }
    await producer.disconnect();
    // NATS JetStream.
    const n = await import("nats");
    const nc = await n.connect({ servers: nats.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "CKEV", subjects: ["ckev.>"] });
    const js = nc.jetstream();
    for (let i = 0; i < PER_STREAM; i++) await js.publish("ckev.x", rec(`k${i % 3}`, i, T0 + i * 50 + 3));
    await js.publish("ckev.x", rec("end", 0, END));
    await nc.close();
    // Redis stream.
    const r = await import("redis");
    const c = r.createClient({ url: redis.url, RESP: 2 });
    await c.connect();
    for (let i = 0; i < PER_STREAM; i++) await c.sendCommand(["XADD", "ckev", "*", "k", `k${i % 3}`, "v", String(i), "t", iso(T0 + i * 50 + 5)]);
    await c.sendCommand(["XADD", "ckev", "*", "k", "end", "v", "0", "t", iso(END)]);
    await c.close();
  }, 120_000);
  afterAll(async () => {
    await Promise.all([kafka?.stop(), nats?.stop(), redis?.stop()]);
  });

  const programText = (group: string) => `type E = { k: string, v: int, t: time }
source ka: E = kafka("ck-ev", brokers: "${kafka.url}", group: "${group}") event time t watermark 500ms
source na: E = nats("ckev.x", url: "${nats.url}", stream: "CKEV") event time t watermark 500ms
source re: E = redis("ckev", url: "${redis.url}") event time t watermark 500ms
emit w = union(ka, na, re) | window tumbling(2s) | agg n = count(), s = sum(v) -> file("out/w.jsonl")
emit j = ka as a | join na as b on a.k == b.k within -100ms .. 100ms | select k = a.k, av = a.v, bv = b.v -> file("out/j.jsonl")
`;
  /** The last real window ([14 s, 16 s)): written once every partition's last record was read. */
  const LAST_WINDOW = `"window_start":"${iso(T0 + 14_000)}"`;
  const read = (dir: string, f: string) => (existsSync(join(dir, "out", f)) ? readFileSync(join(dir, "out", f), "utf8") : "");
  const complete = (dir: string) => read(dir, "w.jsonl").includes(LAST_WINDOW);
  const sorted = (text: string) => text.split("\n").filter((l) => l !== "").sort();

  /** One `flowc run --checkpoint`: SIGKILLed after `killMs`, or (undefined) SIGINTed once its output is complete. */
  async function oneRun(dir: string, killMs: number | undefined): Promise<{ code: number | "killed"; stderr: string; j: string }> {
    const child = spawn(FLOWC, ["run", "p.flow", "--checkpoint", "ck", "--checkpoint-every", "100ms"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    const exit = new Promise<number | "killed">((resolve) =>
      child.on("exit", (code, signal) => {
        exited = true;
        resolve(signal === "SIGKILL" ? "killed" : (code ?? -1));
      }),
    );
    if (killMs !== undefined) {
      await Promise.race([sleep(killMs), exit]);
      // What the run had written when it died: a restored run must write the same again.
      const j = read(dir, "j.jsonl");
      if (!exited) child.kill("SIGKILL");
      return { code: await exit, stderr, j };
    }
    await waitFor("the whole input read", () => exited || complete(dir), 120_000);
    child.kill("SIGINT");
    return { code: await exit, stderr, j: read(dir, "j.jsonl") };
  }

  it("kafka (4 partitions), nats and redis with a window and an interval join: killed runs restarted write one run's output", async () => {
    // The uninterrupted run (stopped at a checkpoint too, so open windows stay open alike).
    const ref = testDir("ck-live-ref-");
    dirs.push(ref);
    writeFileSync(join(ref, "p.flow"), programText("g-ref"));
    const plain = await oneRun(ref, undefined);
    expect(plain.code, plain.stderr).toBe(0);
    const expectedW = read(ref, "w.jsonl");
    const expectedJ = read(ref, "j.jsonl");
    expect(expectedW.split("\n").filter((l) => l !== "").length).toBe(8);
    expect(sorted(expectedJ).length).toBeGreaterThan(100);

    const dir = testDir("ck-live-");
    dirs.push(dir);
    writeFileSync(join(dir, "p.flow"), programText("g-killed"));
    const next = lcg(4242);
    const killedOutputs: string[] = [];
    let killed = 0;
    let last: Awaited<ReturnType<typeof oneRun>> | undefined;
    for (let attempt = 0; attempt < 12 && last === undefined; attempt++) {
      // Random moments: startup, restore and replay, group joins, mid-input.
      const r = await oneRun(dir, killed < 4 ? 300 + (next() % 2700) : undefined);
      if (r.code === "killed") {
        killed++;
        killedOutputs.push(r.j);
        continue;
      }
      expect(r.code, r.stderr).toBe(0);
      last = r;
    }
    expect(last, "the run never completed").toBeDefined();
    expect(killed).toBe(4);
    expect(last!.stderr).toMatch(/^flowc: interrupted, resumed, checkpoint written, /m);
    expect(last!.stderr).not.toContain("lost");
    // Byte for byte the uninterrupted run's windows.
    expect(read(dir, "w.jsonl")).toBe(expectedW);
    // The join: the same rows; and each killed run's rows again, in its order, at the start.
    const j = read(dir, "j.jsonl");
    expect(sorted(j)).toEqual(sorted(expectedJ));
    for (const [k, before] of killedOutputs.entries()) expect(j.startsWith(before), `run ${k + 1}'s join rows are not a prefix of the final ones`).toBe(true);
    // The checkpoint holds each partition's place: after the last message.
    const inspect = spawn(FLOWC, ["checkpoint", "inspect", "ck"], { cwd: dir });
    let text = "";
    inspect.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    await new Promise((r) => inspect.on("exit", r));
    expect(text).toMatch(/ka\s+kafka: partition 0 after offset 150, partition 1 after offset 150, partition 2 after offset 150, partition 3 after offset 150/);
    expect(text).toMatch(/na\s+nats: after stream sequence 301/);
    expect(text).toMatch(/re\s+redis: after entry \d+-\d+/);
  }, 600_000);
});
