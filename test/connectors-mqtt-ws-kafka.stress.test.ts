// MQTT (mosquitto), WebSocket (a ws server in this process) and Kafka (librdkafka's mock
// cluster through kcat) through `flowc run`: exact round trips with metadata fields, bad
// messages with their place, reconnection after the server went away, Kafka's consumer group
// (offsets committed: a second run with the same group reads nothing again) and watermarks per
// partition (§10: a partition without records holds the windows back).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCli, testDir } from "./helpers";
import { freePort, haveServer, runLive, sleep, startKafka, startMosquitto, waitFor, type TestServer, kafkaClient, produceTo, useKafka } from "./servers";

beforeAll(() => ensureCli());

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

describe.skipIf(!haveServer("mqtt"))("mqtt connector", () => {
  let server: TestServer;
  let mqtt: typeof import("mqtt");
  beforeAll(async () => {
    server = await startMosquitto();
    mqtt = await import("mqtt");
  });
  afterAll(async () => server?.stop());

  const publish = async (messages: [topic: string, payload: string][]) => {
    const c = await mqtt.connectAsync(server.url);
    for (const [t, p] of messages) await c.publishAsync(t, p, { qos: 1 });
    await c.endAsync();
  };

  it("round trip with _topic, bad messages, and a broker killed and restarted mid-run", async () => {
    const dir = testDir("mqtt");
    writeFileSync(
      join(dir, "p.flow"),
      `type R = { sensor: string, temp: float, _topic: string }
source rs: R = mqtt("sensors/+/temp", url: "${server.url}", qos: 1)
emit rs | where temp > 30
`,
    );
    const run = runLive(["p.flow", "--dead-letter", "dead.jsonl"], dir);
    await waitFor("the subscription", async () => {
      await publish([["sensors/probe/temp", `{"sensor":"probe","temp":99}`]]);
      return lines(run.stdout()).length > 0;
    });
    await publish([
      ["sensors/a/temp", `{"sensor":"a","temp":31.5}`],
      ["sensors/b/temp", `{"sensor":"b","temp":20}`],
      ["sensors/c/temp", `{"sensor":"c","temp":"hot"}`],
      ["other/topic", `{"sensor":"x","temp":99}`],
    ]);
    await waitFor("row a and the bad message", () => lines(run.stdout()).some((l) => l.includes(`"a"`)) && run.stderr().includes("expected float"));
    await server.kill();
    await server.restart();
    await waitFor("the reconnect", () => run.stderr().includes("reconnected"));
    await waitFor("a row after the restart", async () => {
      await publish([["sensors/d/temp", `{"sensor":"d","temp":40}`]]);
      await sleep(100);
      return lines(run.stdout()).some((l) => l.includes(`"d"`));
    });
    run.interrupt();
    expect(await run.exit).toBe(130);
    const rows = lines(run.stdout()).filter((l) => !l.includes("probe"));
    expect(rows[0]).toBe(`{"sensor":"a","temp":31.5,"_topic":"sensors/a/temp"}`);
    expect(rows.slice(1).every((l) => l === `{"sensor":"d","temp":40,"_topic":"sensors/d/temp"}`)).toBe(true);
    expect(run.stderr()).toMatch(/mqtt topic sensors\/\+\/temp message \d+ \(topic sensors\/c\/temp\): field "temp": expected float, got "hot"/);
    expect(run.stderr()).toMatch(/connection lost/);
  });
});

describe("websocket connector", () => {
  it("one record per message; reconnects after the server closes the connection", async () => {
    const { WebSocketServer } = await import("ws");
    const port = await freePort();
    const wss = new WebSocketServer({ port, host: "127.0.0.1" });
    const clients: import("ws").WebSocket[] = [];
    wss.on("connection", (c) => clients.push(c));
    try {
      const dir = testDir("ws");
      writeFileSync(join(dir, "p.flow"), `source ticks: { sym: string, px: float } = websocket("ws://127.0.0.1:${port}/feed")\nemit ticks | select sym, px2 = px * 2\n`);
      const run = runLive(["p.flow"], dir);
      await waitFor("the client", () => clients.length === 1);
      clients[0]!.send(`{"sym":"A","px":1.5}`);
      clients[0]!.send(`{"sym":"B"}`);
      clients[0]!.send(Buffer.from(`{"sym":"C","px":2}`)); // a binary message is read as UTF-8
      await waitFor("two rows", () => lines(run.stdout()).length >= 2);
      clients[0]!.terminate(); // the connection breaks: the client opens a new one
      await waitFor("the reconnect", () => clients.length === 2);
      clients[1]!.send(`{"sym":"D","px":5}`);
      await waitFor("three rows", () => lines(run.stdout()).length >= 3);
      run.interrupt();
      expect(await run.exit).toBe(130);
      expect(lines(run.stdout())).toEqual([`{"sym":"A","px2":3}`, `{"sym":"C","px2":4}`, `{"sym":"D","px2":10}`]);
      expect(run.stderr()).toContain(`websocket ws://127.0.0.1:${port}/feed message 2: field "px": missing`);
      expect(run.stderr()).toMatch(/connection lost/);
    } finally {
      wss.close();
    }
  });
});

describe.skipIf(!haveServer("kafka"))("kafka connector", () => {
  let cluster: TestServer;
  let kafka: import("kafkajs").Kafka;
  useKafka((c, k) => ((cluster = c), (kafka = k)));

  const produce = (topic: string, messages: { key?: string; value: string; partition?: number }[]) => produceTo(kafka, topic, messages);
  const consumeAll = async (topic: string, count: number) => {
    const c = kafka.consumer({ groupId: `check-${topic}-${Date.now()}` });
    const got: { key: string | null; value: string; partition: number }[] = [];
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({ eachMessage: async ({ message, partition }) => void got.push({ key: message.key?.toString() ?? null, value: message.value!.toString(), partition }) });
    await waitFor(`${count} messages in ${topic}`, () => got.length >= count, 30_000);
    await c.disconnect();
    return got;
  };

  it("round trip: group member with _key/_partition/_offset/_timestamp → keyed sink; bad messages; offsets committed", async () => {
    const dir = testDir("kafka");
    await produce("orders", [
      { key: "k1", value: `{"id":1,"amount":5}`, partition: 0 },
      { key: "k1", value: `{"id":2,"amount":50}`, partition: 0 },
      { value: `not json`, partition: 0 },
      { key: "k2", value: `{"id":3,"amount":70}`, partition: 0 },
    ]);
    writeFileSync(
      join(dir, "p.flow"),
      `type O = { id: int, amount: float, _key: string?, _partition: int, _offset: int, _timestamp: time }
source orders: O = kafka("orders", brokers: "${cluster.url}", group: "g1")
emit seen = orders | select id, _key, _partition, _offset
emit big = orders | where amount > 10 | select id, amount -> kafka("big", brokers: "${cluster.url}", key: "id")
`,
    );
    const run = runLive(["p.flow", "--dead-letter", "dead.jsonl"], dir);
    await waitFor("three rows", () => lines(run.stdout()).length >= 3, 60_000);
    const big = await consumeAll("big", 2);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(lines(run.stdout())).toEqual([
      `{"id":1,"_key":"k1","_partition":0,"_offset":0}`,
      `{"id":2,"_key":"k1","_partition":0,"_offset":1}`,
      `{"id":3,"_key":"k2","_partition":0,"_offset":3}`,
    ]);
    // Keyed by id, the two rows may land in different partitions: no order between them.
    expect(big.map((m) => [m.key, m.value]).sort()).toEqual([
      ["2", `{"id":2,"amount":50}`],
      ["3", `{"id":3,"amount":70}`],
    ]);
    expect(run.stderr()).toContain(`kafka topic orders partition 0 offset 2: invalid JSON`);

    // The same group again: its offsets were committed, so only a new message is read.
    await produce("orders", [{ key: "k3", value: `{"id":4,"amount":1}`, partition: 0 }]);
    const again = runLive(["p.flow"], dir);
    await waitFor("the new row", () => lines(again.stdout()).length >= 1, 60_000);
    await sleep(500);
    again.interrupt();
    expect(await again.exit).toBe(130);
    expect(lines(again.stdout())).toEqual([`{"id":4,"_key":"k3","_partition":0,"_offset":4}`]);
  });

  it("watermarks per partition: a partition without records holds a window until it has some", async () => {
    const dir = testDir("kafka-wm");
    writeFileSync(
      join(dir, "p.flow"),
      `source es: { k: string, at: time } = kafka("wm", brokers: "${cluster.url}", group: "gw") event time at
emit es | window tumbling(10s) | agg n = count()
`,
    );
    // The topic exists (with the mock cluster's 4 partitions) before the group joins.
    await produce("wm", [{ value: `{"k":"a","at":"2026-01-01T00:00:01Z"}`, partition: 0 }, { value: `{"k":"a","at":"2026-01-01T00:00:15Z"}`, partition: 0 }]);
    const run = runLive(["p.flow"], dir);
    await sleep(4000); // the group joins and reads both records
    // Partition 0 is at 00:00:15, the others at −∞: the window [0 s, 10 s) must not fire yet.
    expect(lines(run.stdout())).toEqual([]);
    await produce("wm", [1, 2, 3].map((p) => ({ value: `{"k":"b","at":"2026-01-01T00:00:12Z"}`, partition: p })));
    await waitFor("the first window", () => lines(run.stdout()).length >= 1, 60_000);
    expect(lines(run.stdout())).toEqual([`{"window_start":"2026-01-01T00:00:00.000Z","window_end":"2026-01-01T00:00:10.000Z","n":1}`]);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(lines(run.stdout())[1]).toBe(`{"window_start":"2026-01-01T00:00:10.000Z","window_end":"2026-01-01T00:00:20.000Z","n":4}`);
  });
});
