// Reading changes (LANGUAGE.md §13): sources with `format: "debezium"` or `"changelog"` and a
// `key` clause. Each message is an upsert or a delete of a row of the source's table; the
// decoder keeps that table (key → latest row) to know which keys exist and a delete's time.

import { DecodeError, makeDecoder, showValue } from "../decode.js";
import { DELETED } from "../ops/changes.js";
import type { RecordSchema } from "../schema.js";

/** Decoded "nothing to process": a tombstone, a truncate, a schema-only message. */
export const SKIPPED: unique symbol = Symbol("flowc.skipped");

export type ChangeFormat = "debezium" | "changelog";

/**
 * A decoder of change messages (parsed JSON values) to records: an upsert gives the new row, a
 * delete gives a copy of the key's kept row marked DELETED (so it carries the kept row's event
 * time). `schema` is the source's record type, `keep` the fields to materialise, `key` its key
 * fields. A delete, or a Debezium update, of a key that was never seen is a DecodeError.
 */
export function makeChangeDecoder(format: ChangeFormat, schema: RecordSchema, keep: readonly string[] | undefined, key: readonly string[]): (value: unknown) => unknown {
  const fields = keep === undefined ? undefined : [...new Set([...keep, ...key])];
  const decodeRow = makeDecoder(schema, fields);
  const keySchema: RecordSchema = { kind: "record", fields: schema.fields.filter((f) => key.includes(f.name)) };
  const decodeKey = makeDecoder(keySchema);
  const table = new Map<string, Record<string, unknown>>();
  const keyText = (row: Record<string, unknown>) => JSON.stringify(key.map((k) => row[k]));

  const upsert = (after: unknown, what: string, mustExist: boolean): Record<string, unknown> => {
    const row = decodeIn(decodeRow, after, what);
    const k = keyText(row);
    if (mustExist && !table.has(k)) throw new DecodeError(`update of key ${keyShown(key, row)}, which was never inserted`);
    table.set(k, row);
    return row;
  };
  const remove = (before: unknown, what: string): Record<string, unknown> => {
    const k = keyText(decodeIn(decodeKey, before, what));
    const kept = table.get(k);
    if (kept === undefined) throw new DecodeError(`delete of key ${keyShown(key, decodeKey(before))}, which is not present`);
    table.delete(k);
    return { ...kept, [DELETED]: true };
  };

  if (format === "changelog") {
    return (v) => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) throw new DecodeError(`expected a change {"op": ..., "row"|"key": ...}, got ${showValue(v)}`);
      const m = v as Record<string, unknown>;
      switch (m.op) {
        case "upsert":
        case "insert":
          return upsert(m.row, "row", false);
        case "delete":
          return remove(m.key, "key");
        default:
          throw new DecodeError(`field "op": expected "upsert", "insert" or "delete", got ${showValue(m.op)}`);
      }
    };
  }
  return (v) => {
    if (v === null) return SKIPPED; // a Kafka tombstone
    if (typeof v !== "object" || Array.isArray(v)) throw new DecodeError(`expected a Debezium envelope, got ${showValue(v)}`);
    let m = v as Record<string, unknown>;
    // The JSON converter with schemas: {"schema": ..., "payload": envelope}.
    if (Object.hasOwn(m, "payload") && Object.hasOwn(m, "schema")) {
      if (m.payload === null) return SKIPPED;
      if (typeof m.payload !== "object" || Array.isArray(m.payload)) throw new DecodeError(`field "payload": expected a Debezium envelope, got ${showValue(m.payload)}`);
      m = m.payload as Record<string, unknown>;
    }
    switch (m.op) {
      case "c":
      case "r": // a snapshot read
        return upsert(m.after, "after", false);
      case "u":
        return upsert(m.after, "after", true);
      case "d":
        return remove(m.before, "before");
      case "t": // truncate: not a change of one key
        return SKIPPED;
      default:
        throw new DecodeError(`field "op": expected "c", "r", "u", "d" or "t", got ${showValue(m.op)}`);
    }
  };
}

/** Decodes the `what` part of a message, naming it in the error. */
function decodeIn(decode: (v: unknown) => any, value: unknown, what: string): Record<string, unknown> {
  if (value === null || value === undefined) throw new DecodeError(`field "${what}": expected a record, got ${showValue(value ?? null)}`);
  try {
    return decode(value);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    throw new DecodeError(e.message.startsWith("field \"") ? `field "${what}.${e.message.slice(7)}` : `field "${what}": ${e.message}`);
  }
}

function keyShown(key: readonly string[], row: Record<string, unknown>): string {
  return key.map((k) => `${k}=${JSON.stringify(row[k])}`).join(", ");
}
