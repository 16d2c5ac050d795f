// The optimizer: passes in order. Each is a pure function Graph → Graph.
import type { Graph } from "../ir/graph";
import { inlineFunctions } from "./inline";
import { foldConstants } from "./fold";
import { pruneDead } from "./prune";
import { fuseChains } from "./fuse";
import { pushDownProjections } from "./projection";

export const PASSES: [string, (g: Graph) => Graph][] = [
  ["inline", inlineFunctions],
  ["fold", foldConstants],
  ["prune", pruneDead],
  ["fuse", fuseChains],
  ["projection", pushDownProjections],
];

export function optimize(g: Graph): Graph {
  return PASSES.reduce((acc, [, pass]) => pass(acc), g);
}
