// `npm test`: the type check (tsc) and the tests (vitest) at the same time. Vitest keeps the two
// cores only about three-quarters busy (its workers wait on the processes the tests start), and
// tsc's 10–15 s fit in the rest; one after the other they took ~15 s longer. tsc's output is
// printed after the tests', so the two do not interleave; the exit code is the first failure's.
// Extra arguments go to vitest (`npm test -- test/cli.test.ts`).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

const tsc = spawn(bin("tsc"), ["-p", "tsconfig.json", "--noEmit", "--incremental", "--tsBuildInfoFile", "node_modules/.cache/flowc/tsc.tsbuildinfo"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
let tscOut = "";
tsc.stdout.on("data", (d) => (tscOut += d));
tsc.stderr.on("data", (d) => (tscOut += d));
const exited = (p) => new Promise((resolve) => p.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
const tscDone = exited(tsc);

const vitest = spawn(bin("vitest"), ["run", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
const vitestCode = await exited(vitest);
const tscCode = await tscDone;
if (tscCode !== 0) process.stderr.write(`\ntsc (type check) failed:\n${tscOut}`);
else process.stderr.write("tsc: no type errors\n");
process.exit(vitestCode !== 0 ? vitestCode : tscCode);
