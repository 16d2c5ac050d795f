// HTTP (LANGUAGE.md §11): an ingest server as a source, batches of JSONL as a sink.
//
// Source `http(port:, path:, host:)`: POST a JSON object, a JSON array of objects or JSONL (with
// `format: "csv"` CSV rows, with `"lines"` text lines). The answer comes once the records have
// gone through the program: 200 `{"accepted": n, "bad": [{"line": i, "error": "..."}]}` (`line`:
// the 1-based line of a JSONL body or index in an array); 400 when the body is not JSON at all;
// 413 above 16 MiB; 503 with `Retry-After` while the run is behind by more than its inbox holds
// (backpressure, never an unbounded queue); 404 for another path, 405 for another method.
// Bad records are also reported and dead-lettered like any bad input.
//
// Sink `http(url, method:)`: each delivery is one request whose body is the rows as JSONL
// (CSV rows or lines per `format`); any answer but 2xx, or none within 10 s, is a failure the
// writer retries.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { NetworkSinkSpec, NetworkSourceSpec } from "../contract.js";
import { DecodeError, makeDecoder } from "../decode.js";
import { jsonErrorMessage } from "../io/jsonl.js";
import type { BadRecord } from "../io/batch.js";
import type { MessageSink, NetInput, NetSinkOpening, NetSourceOpening, SinkChange } from "../run/network.js";
import { InputError } from "../run/errors.js";
import { Inbox, messageDecoder, changeText, type Decoded } from "./common.js";

/** The largest body accepted (§11). */
export const MAX_BODY = 16 * 1024 * 1024;
/** Records that may wait for the program before requests are refused with 503. */
const INBOX_CAPACITY = 50_000;

export async function openHttpSource(o: NetSourceOpening): Promise<NetInput> {
  const spec = o.spec as Extract<NetworkSourceSpec, { kind: "http" }>;
  const http = await import("node:http");
  const label = `http POST ${spec.path}`;
  const inbox = new Inbox(INBOX_CAPACITY);
  const general = makeDecoder(o.schema, o.keep);
  const checkTime = (r: unknown) => {
    if (o.timeOf === undefined) return r;
    const t = o.timeOf(r);
    if (t === null || t === undefined || !Number.isFinite(t)) throw new DecodeError("the event time is null");
    return r;
  };
  const other = spec.format === "jsonl" ? undefined : messageDecoder(o.schema, o.keep, spec.format === "lines" ? "lines" : "csv", [], o.timeOf);
  /** Requests whose records wait for the program: answered 503 if the run ends first. */
  const waiting = new Set<ServerResponse>();

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    waiting.delete(res);
    if (res.headersSent) return;
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body) + "\n");
  };

  /** The records of a body, or undefined when it is not JSON at all. */
  const decodeBody = (body: string): Decoded | undefined => {
    const out: Decoded = { records: [], bad: undefined };
    const bad = (line: number, raw: string, error: string) =>
      (out.bad ??= []).push({ line, raw, error, index: out.records.length, where: `${label} line ${line}`, position: { path: spec.path, line } });
    const one = (v: unknown, line: number, raw: () => string) => {
      try {
        out.records.push(checkTime(general(v)));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        bad(line, raw(), e.message);
      }
    };
    if (other !== undefined) {
      if (spec.format === "lines") {
        const lines = body.split("\n");
        if (lines.at(-1) === "") lines.pop();
        lines.forEach((l, i) => other(l.replace(/\r$/, ""), { where: `${label} line ${i + 1}`, position: { path: spec.path, line: i + 1 } }, out));
      } else other(body, { where: label, position: { path: spec.path } }, out);
      return out;
    }
    let whole: unknown;
    let parsed = true;
    try {
      whole = JSON.parse(body);
    } catch {
      parsed = false;
    }
    if (parsed) {
      if (Array.isArray(whole)) whole.forEach((v, i) => one(v, i + 1, () => JSON.stringify(v)));
      else one(whole, 1, () => body);
      return out;
    }
    const lines = body.split("\n");
    let json = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!.replace(/\r$/, "");
      if (l.trim() === "") continue;
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch (e) {
        bad(i + 1, l, jsonErrorMessage(e));
        continue;
      }
      json++;
      one(v, i + 1, () => l);
    }
    return json === 0 ? undefined : out;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== spec.path) return reply(res, 404, { error: `no such path; POST to ${spec.path}` });
    if (req.method !== "POST") return reply(res, 405, { error: "use POST" }, { allow: "POST" });
    if (inbox.isClosed) return reply(res, 503, { error: "the run is stopping" });
    // Backpressure: the program is behind by a full inbox.
    if (inbox.full) {
      req.resume();
      return reply(res, 503, { error: "busy: the program is behind; retry later" }, { "retry-after": "1" });
    }
    // A body above MAX_BODY is read to its end and dropped (memory stays bounded), then refused:
    // answering before the client has sent it all would reach the client as a broken connection.
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers["content-length"] ?? "0") > MAX_BODY;
    req.on("data", (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > MAX_BODY) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (over) return reply(res, 413, { error: `the body is larger than ${MAX_BODY} bytes` });
      const decoded = decodeBody(Buffer.concat(chunks).toString("utf8"));
      if (decoded === undefined) return reply(res, 400, { error: "the body is not JSON (send a JSON object, an array of objects or JSONL)" });
      const accepted = decoded.records.length;
      const bad = (decoded.bad ?? []).map((b: BadRecord) => ({ line: b.line, error: b.error }));
      waiting.add(res);
      inbox.put(decoded, () => reply(res, 200, { accepted, bad }));
    });
    req.on("error", () => waiting.delete(res));
  };

  const server = http.createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new InputError(`source ${o.name}: cannot listen on ${spec.host}:${spec.port}: ${(e as Error).message}`)));
    server.listen(spec.port, spec.host, () => resolve());
  });
  return {
    label,
    batches: inbox,
    async close() {
      inbox.close(true);
      for (const res of [...waiting]) reply(res, 503, { error: "the run has stopped" });
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export async function openHttpSink(o: NetSinkOpening): Promise<MessageSink> {
  const spec = o.spec as Extract<NetworkSinkSpec, { kind: "http" }>;
  const format = changeText(o.output.schema, spec, o.output.key ?? []);
  const type = spec.format === "csv" ? "text/csv" : spec.format === "lines" ? "text/plain" : "application/x-ndjson";
  return {
    async send(batch: readonly SinkChange[]) {
      let body = "";
      for (const c of batch) {
        const line = format(c);
        if (line !== undefined) body += line + "\n";
      }
      if (body === "") return;
      const res = await fetch(spec.url, { method: spec.method, body, headers: { "content-type": type }, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`${spec.url} answered ${res.status} ${res.statusText}`);
    },
    async close() {},
  };
}
