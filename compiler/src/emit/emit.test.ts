import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../pipeline";
import { bundle } from "../cli/bundle";
import { createMemoryEnv, runProgram, type Program } from "../../../runtime/src/index";

const BID = `type Bid = { auction: int, bidder: int, price: int, channel: string, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime watermark 4s
`;

function ts(body: string, opts = {}): string {
  const r = compile(BID + body, { file: "bids.flow", ...opts });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.typescript!;
}

describe("generated code", () => {
  it("fuses a stateless chain into one method with locals, no closures", () => {
    const code = ts("emit bids | where price > 1000 | extend eur = price * 0.908 | where eur < 5000 | select auction, eur");
    const body = /\/\*\* bids\.flow:3 — where, extend, select fused into one pass\. \*\/\n  private chainBids_n\d+\(r: Bid, t: number\): void \{\n([\s\S]*?)\n  \}/.exec(code);
    expect(body, code).not.toBeNull();
    expect(body![1]!.split("\n").map((l) => l.trim())).toEqual([
      "// bids.flow:3  where price > 1000",
      "if (!(r.price > 1000)) return;",
      "// bids.flow:3  extend eur = price * 0.908",
      "const eur = (r.price * 0.908);",
      "// bids.flow:3  where eur < 5000",
      "if (!(eur < 5000)) return;",
      "// bids.flow:3  select auction, eur",
      "this.emit0({ auction: r.auction, eur });",
    ]);
    expect(code).not.toMatch(/=>\s*\{?\s*if \(/); // no per-stage closures
    expect(code).toContain("export interface Bid {\n  auction: number;\n  price: number;\n  dateTime: number;\n}");
  });

  it("shapes aggregate state by the agg list (avg = sum + count)", () => {
    const code = ts("emit bids | window tumbling(10s) | group by channel | agg n = count(), avg_price = avg(price)");
    expect(code).toMatch(/class Agg\d+State \{\n  a0 = 0;\n  a1 = 0;\n  a1c = 0;\n  constructor\(readonly k0: string\) \{\}\n\}/);
    expect(code).toContain("key(r: Bid): Key {\n    return r.channel;\n  }");
    expect(code).toContain("new WindowAgg({ kind: \"tumbling\", size: 10000 }");
  });

  it("imports only what it uses", () => {
    const code = ts("emit bids | select auction");
    expect(code).not.toContain("@flowc/runtime/ops");
    expect(code).not.toContain("@flowc/stdlib");
    expect(ts('emit bids | select d = date(dateTime)')).toContain('import { flow_date } from "@flowc/stdlib";');
  });

  it("JavaScript mode prints no TypeScript syntax", () => {
    const code = ts("emit bids | window hop(10s, 2s) | group by auction | agg num = count() | top 1 by num desc", { javascript: true });
    expect(code).not.toMatch(/\binterface\b|\bimplements\b|\bprivate\b|: number|: void|!\./);
  });
});

async function runGenerated(code: string, files: Record<string, string>): Promise<string[]> {
  const { code: js } = await bundle(code, { resolveDir: process.cwd(), main: false });
  const dir = mkdtempSync(join(tmpdir(), "flowc-emit-"));
  try {
    const file = join(dir, "m.mjs");
    writeFileSync(file, js);
    const mod = (await import(pathToFileURL(file).href)) as { program: Program };
    const rows: string[] = [];
    await runProgram(mod.program, { env: createMemoryEnv({ files }), onRow: { out1: (r) => rows.push(JSON.stringify(r)) }, summary: false });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("TypeScript and JavaScript output behave the same", () => {
  it("on a windowed aggregate with a late record", async () => {
    const bids = [0, 1500, 9000, 12_000, 3000, 25_000]
      .map((t, i) => JSON.stringify({ auction: i % 2, bidder: i, price: 100 * (i + 1), channel: "c", dateTime: t }))
      .join("\n");
    const src = BID.replace("watermark 4s", "watermark 1s") + "emit bids | window tumbling(10s) | group by auction | agg n = count(), s = sum(price)";
    const tsCode = compile(src).typescript!;
    const jsCode = compile(src, { javascript: true }).typescript!;
    const a = await runGenerated(tsCode, { "bids.jsonl": bids });
    const b = await runGenerated(jsCode, { "bids.jsonl": bids });
    expect(a).toEqual(b);
    // t=3000 arrives after the watermark passed 10s: late, so window [0,10s) has 3 rows.
    expect(a).toEqual([
      '{"window_start":0,"window_end":10000,"auction":0,"n":2,"s":400}',
      '{"window_start":0,"window_end":10000,"auction":1,"n":1,"s":200}',
      '{"window_start":10000,"window_end":20000,"auction":1,"n":1,"s":400}',
      '{"window_start":20000,"window_end":30000,"auction":1,"n":1,"s":600}',
    ]);
  });
});

describe("outer joins (§13) in generated code", () => {
  const PROGRAM = `type Order = { id: int, ts: time }
type Pay = { oid: int, ts: time }
source orders: Order = file("o.jsonl") event time ts watermark 0s
source pays: Pay = file("p.jsonl") event time ts watermark 0s
emit orders as o | left join pays as p on o.id == p.oid within 0s .. 5s | select o.id, paid = p.ts
`;
  // Order 2 (at 2s) is released padded once the payments' watermark passes 7s (9 at 20s); the
  // payment of order 2 at 4s then arrives below it: it would only have matched the released
  // order, so it is late.
  const files = {
    "o.jsonl": ['{"id":1,"ts":1000}', '{"id":2,"ts":2000}', '{"id":3,"ts":30000}'].join("\n"),
    "p.jsonl": ['{"oid":1,"ts":3000}', '{"oid":9,"ts":20000}', '{"oid":2,"ts":4000}', '{"oid":3,"ts":31000}'].join("\n"),
  };

  async function run(javascript: boolean) {
    const { code: js } = await bundle(compile(PROGRAM, { javascript }).typescript!, { resolveDir: process.cwd(), main: false });
    const dir = mkdtempSync(join(tmpdir(), "flowc-emit-"));
    try {
      const file = join(dir, "m.mjs");
      writeFileSync(file, js);
      const mod = (await import(pathToFileURL(file).href)) as { program: Program };
      const rows: string[] = [];
      const env = createMemoryEnv({ files });
      const summary = await runProgram(mod.program, { env, onRow: { out1: (r) => rows.push(JSON.stringify(r)) }, summary: false, lateFile: "late.jsonl" });
      return { rows, late: summary.late, lateFile: env.output("late.jsonl") };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("pads by the other input's watermark and counts a record that only a released row would have matched as late (TS and JS alike)", async () => {
    const a = await run(false);
    expect(a).toEqual(await run(true));
    expect(a.rows).toEqual(['{"id":1,"paid":3000}', '{"id":2,"paid":null}', '{"id":3,"paid":31000}']);
    expect(a.late).toBe(1);
    expect(a.lateFile?.trim()).toBe('{"oid":2,"ts":"1970-01-01T00:00:04.000Z"}');
  });
});
