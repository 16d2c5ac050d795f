import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "compiler/src/**/*.test.ts", "runtime/src/**/*.test.ts", "stdlib/src/**/*.test.ts", "playground/**/*.test.ts"],
    exclude: ["node_modules", "test/.tmp", "playground/dist"],
    testTimeout: 60_000,
    pool: "forks",
  },
});
