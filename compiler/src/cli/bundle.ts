// Bundling (CLI layer): generated TypeScript + runtime + stdlib → one ES module, with esbuild.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";

/** The repository root (dist/flowc.mjs and compiler/src/cli/*.ts both sit two levels below). */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join("compiler", "src", "cli")) ? join(here, "..", "..", "..") : join(here, "..");
}

export const RUNTIME_ALIASES = () => {
  const root = packageRoot();
  return {
    "@flowc/runtime": join(root, "runtime/src/index.ts"),
    "@flowc/runtime/ops": join(root, "runtime/src/ops/index.ts"),
    "@flowc/runtime/node": join(root, "runtime/src/node.ts"),
    "@flowc/stdlib": join(root, "stdlib/src/index.ts"),
  };
};

/** The npm packages of the network connectors (runtime/src/net/); package.json pins them. */
export const NETWORK_CLIENTS = ["nats", "redis", "pg", "mqtt", "ws", "kafkajs"] as const;

export interface BundleOptions {
  /** Folder of the .flow file: user TypeScript imports resolve from here. */
  resolveDir: string;
  /** Add the `node OUT.mjs` entry point (flowc build). */
  main: boolean;
  minify?: boolean;
  sourcemap?: boolean;
  outfile?: string;
}

let esbuildModule: typeof import("esbuild") | undefined;
async function esbuild() {
  return (esbuildModule ??= await import("esbuild"));
}

/**
 * Runs the module's main when executed as `node OUT.mjs`, and only then (not when imported). On
 * Node the Node environment is registered either way, so that `import { run } from "./OUT.mjs"`
 * reads files and writes stdout without an explicit `env`.
 */
const MAIN = `export * from "flowc:generated";
import { program } from "flowc:generated";
const proc = (globalThis as { process?: { argv?: string[]; versions?: { node?: string } } }).process;
if (typeof proc?.versions?.node === "string") {
  const { runMain } = await import("@flowc/runtime/node");
  if (proc.argv?.[1] !== undefined) {
    const { pathToFileURL } = await import("node:url");
    const { realpathSync } = await import("node:fs");
    let self = "";
    try { self = pathToFileURL(realpathSync(proc.argv[1])).href; } catch { /* not a file */ }
    if (import.meta.url === self) await runMain(program);
  }
}
`;

export async function bundle(typescript: string, opts: BundleOptions): Promise<{ code: string; map?: string }> {
  const aliases = RUNTIME_ALIASES();
  const generated: Plugin = {
    name: "flowc-generated",
    setup(b) {
      b.onResolve({ filter: /^flowc:generated$/ }, () => ({ path: "generated.ts", namespace: "flowc" }));
      b.onLoad({ filter: /.*/, namespace: "flowc" }, () => ({ contents: typescript, loader: "ts", resolveDir: opts.resolveDir }));
      b.onResolve({ filter: /^@flowc\// }, (a) => ({ path: aliases[a.path as keyof typeof aliases] }));
    },
  };
  const es = await esbuild();
  const result = await es.build({
    stdin: { contents: opts.main ? MAIN : `export * from "flowc:generated";`, loader: "ts", resolveDir: opts.resolveDir, sourcefile: "entry.ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    // The network connectors' clients stay imports: loaded on first use, from node_modules.
    external: ["node:*", ...NETWORK_CLIENTS],
    plugins: [generated],
    write: false,
    minify: opts.minify ?? false,
    sourcemap: opts.sourcemap ? "external" : false,
    outfile: opts.outfile ?? "out.mjs",
    logLevel: "silent",
    legalComments: "none",
  });
  const js = result.outputFiles.find((f) => f.path.endsWith(".mjs") || f.path.endsWith(".js"))!;
  const map = result.outputFiles.find((f) => f.path.endsWith(".map"));
  return { code: js.text, map: map?.text };
}
