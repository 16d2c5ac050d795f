// MQTT (LANGUAGE.md §11) with `mqtt` (MQTT.js): a subscription to `topic` (`+`/`#` wildcards)
// at `qos` 0 or 1. The client keeps its session across reconnects (clean: false, one client id
// per run), so with qos 1 the broker holds messages for it while the connection is down; a
// broker that restarts without persistence loses them — MQTT is not a replayable source (§12).
// A lost connection is retried with backoff (100 ms … 10 s) and the topic subscribed again.
// A full inbox stops reading the socket (TCP backpressure to the broker).

import type { NetworkSourceSpec } from "../contract.js";
import type { NetInput, NetSourceOpening } from "../run/network.js";
import { Backoff, Connection, Inbox, loadClient, messageDecoder, METADATA, runId, text, type Decoded } from "./common.js";

type Mqtt = typeof import("mqtt");

export async function openMqttSource(o: NetSourceOpening): Promise<NetInput> {
  const spec = o.spec as Extract<NetworkSourceSpec, { kind: "mqtt" }>;
  const mqtt = await loadClient<Mqtt>("mqtt", async () => {
    const m = (await import("mqtt")) as Mqtt & { default?: Mqtt };
    return m.default?.connect !== undefined ? m.default : m;
  });
  const label = `mqtt topic ${spec.topic}`;
  const conn = new Connection(o, `source ${o.name} (${label})`);
  const decode = messageDecoder(o.schema, o.keep, spec.format, METADATA.mqtt!, o.timeOf, o.changes);
  const backoff = new Backoff();
  let closing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const client = mqtt.connect(spec.url, {
    clientId: `flowc-${runId()}`,
    clean: false,
    reconnectPeriod: 0, // reconnects are ours: exponential backoff (§10)
    connectTimeout: 2000,
  });
  const socket = () => (client as unknown as { stream?: { pause(): void; resume(): void } }).stream;
  const inbox = new Inbox(20_000, { pause: () => socket()?.pause(), resume: () => socket()?.resume() });
  client.on("connect", () => {
    conn.connected();
    backoff.reset();
    client.subscribe(spec.topic, { qos: spec.qos }, (e) => {
      if (e) conn.lost(e);
    });
  });
  client.on("error", (e) => conn.lost(e));
  client.on("close", () => {
    if (closing) return;
    conn.lost(new Error(`connection to ${spec.url} closed`));
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!closing) client.reconnect();
    }, backoff.next());
  });
  let n = 0;
  client.on("message", (topic, payload) => {
    n++;
    const out: Decoded = { records: [], bad: undefined };
    decode(text(payload), { where: `${label} message ${n} (topic ${topic})`, position: { topic, message: n }, meta: { _topic: topic } }, out);
    inbox.put(out);
  });
  return {
    label,
    batches: inbox,
    async close() {
      closing = true;
      clearTimeout(timer);
      inbox.close(true);
      await client.endAsync(true).catch(() => {});
    },
  };
}
