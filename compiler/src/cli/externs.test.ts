// The import diagnostics of the CLI: a missing file (E0413), a parameter (E0414) or a result
// (E0415) whose TypeScript type Flow cannot pass.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveExterns } from "./externs";

const dir = mkdtempSync(join(tmpdir(), "flowc-externs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("imported TypeScript functions", () => {
  it("reports each problem with its own code", async () => {
    writeFileSync(join(dir, "f.ts"), "export function ok(x: number): number { return x }\nexport function takesMap(m: Map<string, number>): number { return 0 }\nexport function givesMap(x: number): Map<string, number> { return new Map() }\n");
    const source = 'import { ok, takesMap, givesMap } from "./f.ts"\nimport { g } from "./missing.ts"\n';
    const r = await resolveExterns(source, dir);
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "E0414 parameter `m` of `takesMap` has type Map<string, number>, which Flow cannot pass",
      "E0415 `givesMap` returns Map<string, number>, which Flow cannot use",
      "E0413 cannot find ./missing.ts",
    ]);
    expect([...r.signatures!.keys()]).toEqual(["ok"]);
    const missing = r.diagnostics[2]!;
    expect(source.slice(missing.span.start, missing.span.end)).toBe("./missing.ts");
  });
});
