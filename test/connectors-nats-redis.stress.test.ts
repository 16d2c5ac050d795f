// NATS JetStream and Redis streams through `flowc run` against real servers (test/servers.ts):
// exact round trips (source → program → sink), bad messages with their place, a server killed
// and restarted mid-run (the run reconnects; nothing is lost from these replayable sources), and
// a sink that stays down (exit 73 naming it).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCli, testDir } from "./helpers";
import { haveServer, runLive, sleep, startNats, startRedis, waitFor, type TestServer } from "./servers";
import { writeFileSync } from "node:fs";

beforeAll(() => ensureCli());

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

describe.skipIf(!haveServer("nats"))("nats connector", () => {
  let server: TestServer;
  let nats: typeof import("nats");
  beforeAll(async () => {
    server = await startNats();
    nats = await import("nats");
  });
  afterAll(async () => server?.stop());

  const publish = async (subject: string, payloads: string[]) => {
    const nc = await nats.connect({ servers: server.url });
    const js = nc.jetstream();
    for (const p of payloads) await js.publish(subject, p);
    await nc.close();
  };
  const readStream = async (stream: string): Promise<{ subject: string; data: string; id: string | undefined }[]> => {
    const nc = await nats.connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      out.push({ subject: m.subject, data: new TextDecoder().decode(m.data), id: m.header?.get("Nats-Msg-Id") });
    }
    await nc.close();
    return out;
  };
  const ensureStream = async (name: string, subjects: string[]) => {
    const nc = await nats.connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name, subjects });
    await nc.close();
  };

  it("round trip: JetStream source with metadata fields → program → JetStream sink (exact messages, Nats-Msg-Id)", async () => {
    const dir = testDir("nats-roundtrip");
    await ensureStream("RT_IN", ["rt.in.>"]);
    writeFileSync(
      join(dir, "p.flow"),
      `type Reading = { sensor: string, value: float, at: time, _subject: string, _seq: int }
source readings: Reading = nats("rt.in.>", url: "${server.url}", stream: "RT_IN") event time at
emit hot = readings | where value > 10 | select sensor, value, at, _subject, _seq -> nats("rt.out", url: "${server.url}", stream: "RT_OUT")
`,
    );
    await publish("rt.in.a", [
      `{"sensor":"s1","value":5,"at":"2026-01-01T00:00:01Z"}`,
      `{"sensor":"s2","value":15.5,"at":"2026-01-01T00:00:02Z"}`,
    ]);
    const run = runLive(["p.flow"], dir);
    await publish("rt.in.b", [`{"sensor":"s3","value":25,"at":"2026-01-01T00:00:03Z","extra":1}`]);
    await waitFor("two rows in RT_OUT", async () => (await readStream("RT_OUT").catch(() => [])).length >= 2);
    run.interrupt();
    expect(await run.exit).toBe(130);
    const out = await readStream("RT_OUT");
    expect(out.map((m) => m.data)).toEqual([
      `{"sensor":"s2","value":15.5,"at":"2026-01-01T00:00:02.000Z","_subject":"rt.in.a","_seq":2}`,
      `{"sensor":"s3","value":25,"at":"2026-01-01T00:00:03.000Z","_subject":"rt.in.b","_seq":3}`,
    ]);
    expect(out.every((m) => m.subject === "rt.out" && /^[a-z0-9]+-[12]$/.test(m.id ?? ""))).toBe(true);
    expect(run.stderr()).toMatch(/interrupted, 3 in \(readings 3\), 2 out/);
  });

  it(`start: "latest" reads only messages published after the run started`, async () => {
    const dir = testDir("nats-latest");
    await ensureStream("LATEST", ["latest.x"]);
    await publish("latest.x", [`{"n":1}`, `{"n":2}`]);
    writeFileSync(join(dir, "p.flow"), `source xs: { n: int } = nats("latest.x", url: "${server.url}", stream: "LATEST", start: "latest")\nemit xs\n`);
    const run = runLive(["p.flow"], dir);
    await waitFor("a new message", async () => {
      await publish("latest.x", [`{"n":7}`]);
      await sleep(100);
      return lines(run.stdout()).length > 0;
    });
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(new Set(lines(run.stdout()))).toEqual(new Set([`{"n":7}`]));
  });

  it("bad messages are reported with subject and sequence, dead-lettered, fatal under --strict", async () => {
    const dir = testDir("nats-bad");
    await ensureStream("BAD_IN", ["bad.in"]);
    writeFileSync(join(dir, "p.flow"), `source xs: { n: int } = nats("bad.in", url: "${server.url}", stream: "BAD_IN")\nemit xs\n`);
    await publish("bad.in", [`{"n":1}`, `{"n":"two"}`, `not json`, `{"n":4}`]);
    const run = runLive(["p.flow", "--dead-letter", "dead.jsonl"], dir);
    await waitFor("two rows", () => lines(run.stdout()).length >= 2);
    await sleep(200);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(lines(run.stdout())).toEqual([`{"n":1}`, `{"n":4}`]);
    expect(run.stderr()).toContain(`nats subject bad.in seq 2: field "n": expected int, got "two"`);
    expect(run.stderr()).toContain(`nats subject bad.in seq 3: invalid JSON`);
    const dead = lines(readFileSync(join(dir, "dead.jsonl"), "utf8")).map((l) => JSON.parse(l));
    expect(dead[0]).toMatchObject({ source: "xs", file: "nats subject bad.in", line: null, position: { subject: "bad.in", seq: 2 }, raw: `{"n":"two"}` });
    expect(dead).toHaveLength(2);

    const strict = runLive(["p.flow", "--strict"], dir);
    expect(await strict.exit).toBe(65);
    expect(lines(strict.stdout())).toEqual([`{"n":1}`]);
  });

  it("a server killed and restarted mid-run: the run reconnects and reads every message once (durable consumer too)", async () => {
    const dir = testDir("nats-restart");
    await ensureStream("RS", ["rs.x"]);
    writeFileSync(
      join(dir, "p.flow"),
      `source xs: { n: int } = nats("rs.x", url: "${server.url}", stream: "RS")
source ys: { n: int } = nats("rs.x", url: "${server.url}", stream: "RS", durable: "flowc_test")
emit all = xs
emit durable = ys
`,
    );
    const batch = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => `{"n":${a + i}}`);
    await publish("rs.x", batch(0, 50));
    const run = runLive(["p.flow"], dir);
    await waitFor("the first 50 rows twice", () => lines(run.stdout()).length >= 100);
    await server.kill();
    await sleep(500);
    await server.restart();
    await publish("rs.x", batch(50, 100));
    await waitFor("all 100 rows twice", () => lines(run.stdout()).length >= 200, 30_000);
    await sleep(300);
    run.interrupt();
    expect(await run.exit).toBe(130);
    const rows = lines(run.stdout());
    const of = (name: string) => rows.filter((r) => r.startsWith(name + "\t")).map((r) => JSON.parse(r.slice(name.length + 1)).n);
    const all = Array.from({ length: 100 }, (_, i) => i);
    expect(of("all")).toEqual(all);
    expect(of("durable")).toEqual(all);
    expect(run.stderr()).toMatch(/connection lost/);
    expect(run.stderr()).toMatch(/reconnected/);
  });

  it("a slow sink pauses the consumer: what it fetched stays bounded, then everything arrives in order", async () => {
    const { createServer } = await import("node:http");
    const { freePort } = await import("./servers");
    const dir = testDir("nats-slow");
    await ensureStream("SLOW", ["slow.x"]);
    const nc = await nats.connect({ servers: server.url });
    const total = 60_000;
    for (let i = 0; i < total; i++) nc.publish("slow.x", `{"n":${i}}`);
    await nc.flush();
    const jsm = await nc.jetstreamManager();
    await waitFor("the stream to hold every message", async () => (await jsm.streams.info("SLOW")).state.messages === total);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const received: number[] = [];
    const port = await freePort();
    const sink = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => void released.then(() => {
        for (const l of lines(body)) received.push(JSON.parse(l).n);
        res.writeHead(204).end();
      }));
    });
    await new Promise<void>((r) => sink.listen(port, "127.0.0.1", () => r()));
    try {
      writeFileSync(join(dir, "p.flow"), `source xs: { n: int } = nats("slow.x", url: "${server.url}", stream: "SLOW")\nemit xs -> http("http://127.0.0.1:${port}/")\n`);
      const run = runLive(["p.flow"], dir);
      const delivered = async () => {
        const list = await jsm.consumers.list("SLOW").next();
        return list.reduce((a, c) => Math.max(a, c.delivered.stream_seq), 0);
      };
      await waitFor("the consumer to start", async () => (await delivered()) > 0);
      await sleep(3000);
      // The sink holds everything: the run fetched what its inbox and the sink's queue hold, no more.
      const fetched = await delivered();
      expect(fetched).toBeLessThan(40_000);
      release();
      await waitFor("every row at the sink", () => received.length >= total, 60_000);
      run.interrupt();
      expect(await run.exit).toBe(130);
      expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
    } finally {
      sink.close();
      sink.closeAllConnections();
      await nc.close();
    }
  });

  it("a source whose server is down: the run waits, retrying, and its summary names the connection", async () => {
    const dir = testDir("nats-down");
    writeFileSync(join(dir, "p.flow"), `source xs: { n: int } = nats("x", url: "nats://127.0.0.1:1", stream: "X")\nemit xs\n`);
    const run = runLive(["p.flow"], dir);
    await waitFor("the first failure", () => run.stderr().includes("cannot connect"));
    await sleep(500);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(run.stderr()).toMatch(/flowc: interrupted, 0 in \(xs 0\), 0 out, .*; connection down: source xs \(nats subject x\) \(CONNECTION_REFUSED\)\n/);
  });

  it("a sink whose server stops mid-run: with --checkpoint the stream holds every row once, in order", async () => {
    // The server stops while publishes are in flight: part of a batch is stored, the rest is not.
    // The retry must not publish the stored part again, whatever the stream's duplicate window
    // (here 100 ms, shorter than the outage: message ids alone would not drop the repeats), and
    // must not leave a row after a missing one.
    const dir = testDir("nats-sink-restart");
    const ROWS = 100_000;
    const nc0 = await nats.connect({ servers: server.url });
    await (await nc0.jetstreamManager()).streams.add({ name: "SR", subjects: ["sr.out"], duplicate_window: nats.nanos(100) });
    await nc0.close();
    writeFileSync(join(dir, "p.flow"), `source r: int = range(0, ${ROWS})\nemit r | select n = it -> nats("sr.out", url: "${server.url}", stream: "SR")\n`);
    const run = runLive(["p.flow", "--checkpoint", "ck", "--checkpoint-every", "100ms", "--quiet"], dir);
    const stored = async () => {
      const nc = await nats.connect({ servers: server.url }).catch(() => undefined);
      if (nc === undefined) return 0;
      try {
        return (await (await nc.jetstreamManager()).streams.info("SR")).state.messages;
      } catch {
        return 0;
      } finally {
        await nc.close();
      }
    };
    await waitFor("the first rows in the stream", async () => (await stored()) >= 5_000, 30_000);
    await server.kill("SIGTERM"); // a clean stop: what the server acknowledged is on disk
    await sleep(300);
    await server.restart();
    expect(await run.exit, run.stderr()).toBe(0);

    const nc = await nats.connect({ servers: server.url });
    const rows: number[] = [];
    let wrong = 0;
    try {
      const consumer = await nc.jetstream().consumers.get("SR");
      const messages = await consumer.consume();
      for await (const m of messages) {
        const row = Number(m.headers?.get("flowc-row"));
        rows.push(row);
        if (JSON.parse(new TextDecoder().decode(m.data)).n !== row - 1) wrong++;
        if (m.info.pending === 0) break;
      }
    } finally {
      await nc.close();
    }
    expect(wrong).toBe(0);
    expect(rows.length).toBe(ROWS);
    expect(rows.every((row, i) => row === i + 1)).toBe(true);
    expect(run.stderr()).toMatch(/output out1 \(nats subject sr\.out\): delivery failed/);
    expect(run.stderr()).toMatch(/output out1 \(nats subject sr\.out\): delivered again/);
    expect(run.stderr()).toMatch(/output out1 \(nats subject sr\.out\): connection lost/);
  }, 120_000);

  it("a sink whose server stays down stops the run after --sink-retry with exit 73 naming it", async () => {
    const dir = testDir("nats-sink-down");
    writeFileSync(join(dir, "p.flow"), `source r: int = range(0, 5)\nemit r -> nats("down.x", url: "nats://127.0.0.1:1", stream: "DOWN")\n`);
    const run = runLive(["p.flow", "--sink-retry", "1s"], dir);
    expect(await run.exit).toBe(73);
    expect(run.stderr()).toMatch(/cannot deliver to output out1 \(nats subject down\.x\)/);
  });
});

describe.skipIf(!haveServer("redis"))("redis connector", () => {
  let server: TestServer;
  let redis: typeof import("redis");
  beforeAll(async () => {
    server = await startRedis();
    redis = await import("redis");
  });
  afterAll(async () => server?.stop());

  const withClient = async <T>(f: (c: { sendCommand(a: string[]): Promise<unknown> }) => Promise<T>): Promise<T> => {
    const c = redis.createClient({ url: server.url, RESP: 2 });
    await c.connect();
    try {
      return await f(c as unknown as { sendCommand(a: string[]): Promise<unknown> });
    } finally {
      await c.close();
    }
  };
  const xadd = (key: string, entries: Record<string, string>[]) =>
    withClient(async (c) => {
      for (const e of entries) await c.sendCommand(["XADD", key, "*", ...Object.entries(e).flat()]);
    });
  const xrange = (key: string) => withClient(async (c) => (await c.sendCommand(["XRANGE", key, "-", "+"])) as [string, string[]][]);

  it("round trip: entry fields as cells, _id, json:, group → program → XADD data (exact)", async () => {
    const dir = testDir("redis-roundtrip");
    await xadd("orders", [{ id: "1", amount: "9.5", paid: "true" }, { id: "2", amount: "20", paid: "FALSE" }]);
    await xadd("events", [{ payload: `{"kind":"click","n":3}` }]);
    writeFileSync(
      join(dir, "p.flow"),
      `source orders: { id: int, amount: float, paid: bool, _id: string } = redis("orders", url: "${server.url}")
source events: { kind: string, n: int } = redis("events", url: "${server.url}", group: "g1", json: "payload")
emit big = orders | where amount > 10 | select id, amount, paid -> redis("big", url: "${server.url}")
emit ids = orders | select id, _id
emit ev = events -> redis("ev_out", url: "${server.url}")
`,
    );
    const run = runLive(["p.flow"], dir);
    await waitFor("outputs", async () => (await xrange("big")).length >= 1 && (await xrange("ev_out")).length >= 1);
    await xadd("orders", [{ id: "3", amount: "30.25", paid: "true", ignored: "x" }]);
    await waitFor("the third order", async () => (await xrange("big")).length >= 2);
    run.interrupt();
    expect(await run.exit).toBe(130);
    const big = await xrange("big");
    expect(big.map(([, f]) => f)).toEqual([
      ["data", `{"id":2,"amount":20,"paid":false}`],
      ["data", `{"id":3,"amount":30.25,"paid":true}`],
    ]);
    expect((await xrange("ev_out")).map(([, f]) => f)).toEqual([["data", `{"kind":"click","n":3}`]]);
    const ids = (await xrange("orders")).map(([id]) => id);
    // `ids` is the only output on stdout: plain JSONL.
    expect(lines(run.stdout()).map((l) => JSON.parse(l)._id)).toEqual(ids);
    // The group has acknowledged what it processed: nothing pending.
    const pending = await withClient(async (c) => (await c.sendCommand(["XPENDING", "events", "g1"])) as unknown[]);
    expect(pending[0]).toBe(0);
  });

  it(`start: "latest" reads only entries added after the run started`, async () => {
    const dir = testDir("redis-latest");
    await xadd("late", [{ n: "1" }, { n: "2" }]);
    writeFileSync(join(dir, "p.flow"), `source xs: { n: int } = redis("late", url: "${server.url}", start: "latest")\nemit xs\n`);
    const run = runLive(["p.flow"], dir);
    await waitFor("a new entry", async () => {
      await xadd("late", [{ n: "7" }]);
      await sleep(100);
      return lines(run.stdout()).length > 0;
    });
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(new Set(lines(run.stdout()))).toEqual(new Set([`{"n":7}`]));
  });

  it("bad entries are reported with the stream id and dead-lettered", async () => {
    const dir = testDir("redis-bad");
    await xadd("bad", [{ n: "1" }, { n: "x" }, { m: "3" }, { n: "4" }]);
    const ids = (await xrange("bad")).map(([id]) => id);
    writeFileSync(join(dir, "p.flow"), `source xs: { n: int } = redis("bad", url: "${server.url}")\nemit xs\n`);
    const run = runLive(["p.flow", "--dead-letter", "dead.jsonl"], dir);
    await waitFor("two rows", () => lines(run.stdout()).length >= 2);
    await sleep(200);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(lines(run.stdout())).toEqual([`{"n":1}`, `{"n":4}`]);
    expect(run.stderr()).toContain(`redis stream bad id ${ids[1]}: field "n": expected int, got "x"`);
    const dead = lines(readFileSync(join(dir, "dead.jsonl"), "utf8")).map((l) => JSON.parse(l));
    expect(dead.map((d) => d.position)).toEqual([{ key: "bad", id: ids[1] }, { key: "bad", id: ids[2] }]);
  });

  it("a server killed and restarted mid-run: the run reconnects and resumes after the last entry it read", async () => {
    const dir = testDir("redis-restart");
    writeFileSync(
      join(dir, "p.flow"),
      `source xs: { n: int } = redis("rs", url: "${server.url}")\nemit xs | select n -> redis("rs_out", url: "${server.url}")\n`,
    );
    const batch = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => ({ n: String(a + i) }));
    await xadd("rs", batch(0, 50));
    const run = runLive(["p.flow"], dir);
    await waitFor("50 rows", async () => (await xrange("rs_out")).length >= 50);
    await server.kill();
    await sleep(500);
    await server.restart();
    await xadd("rs", batch(50, 100));
    await waitFor("100 rows", async () => (await xrange("rs_out").catch(() => [])).length >= 100, 30_000);
    await sleep(300);
    run.interrupt();
    expect(await run.exit).toBe(130);
    const ns = (await xrange("rs_out")).map(([, f]) => JSON.parse(f[1]!).n);
    expect(ns).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(run.stderr()).toMatch(/reconnect/);
  });
});
