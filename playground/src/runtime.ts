// The runtime bundle the playground's generated programs import (runtime.js in playground/dist):
// the browser-safe runtime, its operators and the stdlib, as one module loaded once per worker.
export * from "../../runtime/src/index";
export * from "../../runtime/src/ops/index";
export * from "../../stdlib/src/index";

// The runtime does not import the stdlib: `nexmark(...)` sources use the generator registered here.
import { registerNexmark } from "../../runtime/src/index";
import { nexmarkGenerator } from "../../stdlib/src/nexmark";
registerNexmark(nexmarkGenerator);
