// Updating streams (LANGUAGE.md §13) through network connectors against real servers: an
// updating output upserted and deleted by key in Postgres (the table then holds the stream's
// final table), the changelog of an updating stream published to NATS JetStream and read back
// exactly, and a Debezium feed read from NATS as a source of changes.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHARED, ensureCli, flowc, testDir } from "./helpers";
import { haveServer, runLive, startKafka, startNats, startPostgres, waitFor, type TestServer, kafkaClient, useKafka } from "./servers";

beforeAll(() => ensureCli());

const C43 = join(SHARED, "conformance", "c43_changelog_agg_deletes");
const lines = (s: string) => s.split("\n").filter((l) => l !== "");

/** The balances program of conformance case c43, its output sent to `sink`. */
const balances = (sink: string) => `type Tx = { account: string, amount: int, ts: time }
source txs: Tx = file("txs.jsonl") event time ts watermark 0s
emit txs
  | group by account
  | agg n = count(), balance = sum(amount)
  | where balance >= 0
  -> ${sink}
`;

/** The final table of c43's changelog: account → row. */
function finalTable(): Map<string, { account: string; n: number; balance: number }> {
  const table = new Map();
  for (const l of lines(readFileSync(join(C43, "expected_changes.jsonl"), "utf8"))) {
    const c = JSON.parse(l);
    if (c.op === "upsert") table.set(c.row.account, c.row);
    else table.delete(c.key.account);
  }
  return table;
}

describe.skipIf(!haveServer("postgres"))("postgres sink of an updating stream", () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => pg?.stop());

  it("upserts and deletes by key: the table ends as the stream's final table", async () => {
    const dir = testDir("pg-updating");
    cpSync(join(C43, "txs.jsonl"), join(dir, "txs.jsonl"));
    writeFileSync(join(dir, "p.flow"), balances(`postgres("balances", url: "${pg.url}")`));
    const r = await flowc(["run", "p.flow"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const rows = lines(pg.psql("SELECT account, n, balance FROM balances ORDER BY account")).map((l) => l.split("|"));
    const want = [...finalTable().values()].sort((a, b) => (a.account < b.account ? -1 : 1)).map((x) => [x.account, String(x.n), String(x.balance)]);
    expect(rows).toEqual(want);
    // The key is the table's primary key (what upserts and deletes go by).
    expect(pg.psql(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'balances'::regclass AND i.indisprimary`).trim()).toBe("account");
  });
});

describe.skipIf(!haveServer("nats"))("nats and changes", () => {
  let server: TestServer;
  let nats: typeof import("nats");
  beforeAll(async () => {
    server = await startNats();
    nats = await import("nats");
  });
  afterAll(async () => server?.stop());

  const readStream = async (stream: string): Promise<string[]> => {
    const nc = await nats.connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    const out: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      out.push(new TextDecoder().decode((await jsm.streams.getMessage(stream, { seq })).data));
    }
    await nc.close();
    return out;
  };

  it("format: \"changelog\" publishes every change of an updating stream, deletes included", async () => {
    const dir = testDir("nats-changelog");
    cpSync(join(C43, "txs.jsonl"), join(dir, "txs.jsonl"));
    writeFileSync(join(dir, "p.flow"), balances(`nats("balances.changes", url: "${server.url}", stream: "BALANCES", format: "changelog")`));
    const r = await flowc(["run", "p.flow"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readStream("BALANCES")).toEqual(lines(readFileSync(join(C43, "expected_changes.jsonl"), "utf8")));
  });

  it("a Debezium feed on a subject is a source of changes: its final table and a re-aggregation", async () => {
    const dir = testDir("nats-debezium");
    const nc = await nats.connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "USERS", subjects: ["db.users"] });
    const js = nc.jetstream();
    for (const m of [
      { before: null, after: { id: 1, name: "Ana", country: "PT" }, op: "r" },
      { before: null, after: { id: 2, name: "Ben", country: "DE" }, op: "c" },
      { before: { id: 2 }, after: { id: 2, name: "Ben", country: "FR" }, op: "u" },
      { schema: {}, payload: { before: { id: 1 }, after: null, op: "d" } },
      { before: null, after: { id: 3, name: "Caro", country: "FR" }, op: "c" },
    ]) await js.publish("db.users", JSON.stringify(m));
    await nc.close();
    writeFileSync(
      join(dir, "p.flow"),
      `type User = { id: int, name: string, country: string }
source users: User = nats("db.users", url: "${server.url}", stream: "USERS", format: "debezium") key id
emit changes = users | group by country | agg n = count()
emit final per_country = users | group by country | agg n = count()
`,
    );
    const run = runLive(["p.flow"], dir);
    await waitFor("the feed read", () => run.stdout().includes(`changes\t{"country":"FR","n":2}`), 60_000);
    run.interrupt();
    expect(await run.exit, run.stderr()).toBe(130);
    expect(lines(run.stdout()).filter((l) => l.startsWith("per_country")), run.stderr()).toEqual([`per_country\t{"country":"FR","n":2}`]);
    expect(run.stderr()).toMatch(/interrupted, 5 in/);
  });
});

describe.skipIf(!haveServer("kafka"))("kafka and changes", () => {
  let cluster: TestServer;
  let kafka: import("kafkajs").Kafka;
  useKafka((c, k) => ((cluster = c), (kafka = k)));

  it("format: \"debezium\" writes Debezium envelopes keyed by the stream's key: c, u, d with before and after", async () => {
    const dir = testDir("kafka-debezium");
    cpSync(join(C43, "txs.jsonl"), join(dir, "txs.jsonl"));
    writeFileSync(join(dir, "p.flow"), balances(`kafka("balances", brokers: "${cluster.url}", key: "account", format: "debezium")`));
    const r = await flowc(["run", "p.flow"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // The expected envelopes, from c43's changelog: before = the key's previous row.
    const present = new Map<string, unknown>();
    const want: { key: string; value: unknown }[] = [];
    for (const l of lines(readFileSync(join(C43, "expected_changes.jsonl"), "utf8"))) {
      const c = JSON.parse(l);
      const account = c.op === "upsert" ? c.row.account : c.key.account;
      const before = present.get(account) ?? null;
      if (c.op === "upsert") {
        present.set(account, c.row);
        want.push({ key: account, value: { before, after: c.row, op: before === null ? "c" : "u" } });
      } else {
        present.delete(account);
        want.push({ key: account, value: { before, after: null, op: "d" } });
      }
    }
    const c = kafka.consumer({ groupId: `check-balances-${Date.now()}` });
    const got: { key: string; value: unknown; partition: number }[] = [];
    await c.connect();
    await c.subscribe({ topic: "balances", fromBeginning: true });
    await c.run({ eachMessage: async ({ message, partition }) => void got.push({ key: message.key!.toString(), value: JSON.parse(message.value!.toString()), partition }) });
    await waitFor(`${want.length} messages`, () => got.length >= want.length, 30_000);
    await c.disconnect();
    // Order holds per key (one key, one partition).
    for (const account of new Set(want.map((w) => w.key))) {
      expect(got.filter((g) => g.key === account).map((g) => g.value)).toEqual(want.filter((w) => w.key === account).map((w) => w.value));
    }
    expect(got.length).toBe(want.length);
  });
});
