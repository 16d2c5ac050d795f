// WebSocket client (LANGUAGE.md §11) with `ws`: one record per message (text, or binary read as
// UTF-8) in `format`. A closed or failed connection is opened again with backoff (100 ms …
// 10 s); messages sent while it was down are not replayed (not a replayable source, §12).
// A full inbox pauses the socket (TCP backpressure to the server).

import type { NetworkSourceSpec } from "../contract.js";
import type { NetInput, NetSourceOpening } from "../run/network.js";
import { Backoff, Connection, Inbox, loadClient, messageDecoder, text, type Decoded } from "./common.js";

type Ws = typeof import("ws");
type Socket = import("ws").WebSocket;

export async function openWebSocketSource(o: NetSourceOpening): Promise<NetInput> {
  const spec = o.spec as Extract<NetworkSourceSpec, { kind: "websocket" }>;
  const ws = await loadClient<Ws>("ws", async () => {
    const m = (await import("ws")) as Ws & { default?: Ws };
    return m.default ?? m;
  });
  const WebSocket = (ws as unknown as { WebSocket?: typeof import("ws").WebSocket }).WebSocket ?? (ws as unknown as typeof import("ws").WebSocket);
  const label = `websocket ${spec.url}`;
  const conn = new Connection(o, `source ${o.name} (${label})`);
  const decode = messageDecoder(o.schema, o.keep, spec.format, [], o.timeOf, o.changes);
  const backoff = new Backoff();
  let socket: Socket | undefined;
  let closing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const inbox = new Inbox(20_000, { pause: () => socket?.pause(), resume: () => socket?.resume() });
  let n = 0;
  const open = () => {
    const s = new WebSocket(spec.url, { handshakeTimeout: 2000 });
    socket = s;
    s.on("open", () => {
      conn.connected();
      backoff.reset();
    });
    s.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      n++;
      const payload = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      const out: Decoded = { records: [], bad: undefined };
      decode(text(payload), { where: `${label} message ${n}`, position: { url: spec.url, message: n } }, out);
      inbox.put(out);
    });
    s.on("error", (e) => conn.lost(e));
    s.on("close", () => {
      if (closing) return;
      conn.lost(new Error("connection closed"));
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (!closing) open();
      }, backoff.next());
    });
  };
  open();
  return {
    label,
    batches: inbox,
    async close() {
      closing = true;
      clearTimeout(timer);
      inbox.close(true);
      socket?.terminate();
    },
  };
}
