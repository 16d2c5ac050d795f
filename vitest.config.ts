import { defineConfig } from "vitest/config";

/**
 * The stress set, `npm run test:stress` (vitest.stress.config.ts), left out of `npm test`: the
 * shared acceptance suites through the real CLI (also run by the project's external checks),
 * megabyte and pathological programs, and the long per-case sweeps of the CLI and embedding tests.
 * Each test file runs in exactly one of the two sets.
 */
export const STRESS = ["test/conformance.test.ts", "test/**/*.stress.test.ts"];

export const EXCLUDE = ["node_modules", "test/.tmp", "playground/dist"];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "compiler/src/**/*.test.ts", "runtime/src/**/*.test.ts", "stdlib/src/**/*.test.ts", "playground/**/*.test.ts"],
    exclude: [...EXCLUDE, ...STRESS],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    pool: "forks",
    // One test process per core (vitest's default leaves one core idle: a single worker on 2 cores);
    // most files spend their time in child processes or in the compiler, not waiting.
    maxWorkers: "100%",
  },
});
