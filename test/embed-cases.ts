// Shared by embed-basics.stress.test.ts and embed.stress.test.ts: a work folder, fixtures built with
// `flowc build` (and run with `flowc run` alongside), built modules imported, printed rows read back.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureCli, FIXTURES, flowc, nativeImport, TMP, type CliResult } from "./helpers";

export let work: string;

/** Creates the work folder before the calling test file's tests, and removes it after them. */
export function useWorkDir(): void {
  beforeAll(() => {
    ensureCli();
    mkdirSync(TMP, { recursive: true });
    work = mkdtempSync(join(TMP, "embed-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** A printed JSONL row as the in-memory row a callback receives: times are epoch milliseconds. */
function unprint(v: unknown): unknown {
  if (typeof v === "string" && ISO.test(v)) return Date.parse(v);
  if (Array.isArray(v)) return v.map(unprint);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unprint(x)]));
  return v;
}

export const readJsonl = (path: string) => readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as unknown);

/** Prints what `flowc run` printed, per output (NAME<TAB>JSON lines when several go to stdout). */
export function printedRows(stdout: string, outputs: string[]): Record<string, unknown[]> {
  const by: Record<string, unknown[]> = Object.fromEntries(outputs.map((o) => [o, []]));
  for (const line of stdout.split("\n").filter((l) => l !== "")) {
    const tab = outputs.length > 1 ? line.indexOf("\t") : -1;
    const name = tab < 0 ? outputs[0]! : line.slice(0, tab);
    by[name]!.push(unprint(JSON.parse(tab < 0 ? line : line.slice(tab + 1))));
  }
  return by;
}

/**
 * A copy of the fixture folder, `flowc build input.flow -o FIXTURE.mjs` in it and, when `run` is
 * set, `flowc run input.flow` there at the same time (the rows the module must give).
 */
export async function build(fixture: string, run?: "run"): Promise<{ dir: string; module: string; expected?: CliResult }> {
  const dir = join(work, fixture);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  const module = join(work, `${fixture}.mjs`);
  const [b, expected] = await Promise.all([flowc(["build", "input.flow", "-o", module], { cwd: dir }), run ? flowc(["run", "input.flow"], { cwd: dir }) : undefined]);
  expect(b.code, b.stderr).toBe(0);
  return { dir, module, expected };
}

/** Imports a built module with Node's own loader (vitest's would transform the whole bundle first). */
export const importModule = (module: string): Promise<unknown> => nativeImport(pathToFileURL(module).href);

// A source given as an array is pulled by the generated loop (`pullBatch`); as an async
// iterable it goes through the driver's batches. Both must give exactly `flowc run`'s rows.
export const PULLED = [
  "v_late_records", "v_hop_top", "v_hop_window", "v_session_window", "v_distinct_windowed", "v_distinct_within",
  "v_tumbling_all_aggs", "v_final_reduce", "v_running_agg", "v_rewindow", "v_top_with_ties", "v_unnest",
  "v_where_select", "v_emit_final_where", "v_optional_narrowing",
];
/** Those `npm test` runs (late records, a hop window with top, no pull loop, sessions); the others run in the stress set. */
export const PULLED_QUICK = ["v_late_records", "v_hop_top", "v_unnest", "v_session_window"];

/** The array-source and async-source test of each fixture, run concurrently. */
export function pulledTests(fixtures: string[]): void {
  it.concurrent.for(fixtures)("%s: an array source (generated pull loop) and an async one give flowc run's rows", async (fixture, { expect }) => {
    const { dir, module, expected } = await build(fixture, "run");
    expect(expected!.code, expected!.stderr).toBe(0);
    type Summary = { in: Record<string, number>; late: number; bad: number };
    const mod = (await importModule(module)) as {
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
    const want = printedRows(expected!.stdout, outputs);
    for (const given of [records, later()]) {
      const rows: Record<string, unknown[]> = Object.fromEntries(outputs.map((o) => [o, []]));
      const onRow = Object.fromEntries(outputs.map((o) => [o, (row: unknown) => rows[o]!.push(row)]));
      const summary = await mod.run({ sourceOverrides: { [src.name]: given }, onRow, summary: false });
      expect(rows).toEqual(want);
      expect(summary.in[src.name]).toBe(records.length);
      expect(summary.bad).toBe(0);
      expect(summary.late).toBe(/(\d+) late/.exec(expected!.stderr)?.[1] !== undefined ? Number(/(\d+) late/.exec(expected!.stderr)![1]) : 0);
    }
  });
}
