// Embedding: `flowc build prog.flow -o out.mjs` gives a module whose `run(options)` takes sources
// as (async) iterables and hands rows to callbacks; the rows must be those `flowc run` prints.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { node } from "./helpers";
import { build, importModule, printedRows, PULLED_QUICK, pulledTests, readJsonl, useWorkDir, work } from "./embed-cases";

useWorkDir();

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
    const { dir, module, expected } = await build("v_hop_top", "run");
    expect(expected!.code).toBe(0);
    writeFileSync(join(work, "embed.mjs"), EMBED);
    // Run from a folder without the data file: the rows can only come from the override.
    const elsewhere = mkdtempSync(join(work, "cwd-"));
    const spec = JSON.stringify({ sources: { bids: join(dir, "bids.jsonl") }, outputs: ["out1"] });
    const r = await node([join(work, "embed.mjs"), pathToFileURL(module).href, spec], { cwd: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr, "summary: false prints nothing").toBe("");
    const got = JSON.parse(r.stdout) as { rows: Record<string, unknown[]>; summary: { in: Record<string, number>; out: Record<string, number>; totalIn: number; late: number; bad: number } };
    expect(got.rows.out1).toEqual(printedRows(expected!.stdout, ["out1"]).out1);
    expect(got.rows.out1!.length).toBe(3);
    expect(got.summary).toMatchObject({ in: { bids: 8 }, out: { out1: 3 }, totalIn: 8, late: 0, bad: 0 });
  });

  it("several sources and outputs, imported into this process", async () => {
    const { dir, module, expected } = await build("v_interval_join", "run");
    expect(expected!.code).toBe(0);
    const mod = (await importModule(module)) as { run: (o: unknown) => Promise<{ in: Record<string, number>; out: Record<string, number> }> };
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
    expect(rows).toEqual(printedRows(expected!.stdout, ["near", "before"]));
    expect(summary.in).toEqual({ auctions: 2, bids: 6 });
    expect(summary.out).toEqual({ near: 3, before: 2 });
  });

  it("stream(): outputs as async iterables give the same rows", async () => {
    const { dir, module, expected } = await build("v_interval_join", "run");
    const mod = (await importModule(module)) as {
      stream: (o: unknown) => { outputs: Record<string, AsyncIterable<unknown>>; done: Promise<{ totalOut: number }> };
    };
    const s = mod.stream({ sourceOverrides: { bids: readJsonl(join(dir, "bids.jsonl")), auctions: readJsonl(join(dir, "auctions.jsonl")) } });
    const collect = async (it: AsyncIterable<unknown>) => {
      const out: unknown[] = [];
      for await (const row of it) out.push(row);
      return out;
    };
    const [near, before, summary] = await Promise.all([collect(s.outputs.near!), collect(s.outputs.before!), s.done]);
    expect({ near, before }).toEqual(printedRows(expected!.stdout, ["near", "before"]));
    expect(summary.totalOut).toBe(5);
  });

  it("an override is validated like file input: bad records are counted, not processed", async () => {
    const { module } = await build("v_where_select");
    const mod = (await importModule(module)) as { run: (o: unknown) => Promise<{ bad: number; totalIn: number }> };
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

  // A source given as an array is pulled by the generated loop, an async iterable goes through the
  // driver's batches (embed-cases.ts); the other fixtures of PULLED are in embed.stress.test.ts.
  pulledTests(PULLED_QUICK);

  it("an abort from a timer stops an endless synchronous source pulled by the generated loop", async () => {
    const { module } = await build("v_where_select");
    const mod = (await importModule(module)) as { run: (o: unknown) => Promise<{ totalIn: number }> };
    function* endless() {
      for (let i = 0; ; i++) yield { auction: i, bidder: 2, price: 600, channel: "Apple", dateTime: i };
    }
    const summary = await mod.run({ sourceOverrides: { bids: endless() }, onRow: { out1: () => {} }, summary: false, signal: AbortSignal.timeout(50) });
    expect(summary.totalIn).toBeGreaterThan(0);
  });

  it("unknown override or output names are usage errors", async () => {
    const { module } = await build("v_range_map");
    const mod = (await importModule(module)) as { run: (o: unknown) => Promise<unknown> };
    await expect(mod.run({ sourceOverrides: { nope: [] }, summary: false })).rejects.toThrow(/no source or table named "nope"/);
    await expect(mod.run({ onRow: { out9: () => {} }, summary: false })).rejects.toThrow(/no output named "out9"/);
  });
});
