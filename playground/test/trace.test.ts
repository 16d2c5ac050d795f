import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { example, runSource } from "./helpers";

const expected = (c: string) => readFileSync(`/work/shared/conformance/${c}/expected.out`, "utf8").trim().split("\n");

describe("runTraced", () => {
  it("produces the CLI's rows and traces late records (c07)", async () => {
    const ex = example("c07_late_records");
    const { c, r } = await runSource(ex.program, ex.files);
    expect(r.error).toBeUndefined();
    expect(r.outputs[0]!.rows).toEqual(expected("c07_late_records"));
    expect(r.summary!.late).toBe(3);
    const src = r.trace.sources[0]!;
    expect(src.records.filter((x) => x.late).length).toBe(3);
    expect(c.ops.length).toBe(1);
    const op = r.trace.ops[0]!;
    expect(op.pushes.filter((p) => p.late).length).toBe(3);
    expect(op.emits.length).toBe(r.outputs[0]!.total);
    expect(src.watermarks.at(-1)!.wm).toBeNull(); // +∞ at the end
    // Whole records, although the program reads only `price` and `dateTime`.
    expect(JSON.parse(src.records[0]!.json)).toEqual({ auction: 1000, bidder: 5030, price: 631, channel: "Baidu", dateTime: "2025-12-31T23:59:57.070Z" });
    expect(r.counts.some((n) => n > 0)).toBe(true);
  });
});

describe("runTraced: a rolling extend", () => {
  it("gives the CLI's rows in the playground's instrumented JavaScript build (c40)", async () => {
    const ex = example("c40_rolling_rows_lag");
    const { r } = await runSource(ex.program, ex.files);
    expect(r.error).toBeUndefined();
    expect(r.outputs[0]!.rows).toEqual(expected("c40_rolling_rows_lag"));
    expect(r.summary!.late).toBe(0);
  });
});

describe("runTraced inputs", () => {
  it("feeds `<stdin>` to a stdin() source, CSV tables by path, and keeps every output", async () => {
    const src = `type R = { k: string, v: int }
type C = { name: string, owner: string }
table owners: C = file("owners.csv") key name
source rs: R = stdin()
emit big = rs | where v > 1 | lookup owners as o on k | select k, v, owner = o.owner ?? "?"
emit small = rs | where v <= 1
`;
    const { r } = await runSource(src, { "<stdin>": '{"k":"a","v":1}\n{"k":"b","v":5}\nnot json\n', "owners.csv": "name,owner\nb,Bo\n" });
    expect(r.error).toBeUndefined();
    expect(r.outputs.map((o) => [o.name, o.rows])).toEqual([
      ["big", ['{"k":"b","v":5,"owner":"Bo"}']],
      ["small", ['{"k":"a","v":1}']],
    ]);
    expect(r.summary!.bad).toBe(1);
    expect(r.stderr).toContain("<stdin>:3:");
    expect(r.trace.sources[0]!.timed).toBe(false);
  });

  it("caps kept rows but counts them all, and reports a failing run as an error", async () => {
    const { r } = await runSource("source n: int = range(0, 5000)\nemit n\n", {}, { maxRows: 10, maxTrace: 100 });
    expect(r.outputs[0]!.total).toBe(5000);
    expect(r.outputs[0]!.rows.length).toBe(10);
    expect(r.trace.truncated).toBe(true);
    expect(r.trace.sources[0]!.records.length).toBe(100);
    const missing = await runSource('source x: int = file("nope.jsonl")\nemit x\n', {});
    expect(missing.r.error).toMatch(/nope\.jsonl/);
  });
});

describe("runTraced: an updating output (§13)", () => {
  it("keeps its changelog — upserts and deletes — beside the rows JSONL prints (c43)", async () => {
    const ex = example("c43_changelog_agg_deletes");
    const { r } = await runSource(ex.program, ex.files);
    expect(r.error).toBeUndefined();
    const stdout = r.outputs.find((o) => o.name === "out1")!;
    expect(stdout.rows).toEqual(expected("c43_changelog_agg_deletes"));
    expect(stdout.key).toEqual(["account"]);
    const changes = readFileSync("/work/shared/conformance/c43_changelog_agg_deletes/expected_changes.jsonl", "utf8").trim().split("\n");
    expect(stdout.changes).toEqual(changes);
  });
});
