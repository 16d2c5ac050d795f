// Vitest global setup: builds dist/ (when stale) once, before any test file starts, and tells the
// test processes (which inherit this environment) not to check again (see ensureCli in helpers.ts).
import { ensureCli } from "./helpers";

export default function setup(): void {
  ensureCli();
  process.env.FLOWC_TEST_BUILT = "1";
}
