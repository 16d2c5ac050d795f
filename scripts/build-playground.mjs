// Builds the playground (playground/dist) with esbuild: a static site that `flowc playground`
// serves and that deploys as it is.
//   index.html, style.css
//   main.js     the page: CodeMirror, the compiler core (ohm parser, checker, optimizer, JS printer)
//   worker.js   the run worker (imports runtime.js and the generated program at run time)
//   runtime.js  the runtime + operators + stdlib, one module the generated code imports
// The examples of playground/examples/index.json are bundled into main.js.
// Called by scripts/build.mjs (`npm run build`, bin/flowc's auto-rebuild); also runs alone:
//   node scripts/build-playground.mjs
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pg = join(root, "playground");

/** The examples, each with its program and the data files beside it. */
export function collectExamples() {
  const dir = join(pg, "examples");
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  return index.map((e) => {
    if (e.file) {
      return { id: basename(e.file).replace(/\.flow$/, ""), title: e.title, group: e.group, description: e.description ?? "", program: readFileSync(join(dir, e.file), "utf8"), files: {} };
    }
    const d = join(dir, e.dir);
    const files = {};
    for (const f of readdirSync(d).sort()) {
      if (f === "program.flow" || !statSync(join(d, f)).isFile()) continue;
      files[f] = readFileSync(join(d, f), "utf8");
    }
    return { id: e.dir, title: e.title, group: e.group, description: e.description ?? "", program: readFileSync(join(d, "program.flow"), "utf8"), files };
  });
}

const examplesPlugin = {
  name: "flow-examples",
  setup(build) {
    build.onResolve({ filter: /^virtual:examples$/ }, () => ({ path: "examples", namespace: "flow-examples" }));
    build.onLoad({ filter: /.*/, namespace: "flow-examples" }, () => ({
      contents: `export default ${JSON.stringify(collectExamples())};`,
      loader: "js",
      watchFiles: [join(pg, "examples", "index.json")],
    }));
  },
};

export async function buildPlayground(esbuild, { minify = true } = {}) {
  if (!existsSync(join(pg, "src", "main.ts"))) return;
  // Build beside the old site and swap it in at the end, so a page served meanwhile (an open
  // playground, the e2e test) never sees a half-written dist.
  const dist = join(pg, "dist");
  const out = join(pg, `.dist-${process.pid}-${Date.now()}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  try {
    return await buildInto(esbuild, out, dist, minify);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function buildInto(esbuild, out, dist, minify) {
  const result = await esbuild.build({
    entryPoints: { main: join(pg, "src/main.ts"), worker: join(pg, "src/worker.ts"), runtime: join(pg, "src/runtime.ts") },
    outdir: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify,
    sourcemap: "linked",
    // Nothing Node-only may reach the page: a `node:` import fails the build.
    external: [],
    plugins: [examplesPlugin],
    logLevel: "warning",
    metafile: true,
    legalComments: "linked",
  });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(pg, "src", f), join(out, f));
  const old = `${out}-old`;
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(out, dist);
  rmSync(old, { recursive: true, force: true });
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const esbuild = await import("esbuild");
  const { writeRecipe } = await import("./gen-recipe.mjs");
  writeRecipe();
  const r = await buildPlayground(esbuild, { minify: !process.argv.includes("--no-minify") });
  if (r && process.argv.includes("--sizes")) {
    for (const [file, o] of Object.entries(r.metafile.outputs)) if (file.endsWith(".js")) console.log(`${file}: ${(o.bytes / 1024).toFixed(1)} KB`);
  }
}
