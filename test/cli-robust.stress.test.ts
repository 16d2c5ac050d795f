// The long sweep of cli-robust.test.ts ("names that are Object.prototype properties"): every
// prototype name but the two `npm test` runs, as a program's only source, and as an unknown
// `--out` name.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ensureCli, TMP } from "./helpers";
import { checkPrototypeNameSource } from "./prototype-name-cases";

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
    const dir = join(work, name);
    mkdirSync(dir);
    await checkPrototypeNameSource(name, dir, expect);
  });
});
