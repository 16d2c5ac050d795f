// A prototype name (`constructor`, `toString`, …) as a program's only source (its own fast
// path), and as an unknown `--out` name: shared by cli-robust.test.ts (two names) and
// cli-robust.stress.test.ts (the others).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ExpectStatic } from "vitest";
import { flowc } from "./helpers";

export async function checkPrototypeNameSource(name: string, dir: string, expect: ExpectStatic): Promise<void> {
  const other = name === "toString" ? "valueOf" : "toString";
  writeFileSync(join(dir, "p.flow"), `source ${name}: int = range(0, 3)\nemit ${other} = ${name}\n`);
  const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir });
  expect(r.code, `${name}: ${r.stderr}`).toBe(0);
  expect(r.stdout).toBe("0\n1\n2\n");
  const bad = await flowc(["run", "p.flow", "--out", `${name === "hasOwnProperty" ? "isPrototypeOf" : "hasOwnProperty"}=x.jsonl`], { cwd: dir });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/^flowc: --out: the program has no output named "\w+"[^\n]*\n$/);
}
