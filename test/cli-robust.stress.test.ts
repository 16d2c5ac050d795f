// The long sweep of cli-robust.test.ts ("names that are Object.prototype properties"): every
// prototype name but the two `npm test` runs, as a program's only source, and as an unknown
// `--out` name.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ensureCli, flowc, TMP } from "./helpers";

let work: string;
beforeAll(() => {
  ensureCli();
  mkdirSync(TMP, { recursive: true });
  work = mkdtempSync(join(TMP, "robust-stress-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("names that are Object.prototype properties (stress)", () => {
  const names = Object.getOwnPropertyNames(Object.prototype).filter((n) => n !== "__proto__" && n !== "constructor");

  it.concurrent.for(names)("%s as the only source (its own fast path), and as an unknown --out name", async (name, { expect }) => {
    const other = name === "toString" ? "valueOf" : "toString";
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "p.flow"), `source ${name}: int = range(0, 3)\nemit ${other} = ${name}\n`);
    const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir });
    expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    expect(r.stdout).toBe("0\n1\n2\n");
    const bad = await flowc(["run", "p.flow", "--out", `${name === "hasOwnProperty" ? "isPrototypeOf" : "hasOwnProperty"}=x.jsonl`], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^flowc: --out: the program has no output named "\w+"[^\n]*\n$/);
  });
});
