// The shared acceptance suites (LANGUAGE.md conformance cases and the translated ksqlDB tests),
// run through the real CLI. They live next to the checkout; when absent the test says so.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";

const checker = "../shared/conformance/check.mjs";
const suites: [string, string[]][] = [
  ["conformance", []],
  ["peer-ksql", ["--cases", "../shared/peer-ksql"]],
];

describe.skipIf(!existsSync(checker))("shared acceptance suites", () => {
  for (const [name, args] of suites) {
    it(`${name}: every case passes`, () => {
      const r = spawnSync(process.execPath, [checker, ...args], { encoding: "utf8", timeout: 300_000 });
      expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
      expect(r.status).toBe(0);
    }, 300_000);
  }
});
