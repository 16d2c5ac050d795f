// The shared acceptance suites (LANGUAGE.md conformance cases and the translated ksqlDB tests),
// run through the real CLI. They live next to the checkout; when absent the test says so.
// Version-2 cases whose features are not built yet are listed in conformance-pending.json: the
// test fails when any other case fails, and also when a pending case starts to pass (so the
// list only shrinks, and never hides a regression).
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const checker = "../shared/conformance/check.mjs";
const pending: Record<string, string[]> = JSON.parse(readFileSync(new URL("./conformance-pending.json", import.meta.url), "utf8"));
const suites: [string, string[]][] = [
  ["conformance", []],
  ["peer-ksql", ["--cases", "../shared/peer-ksql"]],
];

describe.skipIf(!existsSync(checker))("shared acceptance suites", () => {
  for (const [name, args] of suites) {
    // The two suites run side by side (each checker runs its cases one after the other).
    it.concurrent(`${name}: every case passes but the pending ones`, async ({ expect }) => {
      const r = await new Promise<{ stdout: string }>((done) => {
        execFile(process.execPath, [checker, ...args], { encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20 }, (_err, stdout) => done({ stdout }));
      });
      expect(r.stdout).toMatch(/\d+ passed, \d+ failed/);
      const failing = /^failing: (.*)$/m.exec(r.stdout)?.[1]?.split(" ").filter(Boolean) ?? [];
      expect(failing.sort(), r.stdout.slice(-4000)).toEqual([...(pending[name] ?? [])].sort());
    }, 300_000);
  }
});
