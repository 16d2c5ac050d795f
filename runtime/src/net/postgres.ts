// The Postgres sink (LANGUAGE.md §11) with `pg`.
//
// The table is created when missing, one column per field of the row type: int → bigint,
// float → double precision, string → text, bool → boolean, time → timestamptz, duration →
// bigint, arrays and records → jsonb; a non-optional field is NOT NULL. Each delivery is one
// transaction: an append stream's rows are INSERTed (many rows per statement). Changes of an
// updating stream (§13) are applied by key: an upsert is INSERT … ON CONFLICT (key) DO UPDATE,
// a delete is DELETE … WHERE key; a table this sink creates for such a stream gets the key as
// its primary key. A lost connection is reopened on the next try (the writer retries).
//
// With `--checkpoint` (§12) an append stream's table has one more column, `_flowc_row` (text
// `RUN:ROW`: the lineage's run id and the row's number in the output) with a unique index, and
// rows are inserted with ON CONFLICT (_flowc_row) DO NOTHING: rows replayed after a restore are
// already there and are not inserted twice (only that conflict is ignored: a row that breaks
// another constraint of the table still fails the delivery). A table that exists without the column is refused (exit 73).
// An updating stream's upserts and deletes by key are idempotent as they are; its `emit final`
// rows are upserts by key too.

import type { NetworkSinkSpec, RecordSchema, Schema } from "../contract.js";
import { makeFormatter } from "../format.js";
import { OutputError } from "../run/errors.js";
import { markText, type MessageSink, type NetSinkOpening, type SinkChange } from "../run/network.js";
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
  const runId = o.marks?.runId;
  /** An append stream with --checkpoint: rows carry `_flowc_row` (§12). */
  const marked = runId !== undefined && o.output.key === undefined;
  const columns = marked ? [...names, "_flowc_row"] : names;

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
    if (marked) cols.push(`"_flowc_row" text NOT NULL`);
    if (key !== undefined && key.length > 0) cols.push(`PRIMARY KEY (${key.map(ident).join(", ")})`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${table} (${cols.join(", ")})`);
    if (!marked) return;
    try {
      await c.query(`SELECT "_flowc_row" FROM ${table} LIMIT 0`);
    } catch (e) {
      // 42703 undefined_column: a table made before, without the column.
      if ((e as { code?: unknown }).code !== "42703") throw e;
      throw new OutputError(`${o.label}: the table exists without a _flowc_row column, which --checkpoint needs to write each row once (§12): add it (ALTER TABLE ${table} ADD COLUMN "_flowc_row" text, with a unique index on it) or write to a new table`);
    }
    const last = spec.table.split(".").at(-1)!;
    await c.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${ident(`${last}_flowc_row`)} ON ${table} ("_flowc_row")`);
  };

  const insert = async (c: PgClient, rows: { row: unknown; seq: number | undefined }[]) => {
    const per = maxRows(columns.length);
    for (let a = 0; a < rows.length; a += per) {
      const chunk = rows.slice(a, a + per);
      const params: unknown[] = [];
      const tuples = chunk.map(({ row: r, seq }) => {
        const row = r as Record<string, unknown>;
        const ps = names.map((n, i) => {
          params.push(values[i]!(row[n]));
          return `$${params.length}`;
        });
        if (marked) {
          params.push(markText({ run: runId!, row: seq ?? 0 }));
          ps.push(`$${params.length}`);
        }
        return `(${ps.join(", ")})`;
      });
      // A replayed row (the same run id and row number) is there already: not inserted twice.
      await c.query(`INSERT INTO ${table} (${columns.map(ident).join(", ")}) VALUES ${tuples.join(", ")}${marked ? ` ON CONFLICT ("_flowc_row") DO NOTHING` : ""}`, params);
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
        let inserts: { row: unknown; seq: number | undefined }[] = [];
        for (const ch of batch) {
          if (ch.op === "insert" && (o.output.key === undefined || runId === undefined)) {
            inserts.push({ row: ch.row, seq: ch.seq });
            continue;
          }
          if (inserts.length > 0) await insert(c, inserts);
          inserts = [];
          // An `emit final` row of a keyed table with --checkpoint: an upsert (a replay repeats it).
          await apply(c, ch.op === "insert" ? { op: "upsert", key: Object.fromEntries((o.output.key ?? []).map((k) => [k, (ch.row as Record<string, unknown>)[k]])), row: ch.row } : ch);
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
