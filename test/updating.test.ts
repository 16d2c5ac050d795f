// Updating streams (LANGUAGE.md §13), against brute force: for random update sequences,
// re-aggregation equals aggregating the final table from scratch, the changelog of an updating
// output applied to an empty table gives its `emit final`, and top-N without a window equals
// ranking the final table. Programs are compiled to JavaScript and run in this process.
import fc from "fast-check";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import type { Program } from "../runtime/src/contract";
import { nativeImport, removeSharedRuntime, sharedRuntime, testDir } from "./helpers";

afterAll(removeSharedRuntime);

const PROGRAM = `type R = { k: string, g: string, v: int, ts: time }
source rs: R = file("rs.jsonl") event time ts

// The latest row per key; a key whose latest value is too low leaves the table.
let latest = rs
  | group by k
  | agg g = last(g), v = last(v), n = count()
  | where v > -30

emit changes = latest
  | group by g
  | agg c = count(), s = sum(v), a = avg(v), lo = min(v), hi = max(v), f = first(k)
emit final groups = latest
  | group by g
  | agg c = count(), s = sum(v), a = avg(v), lo = min(v), hi = max(v), f = first(k)
emit ranks = latest | top 2 by v desc
emit final latest_now = latest
emit best = rs | group by g | top 3 by v desc
emit distincts = latest | group by g | agg d = count_distinct(v), ks = collect(k), lastk = last(k)
`;

type Rec = { k: string; g: string; v: number };
type Row = Record<string, unknown>;

let compiled: Promise<Program> | undefined;
function program(): Promise<Program> {
  return (compiled ??= (async () => {
    const { url } = await sharedRuntime();
    const r = compile(PROGRAM, { file: "updating.flow", javascript: true, runtime: url, ops: url, stdlib: url });
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
    const file = join(testDir("updating-"), "program.mjs");
    writeFileSync(file, r.typescript!);
    return ((await nativeImport(pathToFileURL(file).href)) as { program: Program }).program;
  })());
}

/** Runs the program over `recs` with changelog output: every output's lines, parsed. */
async function run(recs: Rec[]): Promise<Map<string, Row[]>> {
  const { rt } = await sharedRuntime();
  const text = recs.map((r, i) => JSON.stringify({ ...r, ts: i * 1000 })).join("\n");
  const env = rt.createMemoryEnv({ files: { "rs.jsonl": text } });
  await rt.runProgram(await program(), { env, baseDir: ".", summary: false, progress: false, stdoutFormat: "changelog" });
  const out = new Map<string, Row[]>();
  for (const line of env.stdoutText().split("\n")) {
    if (line === "") continue;
    const tab = line.indexOf("\t");
    const name = line.slice(0, tab);
    if (!out.has(name)) out.set(name, []);
    out.get(name)!.push(JSON.parse(line.slice(tab + 1)));
  }
  return out;
}

/** Applies changelog lines to a table keyed by `key`; checks no delete is of an absent key. */
function apply(changes: Row[], key: string[]): Map<string, Row> {
  const table = new Map<string, Row>();
  const keyOf = (r: Row) => JSON.stringify(key.map((k) => r[k]));
  for (const c of changes) {
    if (c.op === "upsert") table.set(keyOf(c.row as Row), c.row as Row);
    else {
      expect(c.op).toBe("delete");
      const k = keyOf(c.key as Row);
      expect(table.has(k), `delete of an absent key ${k}`).toBe(true);
      table.delete(k);
    }
  }
  return table;
}

/** The batch answer: the latest row per key (and when it last changed), the groups, the ranks. */
function bruteForce(recs: Rec[]) {
  const latest = new Map<string, { g: string; v: number; n: number; at: number }>();
  recs.forEach((r, i) => latest.set(r.k, { g: r.g, v: r.v, n: (latest.get(r.k)?.n ?? 0) + 1, at: i }));
  const present = [...latest].filter(([, x]) => x.v > -30);
  const groups = new Map<string, Row>();
  const distincts = new Map<string, Row>();
  for (const g of new Set(present.map(([, x]) => x.g))) {
    const rows = present.filter(([, x]) => x.g === g).sort((a, b) => a[1].at - b[1].at);
    const vs = rows.map(([, x]) => x.v);
    const s = vs.reduce((a, b) => a + b, 0);
    groups.set(JSON.stringify([g]), { g, c: rows.length, s, a: s / rows.length, lo: Math.min(...vs), hi: Math.max(...vs), f: rows[0]![0] });
    distincts.set(JSON.stringify([g]), { g, d: new Set(vs).size, ks: rows.map(([k]) => k), lastk: rows.at(-1)![0] });
  }
  // Ties by arrival: a key's row arrived at its last update.
  const ranked = [...present].sort((a, b) => b[1].v - a[1].v || a[1].at - b[1].at).slice(0, 2);
  const ranks = new Map(ranked.map(([k, x], i) => [JSON.stringify([i + 1]), { k, g: x.g, v: x.v, n: x.n, rank: i + 1 } as Row]));
  // Top 3 per group of the append input: every record competes; ties go to the earlier one.
  const best = new Map<string, Row>();
  for (const g of new Set(recs.map((r) => r.g))) {
    const top = recs.map((r, i) => ({ r, i })).filter((x) => x.r.g === g).sort((a, b) => b.r.v - a.r.v || a.i - b.i).slice(0, 3);
    top.forEach((x, i) => best.set(JSON.stringify([g, i + 1]), { ...x.r, ts: new Date(x.i * 1000).toISOString(), rank: i + 1 }));
  }
  return { groups, distincts, ranks, best, present: new Map(present.map(([k, x]) => [k, x])) };
}

const records = fc.array(
  fc.record({ k: fc.constantFrom("a", "b", "c", "d", "e", "f"), g: fc.constantFrom("x", "y", "z"), v: fc.integer({ min: -50, max: 50 }) }),
  { maxLength: 60 },
);

const close = (a: Row, b: Row) => Object.keys(b).every((k) => (typeof b[k] === "number" ? Math.abs((a[k] as number) - (b[k] as number)) < 1e-9 : a[k] === b[k])) && Object.keys(a).length === Object.keys(b).length;

describe("updating streams against brute force", () => {
  it("re-aggregation, its changelog, emit final and top-N equal the batch answer of the final table", async () => {
    await fc.assert(
      fc.asyncProperty(records, async (recs) => {
        const out = await run(recs);
        const want = bruteForce(recs);
        const groups = apply(out.get("changes") ?? [], ["g"]);
        expect([...groups.keys()].sort()).toEqual([...want.groups.keys()].sort());
        for (const [k, row] of groups) expect(close(row, want.groups.get(k)!), `${JSON.stringify(row)} vs ${JSON.stringify(want.groups.get(k))}`).toBe(true);
        // emit final prints the final table as inserts: the same rows.
        const finals = (out.get("groups") ?? []).map((c) => c.row as Row);
        expect(finals.length).toBe(want.groups.size);
        for (const row of finals) expect(close(row, want.groups.get(JSON.stringify([row.g]))!)).toBe(true);
        const ranks = apply(out.get("ranks") ?? [], ["rank"]);
        expect(new Map([...ranks].map(([k, r]) => [k, r]))).toEqual(want.ranks);
        expect(apply(out.get("best") ?? [], ["g", "rank"])).toEqual(want.best);
        expect(apply(out.get("distincts") ?? [], ["g"])).toEqual(want.distincts);
        const latestNow = (out.get("latest_now") ?? []).map((c) => c.row as Row);
        expect(latestNow.map((r) => r.k).sort()).toEqual([...want.present.keys()].sort());
      }),
      { numRuns: 150 },
    );
  });

  it("one input change gives at most one change per group, none for an unchanged group", async () => {
    // b moves from x to y: x's change comes before y's. b's last update changes its own row
    // (n) but not its group's: y is unchanged, so nothing is printed.
    const out = await run([
      { k: "a", g: "x", v: 1 },
      { k: "b", g: "x", v: 2 },
      { k: "b", g: "y", v: 2 },
      { k: "b", g: "y", v: 2 },
    ]);
    const changes = (out.get("changes") ?? []).map((c) => (c.op === "delete" ? `-${(c.key as Row).g}` : `${(c.row as Row).g}:${(c.row as Row).c}`));
    expect(changes).toEqual(["x:1", "x:2", "x:1", "y:1"]);
  });
});
