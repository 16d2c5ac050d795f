// The checkpoint guarantee for network sinks (LANGUAGE.md §12 "The guarantee") against real
// servers (test/servers.ts): a `flowc run --checkpoint` over file sources writing to Kafka (a
// topic of several partitions — the mock cluster's 4 —, `key:`), NATS, Redis and Postgres, killed with SIGKILL at random
// moments and restarted until it completes, leaves in each exactly the rows of one
// uninterrupted run — each row once, none lost, row numbers 1..N with the lineage's run id.
// A Redis server killed mid-run: the sink's retry reads back first, so no row is added twice.
// And the refusals: a last message of another run, or without a mark, or older than the
// checkpoint (messages lost), or beyond the rows the run produces, stops the run (exit 73)
// naming the sink.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeCheckpointData } from "./checkpoint-cases";
import { ensureCli, FLOWC, flowc, testDir } from "./helpers";
import { killUntilDone } from "./kill";
import { haveServer, runLive, startKafka, startNats, startPostgres, startRedis, waitFor, type TestServer } from "./servers";

beforeAll(() => ensureCli());

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

/** The lineage's run id, as `flowc checkpoint inspect` prints it. */
async function runIdOf(dir: string): Promise<string> {
  const r = await flowc(["checkpoint", "inspect", "ck"], { cwd: dir });
  const m = /, run ([^,\s]+), checkpoint /.exec(r.stdout);
  if (m === null) throw new Error(`no run id in: ${r.stdout}${r.stderr}`);
  return m[1]!;
}

/** Rows read back from a sink: each row number's payload, and how often each number came. */
interface ReadBack {
  runs: Set<string>;
  byRow: Map<number, string[]>;
}
function collect(marks: { run: string; row: number; payload: string }[]): ReadBack {
  const out: ReadBack = { runs: new Set(), byRow: new Map() };
  for (const m of marks) {
    out.runs.add(m.run);
    const list = out.byRow.get(m.row) ?? [];
    list.push(m.payload);
    out.byRow.set(m.row, list);
  }
  return out;
}

/** Exactly the rows `expected` (row k+1 = expected[k]), each once, all of run `runId`. */
function expectExactly(what: string, got: ReadBack, expected: string[], runId: string): void {
  expect([...got.runs], `${what}: run ids`).toEqual([runId]);
  const doubled = [...got.byRow].filter(([, ps]) => ps.length > 1).map(([n]) => n);
  expect(doubled.slice(0, 5), `${what}: rows written more than once (${doubled.length})`).toEqual([]);
  const missing = expected.map((_, k) => k + 1).filter((n) => !got.byRow.has(n));
  expect(missing.slice(0, 5), `${what}: rows missing (${missing.length} of ${expected.length})`).toEqual([]);
  expect(got.byRow.size, `${what}: rows beyond the run's`).toBe(expected.length);
  const wrong = expected.map((p, k) => [k + 1, p] as const).filter(([n, p]) => got.byRow.get(n)![0] !== p);
  expect(wrong.slice(0, 3), `${what}: rows that differ`).toEqual([]);
}

const all = haveServer("kafka") && haveServer("nats") && haveServer("redis") && haveServer("postgres");

describe.skipIf(!all)("network sinks with --checkpoint: exactly once through kill -9", () => {
  let kafka: TestServer;
  let nats: TestServer;
  let redis: TestServer;
  let pg: TestServer & { psql(sql: string): string };
  beforeAll(async () => {
    [kafka, nats, redis, pg] = await Promise.all([startKafka(), startNats(), startRedis(), startPostgres()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([kafka?.stop(), nats?.stop(), redis?.stop(), pg?.stop()]);
  });

  const redisCli = (...args: string[]) => {
    const r = spawnSync("redis-cli", ["-p", String(redis.port), "--no-raw", ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`redis-cli: ${r.stderr}`);
    return r.stdout;
  };
  /** The entries of a Redis stream: [data, _flowc] of each. */
  const redisEntries = async (key: string): Promise<{ data: string | undefined; mark: string | undefined }[]> => {
    const { createClient } = await import("redis");
    const c = createClient({ url: redis.url, RESP: 2 });
    await c.connect();
    try {
      const entries = (await c.sendCommand(["XRANGE", key, "-", "+"])) as [string, string[]][];
      return entries.map(([, flat]) => {
        const get = (f: string) => {
          const k = flat.findIndex((v, i) => i % 2 === 0 && v === f);
          return k < 0 ? undefined : flat[k + 1];
        };
        return { data: get("data"), mark: get("_flowc") };
      });
    } finally {
      await c.close();
    }
  };
  const readRedis = async (key: string) =>
    collect(
      (await redisEntries(key)).map((e) => {
        const k = e.mark!.lastIndexOf(":");
        return { run: e.mark!.slice(0, k), row: Number(e.mark!.slice(k + 1)), payload: e.data! };
      }),
    );
  /** Every message of the topic: up to each partition's end (as the brokers tell it now). */
  const readKafka = async (topic: string): Promise<ReadBack & { partitions: Set<number> }> => {
    const k = (await import("kafkajs")).default;
    const client = new k.Kafka({ clientId: "test", brokers: kafka.url.split(","), logLevel: k.logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    const ends = (await admin.fetchTopicOffsets(topic)).filter((o) => Number(o.high) > Number(o.low));
    await admin.disconnect();
    const left = new Set(ends.map((o) => o.partition));
    const partitions = new Set<number>();
    const marks: { run: string; row: number; payload: string }[] = [];
    const c = client.consumer({ groupId: `check-${topic}-${Date.now()}` });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: async ({ message, partition }) => {
        partitions.add(partition);
        const h = (name: string) => message.headers?.[name]?.toString() ?? "";
        marks.push({ run: h("flowc-run"), row: Number(h("flowc-row")), payload: message.value!.toString() });
        if (Number(message.offset) >= Number(ends.find((o) => o.partition === partition)!.high) - 1) left.delete(partition);
      },
    });
    await waitFor(`every message of ${topic}`, () => left.size === 0, 60_000);
    await c.disconnect();
    return { ...collect(marks), partitions };
  };
  const readNats = async (stream: string) => {
    const n = await import("nats");
    const nc = await n.connect({ servers: nats.url });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(stream);
      const marks = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq });
        expect(m.header?.get("Nats-Msg-Id")).toBe(`${m.header?.get("flowc-run")}-${m.header?.get("flowc-row")}`);
        marks.push({ run: m.header!.get("flowc-run"), row: Number(m.header!.get("flowc-row")), payload: new TextDecoder().decode(m.data) });
      }
      return collect(marks);
    } finally {
      await nc.close();
    }
  };
  const readPg = async (table: string) => {
    const pgm = (await import("pg")).default;
    const c = new pgm.Client({ connectionString: pg.url });
    await c.connect();
    try {
      const r = await c.query<{ k: string; n: string; s: string; _flowc_row: string }>(`SELECT k, n, s, _flowc_row FROM ${table}`);
      return collect(
        r.rows.map((x) => {
          const k = x._flowc_row.lastIndexOf(":");
          // bigint columns come back as text: the JSON of the row has numbers.
          return { run: x._flowc_row.slice(0, k), row: Number(x._flowc_row.slice(k + 1)), payload: JSON.stringify({ k: x.k, n: Number(x.n), s: Number(x.s) }) };
        }),
      );
    } finally {
      await c.end();
    }
  };

  const program = () => `type E = { k: string, u: int, v: int, note: string?, t: time }
source e: E = file("e.jsonl") event time t watermark 1s
emit tk = e | window tumbling(200ms) | group by k | agg n = count(), s = sum(v) -> kafka("ck_tk", brokers: "${kafka.url}", key: "k")
emit tn = e | where v > 150 | select k, u, v, t -> nats("ck.out", url: "${nats.url}", stream: "CK_OUT")
emit tr = e | window tumbling(100ms) | group by u | agg n = count(), hi = max(v) -> redis("ck_out", url: "${redis.url}")
emit tp = e | window tumbling(400ms) | group by k | agg n = count(), s = sum(v) | select k, n, s -> postgres("ck_rows", url: "${pg.url}")
`;

  it("killed at random moments and restarted: each sink holds exactly one run's rows, numbered 1..N", async () => {
    const dir = testDir("ck-sinks-");
    writeFileSync(join(dir, "p.flow"), program());
    writeCheckpointData(dir, 40_000);
    // One uninterrupted run, into files: the expected rows of each output, in order.
    mkdirSync(join(dir, "ref"));
    const ref = await flowc(["run", "p.flow", "--quiet", ...["tk", "tn", "tr", "tp"].flatMap((o) => ["--out", `${o}=ref/${o}.jsonl`])], { cwd: dir, timeoutMs: 120_000 });
    expect(ref.code, ref.stderr).toBe(0);
    const expected = (o: string) => lines(readFileSync(join(dir, "ref", `${o}.jsonl`), "utf8"));
    for (const o of ["tk", "tn", "tr", "tp"]) expect(expected(o).length, o).toBeGreaterThan(500);

    const args = [FLOWC, "run", "p.flow", "--checkpoint", "ck", "--checkpoint-every", "300ms"];
    // Kill moments from 0.3 s to 3.3 s: startup (connections, reading back the sinks) takes
    // a while, so late kills land mid-run.
    const { killed, resumed } = await killUntilDone(process.execPath, args, dir, 5, 4242, { from: 300, span: 3000 }, join(dir, "ck", "checkpoint"));
    expect(killed).toBeGreaterThanOrEqual(1);
    expect(resumed).toBe(true);
    const runId = await runIdOf(dir);
    const inspect = await flowc(["checkpoint", "inspect", "ck"], { cwd: dir });
    expect(inspect.stdout).toMatch(/\nnetwork outputs \(last row delivered\):\n {2}tk {2}partition \d row \d+, partition \d row \d+ \(4 partitions\)\n {2}tn {2}row \d+\n {2}tr {2}row \d+\n/);

    const tk = await readKafka("ck_tk");
    expectExactly("kafka", tk, expected("tk"), runId);
    expect(tk.partitions.size, "rows spread over the partitions by key").toBeGreaterThan(1);
    expectExactly("nats", await readNats("CK_OUT"), expected("tn"), runId);
    expectExactly("redis", await readRedis("ck_out"), expected("tr"), runId);
    expectExactly("postgres", await readPg("ck_rows"), expected("tp"), runId);
    // The unique index that ON CONFLICT DO NOTHING relies on.
    expect(pg.psql(`SELECT indexdef FROM pg_indexes WHERE tablename = 'ck_rows'`)).toMatch(/UNIQUE INDEX .*\(_flowc_row\)/);
  }, 600_000);

  it("redis killed and restarted mid-run: the retry reads back first, so each row is in the stream once", async () => {
    const dir = testDir("ck-redis-restart-");
    writeFileSync(join(dir, "p.flow"), `type E = { k: string, u: int, v: int, note: string?, t: time }\nsource e: E = file("e.jsonl") event time t watermark 1s\nemit rr = e | select k, u, v -> redis("rr_out", url: "${redis.url}")\n`);
    writeCheckpointData(dir, 200_000);
    mkdirSync(join(dir, "ref"));
    const ref = await flowc(["run", "p.flow", "--quiet", "--out", "rr=ref/rr.jsonl"], { cwd: dir, timeoutMs: 120_000 });
    expect(ref.code, ref.stderr).toBe(0);
    // Every write on disk before it is acknowledged: the restarted server keeps what it said it had.
    redisCli("CONFIG", "SET", "appendfsync", "always");
    const run = runLive(["p.flow", "--checkpoint", "ck", "--checkpoint-every", "200ms"], dir);
    await waitFor("rows in the stream", () => Number(redisCli("XLEN", "rr_out").trim().replace(/^\(integer\) /, "")) > 5000, 60_000);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 500));
    await redis.restart();
    expect(await run.exit, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/output rr \(redis stream rr_out\): delivery failed/);
    expectExactly("redis", await readRedis("rr_out"), lines(readFileSync(join(dir, "ref", "rr.jsonl"), "utf8")), await runIdOf(dir));
  }, 300_000);

  describe("refusals: exit 73 naming the sink", () => {
    /** A run stopped by SIGINT at a checkpoint once its Redis stream holds rows (§10 "Stopping"). */
    const stoppedRun = async (key: string): Promise<{ dir: string; args: string[] }> => {
      const dir = testDir(`ck-refuse-${key}-`);
      writeFileSync(join(dir, "p.flow"), `type E = { k: string, u: int, v: int, note: string?, t: time }\nsource e: E = file("e.jsonl") event time t watermark 1s\nemit e | select k, v -> redis("${key}", url: "${redis.url}")\n`);
      writeCheckpointData(dir, 400_000);
      const args = ["p.flow", "--checkpoint", "ck"];
      const run = runLive(args, dir);
      await waitFor("rows in the stream", () => Number(redisCli("XLEN", key).trim().replace(/^\(integer\) /, "")) > 1000, 60_000);
      run.interrupt();
      expect(await run.exit, run.stderr()).toBe(0);
      expect(run.stderr()).not.toMatch(/completed|finished/);
      return { dir, args };
    };

    it("a last message of another run, or without a mark", async () => {
      const { dir, args } = await stoppedRun("rf_other");
      redisCli("XADD", "rf_other", "*", "data", "{}", "_flowc", "another-run:7");
      const other = await flowc(["run", ...args], { cwd: dir });
      expect(other.code, other.stderr).toBe(73);
      expect(other.stderr).toMatch(/output out1 \(redis stream rf_other\): the last message in stream rf_other is of another run \(another-run row 7\)/);
      redisCli("XADD", "rf_other", "*", "data", "{}");
      const unmarked = await flowc(["run", ...args], { cwd: dir });
      expect(unmarked.code).toBe(73);
      expect(unmarked.stderr).toMatch(/output out1 \(redis stream rf_other\): the last message in stream rf_other \(id [0-9-]+\) has no _flowc field/);
    }, 120_000);

    it("a gap: messages the checkpoint had delivered are gone, or the sink holds a row the run never produces", async () => {
      const { dir, args } = await stoppedRun("rf_gap");
      const runId = await runIdOf(dir);
      // The last entry deleted: the stream ends before what the checkpoint had delivered.
      const last = (await (async () => redisCli("XREVRANGE", "rf_gap", "+", "-", "COUNT", "1"))()).split("\n")[0]!.replace(/^1\) 1\) /, "").replace(/"/g, "").trim();
      redisCli("XDEL", "rf_gap", last);
      const lost = await flowc(["run", ...args], { cwd: dir });
      expect(lost.code, lost.stderr).toBe(73);
      expect(lost.stderr).toMatch(/output out1 \(redis stream rf_gap\): the last message in stream rf_gap is row \d+, but rows up to row \d+ had been delivered there \(messages were lost\)/);
      // A row of this run far beyond the input's: skipped up to it, then refused at the end.
      redisCli("XADD", "rf_gap", "*", "data", "{}", "_flowc", `${runId}:99999999`);
      const beyond = await flowc(["run", ...args], { cwd: dir, timeoutMs: 120_000 });
      expect(beyond.code, beyond.stderr).toBe(73);
      expect(beyond.stderr).toMatch(/output out1 \(redis stream rf_gap\): it holds row 99999999 of this run, but the run produced 3\d{5} rows/);
    }, 180_000);

    it("postgres: an existing table without _flowc_row; nats: a subject no stream captures", async () => {
      const dir = testDir("ck-refuse-tables-");
      writeCheckpointData(dir, 1000);
      pg.psql(`CREATE TABLE old_rows (k text, v bigint)`);
      writeFileSync(join(dir, "pg.flow"), `type E = { k: string, u: int, v: int, note: string?, t: time }\nsource e: E = file("e.jsonl") event time t watermark 1s\nemit e | select k, v -> postgres("old_rows", url: "${pg.url}")\n`);
      const old = await flowc(["run", "pg.flow", "--checkpoint", "ck-pg"], { cwd: dir });
      expect(old.code, old.stderr).toBe(73);
      expect(old.stderr).toContain(`output out1 (postgres table old_rows): the table exists without a _flowc_row column, which --checkpoint needs to write each row once`);
      expect(pg.psql(`SELECT count(*) FROM old_rows`).trim()).toBe("0");
      // Without --checkpoint the same table takes the rows (at least once).
      expect((await flowc(["run", "pg.flow"], { cwd: dir })).code).toBe(0);
      expect(Number(pg.psql(`SELECT count(*) FROM old_rows`).trim())).toBeGreaterThan(900);

      writeFileSync(join(dir, "nats.flow"), `type E = { k: string, u: int, v: int, note: string?, t: time }\nsource e: E = file("e.jsonl") event time t watermark 1s\nemit e | select k, v -> nats("nowhere.x", url: "${nats.url}")\n`);
      const nowhere = await flowc(["run", "nats.flow", "--checkpoint", "ck-nats", "--sink-retry", "1s"], { cwd: dir });
      expect(nowhere.code, nowhere.stderr).toBe(73);
      expect(nowhere.stderr).toMatch(/cannot deliver to output out1 \(nats subject nowhere\.x\) \(retried for \d+ s\): no stream captures subject nowhere\.x\b/);
      expect(nowhere.stderr).toContain("delivery failed (no stream captures subject nowhere.x (503 no responders))");
    }, 120_000);
  });
});
