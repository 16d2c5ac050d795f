// Embedding: `flowc build prog.flow -o out.mjs` gives a module whose `run(options)` takes sources
// as (async) iterables and hands rows to callbacks; the rows must be those `flowc run` prints.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCli, FIXTURES, flowc, node, TMP } from "./helpers";

let work: string;

beforeAll(() => {
  ensureCli();
  mkdirSync(TMP, { recursive: true });
  work = mkdtempSync(join(TMP, "embed-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** A printed JSONL row as the in-memory row a callback receives: times are epoch milliseconds. */
function unprint(v: unknown): unknown {
  if (typeof v === "string" && ISO.test(v)) return Date.parse(v);
  if (Array.isArray(v)) return v.map(unprint);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unprint(x)]));
  return v;
}

const readJsonl = (path: string) => readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as unknown);

/** Prints what `flowc run` printed, per output (NAME<TAB>JSON lines when several go to stdout). */
function printedRows(stdout: string, outputs: string[]): Record<string, unknown[]> {
  const by: Record<string, unknown[]> = Object.fromEntries(outputs.map((o) => [o, []]));
  for (const line of stdout.split("\n").filter((l) => l !== "")) {
    const tab = outputs.length > 1 ? line.indexOf("\t") : -1;
    const name = tab < 0 ? outputs[0]! : line.slice(0, tab);
    by[name]!.push(unprint(JSON.parse(tab < 0 ? line : line.slice(tab + 1))));
  }
  return by;
}

async function build(fixture: string): Promise<{ dir: string; module: string }> {
  const dir = join(work, fixture);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  const module = join(work, `${fixture}.mjs`);
  const b = await flowc(["build", "input.flow", "-o", module], { cwd: dir });
  expect(b.code, b.stderr).toBe(0);
  return { dir, module };
}

const EMBED = `// Embeds a built Flow module: sources from iterables, rows to callbacks.
import { readFileSync } from "node:fs";
const [moduleUrl, spec] = process.argv.slice(2);
const { sources, outputs } = JSON.parse(spec);
const mod = await import(moduleUrl);
const read = (p) => readFileSync(p, "utf8").split("\\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
async function* slowly(records) {
  for (const r of records) {
    await new Promise((resolve) => setImmediate(resolve));
    yield r;
  }
}
const sourceOverrides = Object.fromEntries(Object.entries(sources).map(([name, path]) => [name, slowly(read(path))]));
const rows = Object.fromEntries(outputs.map((o) => [o, []]));
const onRow = Object.fromEntries(outputs.map((o) => [o, (row) => rows[o].push(row)]));
const summary = await mod.run({ sourceOverrides, onRow, summary: false });
process.stdout.write(JSON.stringify({ rows, summary }));
`;

describe("embedding a built module", () => {
  it("run() from an ESM file: async-iterable sources and onRow callbacks give flowc run's rows", async () => {
    const { dir, module } = await build("v_hop_top");
    const expected = await flowc(["run", "input.flow"], { cwd: dir });
    expect(expected.code).toBe(0);
    writeFileSync(join(work, "embed.mjs"), EMBED);
    // Run from a folder without the data file: the rows can only come from the override.
    const elsewhere = mkdtempSync(join(work, "cwd-"));
    const spec = JSON.stringify({ sources: { bids: join(dir, "bids.jsonl") }, outputs: ["out1"] });
    const r = await node([join(work, "embed.mjs"), pathToFileURL(module).href, spec], { cwd: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr, "summary: false prints nothing").toBe("");
    const got = JSON.parse(r.stdout) as { rows: Record<string, unknown[]>; summary: { in: Record<string, number>; out: Record<string, number>; totalIn: number; late: number; bad: number } };
    expect(got.rows.out1).toEqual(printedRows(expected.stdout, ["out1"]).out1);
    expect(got.rows.out1!.length).toBe(3);
    expect(got.summary).toMatchObject({ in: { bids: 8 }, out: { out1: 3 }, totalIn: 8, late: 0, bad: 0 });
  });

  it("several sources and outputs, imported into this process", async () => {
    const { dir, module } = await build("v_interval_join");
    const expected = await flowc(["run", "input.flow"], { cwd: dir });
    expect(expected.code).toBe(0);
    const mod = (await import(pathToFileURL(module).href)) as { run: (o: unknown) => Promise<{ in: Record<string, number>; out: Record<string, number> }> };
    const rows: Record<string, unknown[]> = { near: [], before: [] };
    // An async generator for one source and a plain array (an Iterable) for the other.
    async function* bids() {
      for (const r of readJsonl(join(dir, "bids.jsonl"))) yield r;
    }
    const summary = await mod.run({
      sourceOverrides: { bids: bids(), auctions: readJsonl(join(dir, "auctions.jsonl")) },
      onRow: { near: (row: unknown) => rows.near!.push(row), before: (row: unknown) => rows.before!.push(row) },
      summary: false,
    });
    expect(rows).toEqual(printedRows(expected.stdout, ["near", "before"]));
    expect(summary.in).toEqual({ auctions: 2, bids: 6 });
    expect(summary.out).toEqual({ near: 3, before: 2 });
  });

  it("stream(): outputs as async iterables give the same rows", async () => {
    const { dir, module } = await build("v_interval_join");
    const expected = await flowc(["run", "input.flow"], { cwd: dir });
    const mod = (await import(pathToFileURL(module).href)) as {
      stream: (o: unknown) => { outputs: Record<string, AsyncIterable<unknown>>; done: Promise<{ totalOut: number }> };
    };
    const s = mod.stream({ sourceOverrides: { bids: readJsonl(join(dir, "bids.jsonl")), auctions: readJsonl(join(dir, "auctions.jsonl")) } });
    const collect = async (it: AsyncIterable<unknown>) => {
      const out: unknown[] = [];
      for await (const row of it) out.push(row);
      return out;
    };
    const [near, before, summary] = await Promise.all([collect(s.outputs.near!), collect(s.outputs.before!), s.done]);
    expect({ near, before }).toEqual(printedRows(expected.stdout, ["near", "before"]));
    expect(summary.totalOut).toBe(5);
  });

  it("an override is validated like file input: bad records are counted, not processed", async () => {
    const { module } = await build("v_where_select");
    const mod = (await import(pathToFileURL(module).href)) as { run: (o: unknown) => Promise<{ bad: number; totalIn: number }> };
    const rows: unknown[] = [];
    const summary = await mod.run({
      sourceOverrides: {
        bids: [
          { auction: 1, bidder: 2, price: 600, channel: "Apple", dateTime: "2026-01-01T00:00:01Z" },
          { auction: "one", bidder: 2, price: 600, channel: "Apple", dateTime: "2026-01-01T00:00:02Z" },
          { auction: 3, bidder: 2, price: 150, channel: "Google", dateTime: 1767225603000 },
        ],
      },
      onRow: { out1: (row: unknown) => rows.push(row) },
      summary: false,
      maxBadMessages: 0,
    });
    expect(summary).toMatchObject({ bad: 1, totalIn: 2 });
    expect(rows).toEqual([
      { auction: 1, bidder: 2, euros: 540, size: "big", dateTime: Date.parse("2026-01-01T00:00:01Z") },
      { auction: 3, bidder: 2, euros: 135, size: "small", dateTime: 1767225603000 },
    ]);
  });

  // A source given as an array is pulled by the generated loop (`pullBatch`); as an async
  // iterable it goes through the driver's batches. Both must give exactly `flowc run`'s rows.
  const PULLED = [
    "v_late_records", "v_hop_top", "v_hop_window", "v_session_window", "v_distinct_windowed", "v_distinct_within",
    "v_tumbling_all_aggs", "v_final_reduce", "v_running_agg", "v_rewindow", "v_top_with_ties", "v_unnest",
    "v_where_select", "v_emit_final_where", "v_optional_narrowing",
  ];
  it.each(PULLED)("%s: an array source (generated pull loop) and an async one give flowc run's rows", async (fixture) => {
    const { dir, module } = await build(fixture);
    const expected = await flowc(["run", "input.flow"], { cwd: dir });
    expect(expected.code, expected.stderr).toBe(0);
    type Summary = { in: Record<string, number>; late: number; bad: number };
    const mod = (await import(pathToFileURL(module).href)) as {
      run: (o: unknown) => Promise<Summary>;
      program: { sources: { name: string; connector: { path: string } }[]; outputs: { name: string }[] };
    };
    const src = mod.program.sources[0]!;
    const outputs = mod.program.outputs.map((o) => o.name);
    const records = readJsonl(join(dir, src.connector.path));
    async function* later() {
      for (const r of records) yield r;
    }
    // v_unnest's record type has a list: no generated value decoder, so no pull loop.
    expect(readFileSync(module, "utf8").includes("pullBatch(source"), "the module has a pull loop").toBe(fixture !== "v_unnest");
    const want = printedRows(expected.stdout, outputs);
    for (const given of [records, later()]) {
      const rows: Record<string, unknown[]> = Object.fromEntries(outputs.map((o) => [o, []]));
      const onRow = Object.fromEntries(outputs.map((o) => [o, (row: unknown) => rows[o]!.push(row)]));
      const summary = await mod.run({ sourceOverrides: { [src.name]: given }, onRow, summary: false });
      expect(rows).toEqual(want);
      expect(summary.in[src.name]).toBe(records.length);
      expect(summary.bad).toBe(0);
      expect(summary.late).toBe(/(\d+) late/.exec(expected.stderr)?.[1] !== undefined ? Number(/(\d+) late/.exec(expected.stderr)![1]) : 0);
    }
  });

  it("an abort from a timer stops an endless synchronous source pulled by the generated loop", async () => {
    const { module } = await build("v_where_select");
    const mod = (await import(pathToFileURL(module).href)) as { run: (o: unknown) => Promise<{ totalIn: number }> };
    function* endless() {
      for (let i = 0; ; i++) yield { auction: i, bidder: 2, price: 600, channel: "Apple", dateTime: i };
    }
    const summary = await mod.run({ sourceOverrides: { bids: endless() }, onRow: { out1: () => {} }, summary: false, signal: AbortSignal.timeout(50) });
    expect(summary.totalIn).toBeGreaterThan(0);
  });

  it("unknown override or output names are usage errors", async () => {
    const { module } = await build("v_range_map");
    const mod = (await import(pathToFileURL(module).href)) as { run: (o: unknown) => Promise<unknown> };
    await expect(mod.run({ sourceOverrides: { nope: [] }, summary: false })).rejects.toThrow(/no source or table named "nope"/);
    await expect(mod.run({ onRow: { out9: () => {} }, summary: false })).rejects.toThrow(/no output named "out9"/);
  });
});
