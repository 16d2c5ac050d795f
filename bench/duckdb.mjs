// The file workloads in DuckDB (@duckdb/node-api, when installed): node bench/duckdb.mjs jsonl|csv FILE
import { DuckDBInstance } from "@duckdb/node-api";

const [format, file] = process.argv.slice(2);
const from = format === "csv" ? `read_csv('${file}', header = true)` : `read_json('${file}', format = 'newline_delimited')`;
const db = await DuckDBInstance.create(":memory:");
const c = await db.connect();
// first-seen key order, as the other versions print it
const r = await c.runAndReadAll(
  `SELECT channel, count(*)::BIGINT AS n, avg(price) AS avg_price, min(rowid) AS first FROM (SELECT *, row_number() OVER () AS rowid FROM ${from}) WHERE price > 1000 GROUP BY channel ORDER BY first`,
);
let out = "";
for (const [channel, n, avg] of r.getRows()) out += JSON.stringify({ channel, n: Number(n), avg_price: avg }) + "\n";
process.stdout.write(out);
