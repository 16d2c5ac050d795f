// The network connectors of LANGUAGE.md §11, built from their checked arguments. The argument
// lists (names, kinds, allowed values) are in stdlib/src/catalog.ts (CONNECTORS); check.ts binds
// the arguments and hands the values here. What is checked here: metadata fields a source's
// record type declares have the connector's types, a Kafka sink's `key` is a field of the row,
// and a Postgres sink writes records (one column per field).

import type { ConnectorEntry } from "../../../stdlib/src/catalog";
import type { TFormat, TNetworkSink, TNetworkSource } from "./typed";
import { fieldOf, typeToString, type Type } from "./types";

export interface NetworkReports {
  /** A declared metadata field has another type than the connector gives it. */
  metadata(field: string, expected: string): void;
  /** A sink's `key:` names no field of the row. */
  keyField(field: string): void;
  /** A sink that needs record rows got another type. */
  notRecord(): void;
}


/**
 * The connector `name` as a source or a sink, from its bound argument values (defaults filled
 * in: `start` "earliest", `qos` 0, http `path` "/ingest" on 127.0.0.1, `method` "POST").
 */
export function networkConnector(
  name: string,
  role: "source" | "sink",
  values: Map<string, string | number>,
  format: TFormat,
  type: Type,
  entry: ConnectorEntry,
  report: NetworkReports,
): TNetworkSource | TNetworkSink | undefined {
  const str = (k: string) => values.get(k) as string | undefined;
  const num = (k: string) => values.get(k) as number | undefined;
  const start = (str("start") ?? "earliest") as "earliest" | "latest";
  if (role === "source" && type.kind === "record" && entry.metadata) {
    for (const [field, expected] of Object.entries(entry.metadata)) {
      const f = fieldOf(type, field);
      // `_key: string?` must be optional (a message may have no key); a non-optional metadata
      // field may still be declared optional.
      if (f && f.type.kind !== "error" && typeToString(f.type) !== expected && typeToString(f.type) !== expected + "?") report.metadata(field, expected);
    }
  }
  const opt = <K extends string>(k: K, v: string | undefined): { [P in K]?: string } => (v === undefined ? {} : ({ [k]: v } as { [P in K]: string }));
  if (role === "source") {
    switch (name) {
      case "kafka":
        return { kind: "kafka", topic: str("topic")!, brokers: str("brokers")!, group: str("group")!, start, format };
      case "nats":
        return { kind: "nats", subject: str("subject")!, url: str("url")!, stream: str("stream")!, ...opt("durable", str("durable")), start, format };
      case "redis":
        return { kind: "redis", key: str("key")!, url: str("url")!, ...opt("group", str("group")), start, ...opt("json", str("json")) };
      case "mqtt":
        return { kind: "mqtt", topic: str("topic")!, url: str("url")!, qos: (num("qos") ?? 0) === 1 ? 1 : 0, format };
      case "websocket":
        return { kind: "websocket", url: str("url")!, format };
      case "http":
        return { kind: "http", port: num("port")!, path: str("path") ?? "/ingest", host: str("host") ?? "127.0.0.1", format };
    }
    return undefined;
  }
  switch (name) {
    case "kafka": {
      const key = str("key");
      if (key !== undefined && type.kind !== "error" && !fieldOf(type, key)) report.keyField(key);
      return { kind: "kafka", sink: true, topic: str("topic")!, brokers: str("brokers")!, ...opt("key", key), format };
    }
    case "nats":
      return { kind: "nats", sink: true, subject: str("subject")!, url: str("url")!, ...opt("stream", str("stream")), format };
    case "redis":
      return { kind: "redis", sink: true, key: str("key")!, url: str("url")!, format };
    case "postgres":
      if (type.kind !== "record" && type.kind !== "error") report.notRecord();
      return { kind: "postgres", sink: true, table: str("table")!, url: str("url")! };
    case "http":
      return { kind: "http", sink: true, url: str("url")!, method: (str("method") ?? "POST") as "POST" | "PUT", format };
  }
  return undefined;
}
