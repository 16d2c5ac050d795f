// Hostile inputs: each must give diagnostics or success — no exception, no internal error — both
// from compile() and from `flowc check` (exit 0 or 1, never 70). The cases and checks are in
// robustness-cases.ts; the slow ones (a megabyte program, thousands of stages, operators or
// errors, a 100 KB line) run in robustness.stress.test.ts (`npm run test:stress`).
import { CASES, robustness, SLOW } from "./robustness-cases";

robustness("robustness", Object.keys(CASES).filter((n) => !SLOW.has(n)));
