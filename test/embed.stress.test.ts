// The embedding test's pulled-source cases (embed-cases.ts) that `npm test` leaves out: each
// fixture built, run by `flowc run`, and run again from an array and from an async iterable.
import { describe } from "vitest";
import { PULLED, PULLED_QUICK, pulledTests, useWorkDir } from "./embed-cases";

useWorkDir();

describe("embedding a built module (stress)", () => {
  pulledTests(PULLED.filter((f) => !PULLED_QUICK.includes(f)));
});
