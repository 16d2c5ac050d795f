import { describe, expect, it } from "vitest";
import { PlaygroundCompiler, inputsOf, toEditorDiagnostics } from "../src/compiler";
import { compileForTest, example } from "./helpers";
import { diag } from "../../compiler/src/diagnostics/catalogue";

describe("the page's compile session", () => {
  it("prints plain JavaScript importing the runtime URL, instrumented", () => {
    const c = new PlaygroundCompiler({ runtimeUrl: "https://example.test/runtime.js" }).compile(example("c05_hop_top").program);
    expect(c.result.ok).toBe(true);
    const js = c.result.typescript!;
    expect(js).toContain('from "https://example.test/runtime.js"');
    expect(js).not.toMatch(/: (number|string)\b[,)]/); // no TypeScript annotations
    expect(js).toContain("counts");
    expect(c.ops.map((o) => [o.kind, o.window?.kind, o.window?.carried])).toEqual([["agg", "hop", false], ["top", "hop", true]]);
    expect(c.ops[0]!.keys).toEqual(["auction"]);
  });

  it("reports errors at their exact spans with the CLI's message, label and help", () => {
    const src = example("c17e_error_several_at_once").program;
    const c = compileForTest(src);
    expect(c.result.ok).toBe(false);
    const spans = c.diagnostics.map((d) => src.slice(d.from, d.to));
    expect(spans).toContain("chanel");
    const d = c.diagnostics.find((x) => src.slice(x.from, x.to) === "chanel")!;
    expect(d.message).toMatch(/^error\[E0201\]: unknown field `chanel` on Bid/);
    expect(d.message).toContain("did you mean `channel`?");
    expect(c.diagnosticsText).toContain("--> program.flow:");
    expect(c.ops).toEqual([]);
  });

  it("reparses incrementally: edits keep giving the same result as a fresh compile", () => {
    const session = new PlaygroundCompiler({ runtimeUrl: "rt" });
    let text = example("c04_tumbling_agg").program;
    const fresh = (t: string) => new PlaygroundCompiler({ runtimeUrl: "rt" }).compile(t);
    for (const edit of [(t: string) => t.replace("count()", "count"), (t: string) => t.replace("count,", "count(),"), (t: string) => t + "\n// done\n", (t: string) => t.replace("10s", "1m")]) {
      text = edit(text);
      const a = session.compile(text), b = fresh(text);
      expect(a.diagnostics).toEqual(b.diagnostics);
      expect(a.result.typescript).toEqual(b.result.typescript);
    }
  });

  it("lists the inputs: files (JSONL / CSV, tables too) and generators", () => {
    const c = compileForTest(example("c10_lookup_table").program);
    expect(c.inputs.map((i) => [i.name, i.kind, i.path, i.format, i.table])).toEqual([
      ["bids", "file", "bids.jsonl", "jsonl", false],
      ["channels", "file", "channels.csv", "csv", true],
    ]);
    const g = compileForTest('source n: int = range(1, 10)\nemit n\n');
    expect(g.inputs).toMatchObject([{ name: "n", kind: "generator", describe: "range(1, 10)" }]);
    expect(inputsOf(undefined)).toEqual([]);
  });

  it("clamps diagnostic spans to the document", () => {
    const d = diag("E0001", { text: "unexpected end of file" }, { start: 50, end: 60 });
    expect(toEditorDiagnostics([d], 10)).toMatchObject([{ from: 10, to: 10, severity: "error" }]);
  });
});
