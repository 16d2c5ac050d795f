#!/usr/bin/env node
// `npm run conformance`: runs the shared LANGUAGE.md conformance cases against ./bin/flowc.
// The cases and their checker live outside this repository, in ../shared/conformance/ (next to
// the checkout). In a clean clone they are absent: this script then says so and exits 1 rather
// than pretending to pass. Arguments are passed on to check.mjs (--verbose, a name filter, ...).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const checker = resolve(root, "..", "shared", "conformance", "check.mjs");
if (!existsSync(checker)) {
  console.error(
    `flowc conformance: no conformance suite at ${checker} — the cases are not part of this repository; ` +
      `place the shared folder (shared/conformance/ with check.mjs) next to the checkout to run them. ` +
      `The repository's own tests are \`npm test\`.`,
  );
  process.exit(1);
}
const r = spawnSync(process.execPath, [checker, "--flowc", join(root, "bin", "flowc"), ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
