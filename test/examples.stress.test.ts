// `flowc test` over every example (§14): every test block of every program under examples/
// passes. Moved out of examples.test.ts to keep `npm test` under its time budget.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureCli, examplePrograms, flowc } from "./helpers";

const programs = examplePrograms();

beforeAll(() => ensureCli());

describe("examples", () => {
  it("flowc test passes every test block of every example", async () => {
    const files = programs.map((p) => join(p.dir, p.file));
    const r = await flowc(["test", ...files], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const passed = Number(/^(\d+) passed, 0 failed$/m.exec(r.stdout)?.[1]);
    expect(passed).toBeGreaterThanOrEqual(programs.length - 1);
    expect(r.stdout).not.toMatch(/^FAIL/m);
  }, 180_000);
});
