// `npm run test:stress`: the slow cases left out of `npm test` (see STRESS in vitest.config.ts).
import { defineConfig } from "vitest/config";
import { EXCLUDE, STRESS } from "./vitest.config";

export default defineConfig({
  test: {
    include: STRESS,
    exclude: EXCLUDE,
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 300_000,
    pool: "forks",
    maxWorkers: "100%",
  },
});
