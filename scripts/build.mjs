// Builds the CLI bundle (dist/flowc.mjs) from the TypeScript sources with esbuild, after
// regenerating the grammar recipe. `--if-stale` (and bin/flowc) rebuild only when a source file
// is newer than the bundle, so a fresh clone and an edited checkout both just work.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "flowc.mjs");
const SOURCE_DIRS = ["compiler/src", "runtime/src", "stdlib/src", "playground/src", "playground/examples"];

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "testdata" && e.name !== "test") walk(p);
      }
      else if (/\.(ts|ohm|mjs|css|html|json|flow|jsonl|csv)$/.test(e.name) && !e.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  for (const script of ["build.mjs", "build-playground.mjs", "gen-recipe.mjs"]) {
    const p = join(root, "scripts", script);
    if (existsSync(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function isStale() {
  if (!existsSync(out)) return true;
  // The playground's site is part of the build.
  if (existsSync(join(root, "playground/src/main.ts")) && !existsSync(join(root, "playground/dist/index.html"))) return true;
  return statSync(out).mtimeMs < newestSource();
}

export async function build() {
  const { writeRecipe } = await import("./gen-recipe.mjs");
  writeRecipe();
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [join(root, "compiler/src/cli/main.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    // Heavy tools load lazily and stay packages of their own.
    // So do the network connectors' clients (runtime/src/net/, loaded when a program uses one).
    external: ["esbuild", "ts-morph", "playwright-core", "nats", "redis", "pg", "mqtt", "ws", "kafkajs"],
    banner: { js: "import { createRequire as __flowcRequire } from 'node:module'; const require = __flowcRequire(import.meta.url);" },
    logLevel: "warning",
    // Written below, each file to a temporary name then renamed: a `bin/flowc` started while
    // another one rebuilds must never import a half-written bundle.
    write: false,
  });
  mkdirSync(dirname(out), { recursive: true });
  for (const f of result.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  if (existsSync(join(root, "playground/src/main.ts"))) {
    const { buildPlayground } = await import("./build-playground.mjs");
    await buildPlayground(esbuild);
  }
}

export async function ensureBuilt() {
  if (isStale()) await build();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes("--if-stale") || isStale()) await build();
}
