// The slow hostile inputs (`npm run test:stress`): a megabyte program, thousands of stages,
// operators or errors, a 100 KB line — the same checks as robustness-basics.stress.test.ts (robustness-cases.ts).
import { CASES, robustness, SLOW } from "./robustness-cases";

robustness("robustness (stress)", Object.keys(CASES).filter((n) => SLOW.has(n)));
