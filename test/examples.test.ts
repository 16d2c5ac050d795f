// The programs of examples/: each compiles without errors (some NEXMark queries warn about
// unbounded state, on purpose), and an example with an
// `expected.jsonl` beside it runs (bin/flowc, in its folder) to exactly those rows.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import { ensureCli, flowc, ROOT } from "./helpers";

const EXAMPLES = join(ROOT, "examples");
/** Every `.flow` file under examples/, in folders at any depth (examples/live/… included). */
function programsIn(dir: string, rel: string): { dir: string; file: string; name: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? programsIn(join(dir, d.name), `${rel}${d.name}/`) : d.name.endsWith(".flow") && rel !== "" ? [{ dir, file: d.name, name: `${rel}${d.name}` }] : [],
  );
}
const programs = programsIn(EXAMPLES, "");

beforeAll(() => ensureCli());

describe("examples", () => {
  it("are found", () => {
    expect(programs.map((p) => p.name)).toContain("sensor-jumps/sensor-jumps.flow");
    expect(programs.map((p) => p.name)).toContain("live/clickstream/clicks.flow");
  });
  for (const p of programs) {
    it(`${p.name} compiles`, () => {
      const r = compile(readFileSync(join(p.dir, p.file), "utf8"), { file: p.file });
      expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
      expect(r.ok).toBe(true);
    });
    const expected = join(p.dir, "expected.jsonl");
    if (!existsSync(expected)) continue;
    it(`${p.name} runs to expected.jsonl`, async () => {
      const r = await flowc(["run", p.file], { cwd: p.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(readFileSync(expected, "utf8"));
    });
  }
});
