// Every program `npm run bench` times gives the same rows as the hand-written version it is
// compared with (bench/workloads.mjs, bench/hand/*.mjs), here on small inputs. Speed is never
// asserted: that is the benchmark's job.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { bundle } from "../../compiler/src/cli/bundle";
import { compile } from "../../compiler/src/pipeline";
import { createMemoryEnv } from "../../runtime/src/env";
import { formatTime } from "../../runtime/src/time";
import { NEXMARK_DEFAULTS, nexmarkBatches } from "../../stdlib/src/nexmark";
// @ts-expect-error — plain JavaScript module without types
import { hand, keyedTicks, mostVersions, rxjsVersions, ticks } from "../../bench/workloads.mjs";
import { TMP } from "../helpers";

const ROOT = join(__dirname, "..", "..");
const BENCH = join(ROOT, "bench");
mkdirSync(TMP, { recursive: true });

let loads = 0;
type Run = (options: Record<string, unknown>) => Promise<unknown>;

/** Compiles and bundles a bench program (its sizes replaced), and imports it. */
async function load(name: string, rewrite: (src: string) => string = (s) => s): Promise<Run> {
  const source = rewrite(readFileSync(join(BENCH, "programs", `${name}.flow`), "utf8"));
  const r = compile(source, { file: `${name}.flow` });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const { code } = await bundle(r.typescript!, { resolveDir: join(BENCH, "programs"), main: false });
  const file = join(TMP, `bench-${name}-${process.pid}-${++loads}.mjs`);
  writeFileSync(file, code);
  return ((await import(pathToFileURL(file).href)) as { run: Run }).run;
}

async function rowsOf(run: Run, options: Record<string, unknown> = {}): Promise<unknown[]> {
  const rows: unknown[] = [];
  await run({ env: createMemoryEnv(), summary: false, onRow: { out1: (r: unknown) => rows.push(r) }, ...options });
  return rows;
}

const N = 50_000;

describe("benchmarked programs give the hand-written versions' rows", () => {
  it("filter-map-reduce", async () => {
    const run = await load("filter-map-reduce", (s) => s.replace("10_000_000", String(N)));
    const expected = hand.filterMapReduce(N);
    expect(await rowsOf(run)).toEqual(expected);
    expect((await rxjsVersions()).filterMapReduce(N)).toEqual(expected);
    expect(await (await mostVersions()).filterMapReduce(N)).toEqual(expected);
  });

  it("keyed aggregation (1,000 keys)", async () => {
    const run = await load("keyed-agg", (s) => s.replace("10_000_000", String(N)));
    const expected = hand.keyedAgg(N);
    expect(expected.length).toBe(1000);
    expect(await rowsOf(run)).toEqual(expected);
    expect((await rxjsVersions()).keyedAgg(N)).toEqual(expected);
    expect(await (await mostVersions()).keyedAgg(N)).toEqual(expected);
  });

  it("keyed aggregation over keys outside the dense range and negative ones", async () => {
    const run = await load("keyed-agg", (s) => s.replace("range(0, 10_000_000)", "range(-5000, 9000)").replace("it % 1000", "it % 7000"));
    const groups = new Map<number, { n: number; total: number }>();
    for (let i = -5000; i < 9000; i++) {
      const k = i % 7000;
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = { n: 0, total: 0 }));
      g.n++;
      g.total += i;
    }
    expect(await rowsOf(run)).toEqual([...groups].map(([k, g]) => ({ k, ...g })));
  });

  it("1-s tumbling window sum", async () => {
    const run = await load("tumbling-sum");
    const expected = hand.tumblingSum(ticks(N));
    expect(await rowsOf(run, { sourceOverrides: { ticks: ticks(N) } })).toEqual(expected);
    expect((await rxjsVersions()).tumblingSum(ticks(N))).toEqual(expected);
    expect(await (await mostVersions()).tumblingSum(ticks(N))).toEqual(expected);
  });

  it("10-s tumbling window, 1,000 keys", async () => {
    const run = await load("windowed-keyed");
    expect(await rowsOf(run, { sourceOverrides: { ticks: keyedTicks(N, 1000) } })).toEqual(hand.windowedKeyed(keyedTicks(N, 1000)));
  });

  /** NEXMark-like bids as bench/lib.ts writes them. */
  function bids(n: number, format: "jsonl" | "csv"): string {
    let out = format === "csv" ? "auction,bidder,price,channel,dateTime,extra\n" : "";
    let k = 0;
    for (const batch of nexmarkBatches({ eventKind: "bid", events: Math.ceil((n * 50) / 46) + 50, ...NEXMARK_DEFAULTS })) {
      for (const b of batch) {
        if (k++ === n) return out;
        const extra = b.extra.slice(0, 20);
        out +=
          format === "csv"
            ? `${b.auction},${b.bidder},${b.price},${b.channel},${formatTime(b.dateTime)},${extra}\n`
            : `{"auction":${b.auction},"bidder":${b.bidder},"price":${b.price},"channel":"${b.channel}","dateTime":"${formatTime(b.dateTime)}","extra":"${extra}"}\n`;
      }
    }
    return out;
  }

  for (const format of ["jsonl", "csv"] as const) {
    it(`${format.toUpperCase()} filter + group by + count, avg (against bench/hand/${format}-agg.mjs)`, async () => {
      const file = join(TMP, `bench-bids-${process.pid}.${format}`);
      const text = bids(20_000, format);
      writeFileSync(file, text);
      const run = await load(`${format}-agg`, (s) => s.replace(/file\("[^"]*"\)/, `file(${JSON.stringify(file)})`));
      const rows = await rowsOf(run, { env: createMemoryEnv({ files: { [file]: text }, chunkSize: 4096 }) });
      const handOut = spawnSync(process.execPath, [join(BENCH, "hand", `${format}-agg.mjs`), file], { encoding: "utf8" });
      expect(handOut.status).toBe(0);
      const expected = handOut.stdout.trim().split("\n").map((l) => JSON.parse(l));
      expect(expected.length).toBeGreaterThan(100);
      expect(rows).toEqual(expected);
    });
  }
});
