// The Postgres sink (LANGUAGE.md §11) with `pg`.
//
// The table is created when missing, one column per field of the row type: int → bigint,
// float → double precision, string → text, bool → boolean, time → timestamptz, duration →
// bigint, arrays and records → jsonb; a non-optional field is NOT NULL. Each delivery is one
// transaction: an append stream's rows are INSERTed (many rows per statement). Changes of an
// updating stream (§13) are applied by key: an upsert is INSERT … ON CONFLICT (key) DO UPDATE,
// a delete is DELETE … WHERE key; a table this sink creates for such a stream gets the key as
// its primary key. A lost connection is reopened on the next try (the writer retries).

import type { NetworkSinkSpec, RecordSchema, Schema } from "../contract.js";
import { makeFormatter } from "../format.js";
import type { MessageSink, NetSinkOpening, SinkChange } from "../run/network.js";
import { Connection, loadClient } from "./common.js";

type Pg = typeof import("pg");
type PgClient = import("pg").Client;

const load = () => loadClient<Pg>("pg", async () => {
  const m = (await import("pg")) as Pg & { default?: Pg };
  return m.default ?? m; // pg is CommonJS
});

/** `"name"`, or `"schema"."name"` for a qualified one. */
export function quoteTable(name: string): string {
  return name.split(".").map(ident).join(".");
}
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The column type of a field (§11). */
export function columnType(s: Schema): string {
  const inner = s.kind === "optional" ? s.inner : s;
  const t = (() => {
    switch (inner.kind) {
      case "int":
      case "duration":
        return "bigint";
      case "float":
        return "double precision";
      case "string":
        return "text";
      case "bool":
        return "boolean";
      case "time":
        return "timestamptz";
      default:
        return "jsonb";
    }
  })();
  return s.kind === "optional" ? t : `${t} NOT NULL`;
}

/** A field's value as a query parameter: times as ISO text, arrays and records as JSON text. */
function columnValue(s: Schema): (v: unknown) => unknown {
  const inner = s.kind === "optional" ? s.inner : s;
  const json = makeFormatter(inner);
  if (inner.kind === "array" || inner.kind === "record") return (v) => (v === null || v === undefined ? null : json(v));
  if (inner.kind === "time") return (v) => (v === null || v === undefined ? null : JSON.parse(json(v)));
  return (v) => (v === undefined ? null : v);
}

/** Rows per INSERT statement at most (Postgres takes at most 65535 parameters). */
const maxRows = (columns: number) => Math.max(1, Math.min(1000, Math.floor(65535 / Math.max(1, columns))));

export async function openPostgresSink(o: NetSinkOpening): Promise<MessageSink> {
  const spec = o.spec as Extract<NetworkSinkSpec, { kind: "postgres" }>;
  const pg = await load();
  const schema = o.output.schema as RecordSchema;
  const fields = schema.fields;
  const names = fields.map((f) => f.name);
  const values = fields.map((f) => columnValue(f.type));
  const table = quoteTable(spec.table);
  const conn = new Connection(o, o.label);
  let client: PgClient | undefined;
  let created = false;

  const connect = async (): Promise<PgClient> => {
    if (client !== undefined) return client;
    const c = new pg.Client({ connectionString: spec.url, connectionTimeoutMillis: 2000 });
    // A connection that breaks between two deliveries: forget it, the next try reconnects.
    c.on("error", (e) => {
      conn.lost(e);
      if (client === c) client = undefined;
    });
    try {
      await c.connect();
    } catch (e) {
      conn.lost(e);
      await c.end().catch(() => {});
      throw e;
    }
    conn.connected();
    client = c;
    return c;
  };

  const createTable = async (c: PgClient, key: readonly string[] | undefined) => {
    const cols = fields.map((f) => `${ident(f.name)} ${columnType(f.type)}`);
    if (key !== undefined && key.length > 0) cols.push(`PRIMARY KEY (${key.map(ident).join(", ")})`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${table} (${cols.join(", ")})`);
  };

  const insert = async (c: PgClient, rows: unknown[]) => {
    const per = maxRows(names.length);
    for (let a = 0; a < rows.length; a += per) {
      const chunk = rows.slice(a, a + per);
      const params: unknown[] = [];
      const tuples = chunk.map((r) => {
        const row = r as Record<string, unknown>;
        const ps = names.map((n, i) => {
          params.push(values[i]!(row[n]));
          return `$${params.length}`;
        });
        return `(${ps.join(", ")})`;
      });
      await c.query(`INSERT INTO ${table} (${names.map(ident).join(", ")}) VALUES ${tuples.join(", ")}`, params);
    }
  };

  const keyValue = (name: string, v: unknown) => {
    const k = names.indexOf(name);
    return k < 0 ? v : values[k]!(v);
  };

  const apply = async (c: PgClient, change: Exclude<SinkChange, { op: "insert" }>) => {
    const keys = Object.keys(change.key);
    if (change.op === "delete") {
      const where = keys.map((k, i) => `${ident(k)} = $${i + 1}`).join(" AND ");
      await c.query(`DELETE FROM ${table} WHERE ${where}`, keys.map((k) => keyValue(k, change.key[k])));
      return;
    }
    const row = change.row as Record<string, unknown>;
    const params = names.map((n, i) => values[i]!(row[n]));
    const rest = names.filter((n) => !keys.includes(n));
    const update = rest.length > 0 ? `DO UPDATE SET ${rest.map((n) => `${ident(n)} = EXCLUDED.${ident(n)}`).join(", ")}` : "DO NOTHING";
    await c.query(
      `INSERT INTO ${table} (${names.map(ident).join(", ")}) VALUES (${names.map((_, i) => `$${i + 1}`).join(", ")}) ON CONFLICT (${keys.map(ident).join(", ")}) ${update}`,
      params,
    );
  };

  return {
    async send(batch: readonly SinkChange[]) {
      const c = await connect();
      try {
        if (!created) {
          // An updating stream's table has its key as primary key (upserts and deletes by it).
          const first = batch.find((ch) => ch.op !== "insert");
          await createTable(c, o.output.key ?? (first === undefined ? undefined : Object.keys(first.key)));
          created = true;
        }
        await c.query("BEGIN");
        let inserts: unknown[] = [];
        for (const ch of batch) {
          if (ch.op === "insert") {
            inserts.push(ch.row);
            continue;
          }
          if (inserts.length > 0) await insert(c, inserts);
          inserts = [];
          await apply(c, ch);
        }
        if (inserts.length > 0) await insert(c, inserts);
        await c.query("COMMIT");
      } catch (e) {
        // The transaction is rolled back (or the connection is gone): start afresh next time.
        await c.query("ROLLBACK").catch(() => {});
        if (client === c) client = undefined;
        await c.end().catch(() => {});
        throw e;
      }
    },
    async close() {
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
