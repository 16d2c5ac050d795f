import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The stress set, `npm run test:stress` (vitest.stress.config.ts), left out of `npm test`: the
 * shared acceptance suites through the real CLI (also run by the project's external checks),
 * megabyte and pathological programs, the long per-case sweeps of the CLI and embedding tests,
 * the connectors against real servers, and the playground in Chromium.
 * Each test file runs in exactly one of the two sets.
 */
export const STRESS = ["test/conformance.test.ts", "test/**/*.stress.test.ts", "playground/test/*.stress.test.ts"];

export const EXCLUDE = ["node_modules", "test/.tmp", "playground/dist"];

/**
 * The files that take longest (10–20 s each), started first so that both workers finish
 * together. Vitest orders files by the durations it cached on the last run; a fresh clone (CI)
 * has none, and in file-size order these started last and ran ~15 s past the rest.
 */
const SLOW_FIRST = ["test/cli.test.ts", "test/cli-robust.test.ts", "test/examples.test.ts", "test/injection.test.ts", "test/hardening.test.ts", "test/language-guide.test.ts", "test/fixtures.test.ts"];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((s) => f.moduleId.endsWith(s));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b)); // stable: the rest keep vitest's order
  }
}

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
    sequence: { sequencer: SlowFirst },
  },
});
