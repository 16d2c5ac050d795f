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
    expect(r.counts.some((n) => n > 0)).toBe(true);
  });
});
