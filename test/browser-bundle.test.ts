// The compiler core (pipeline.ts and everything it imports) runs in the browser playground, so it
// must not pull in Node built-ins. esbuild bundles it for the browser; the metafile lists every
// module that went in and every import that was left out.
import { join } from "node:path";
import { builtinModules } from "node:module";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isNodeBuiltin = (path: string) => path.startsWith("node:") || NODE_BUILTINS.has(path) || NODE_BUILTINS.has(path.split("/")[0]!);

async function bundleForBrowser(entry: string): Promise<{ metafile: Metafile; errors: string[]; code: string }> {
  try {
    const r = await build({
      entryPoints: [join(ROOT, entry)],
      platform: "browser",
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      logLevel: "silent",
    });
    return { metafile: r.metafile, errors: [], code: r.outputFiles[0]!.text };
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [{ text: String(e) }];
    return { metafile: { inputs: {}, outputs: {} }, errors: errors.map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ""}${x.text}`), code: "" };
  }
}

describe("browser-safe compiler core", () => {
  it("bundles compiler/src/pipeline.ts for the browser without Node built-ins", async () => {
    const { metafile, errors, code } = await bundleForBrowser("compiler/src/pipeline.ts");
    // esbuild refuses to resolve node: modules for the browser: such an import is a build error.
    expect(errors, "esbuild errors (a Node built-in or an unresolvable import)").toEqual([]);
    const offenders: string[] = [];
    for (const [file, input] of Object.entries(metafile.inputs)) {
      if (isNodeBuiltin(file)) offenders.push(file);
      for (const imp of input.imports) if (isNodeBuiltin(imp.path) || imp.external) offenders.push(`${file} imports ${imp.path}${imp.external ? " (external)" : ""}`);
    }
    expect(offenders).toEqual([]);
    // Only the compiler (and its pure dependencies) went in: no CLI, runtime driver or file system.
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((f) => f.includes("compiler/src/cli/"))).toBe(false);
    expect(inputs.some((f) => f.endsWith("compiler/src/pipeline.ts"))).toBe(true);
    expect(code).not.toMatch(/\brequire\(\s*["'](fs|path|os|child_process|node:[a-z_]+)["']\s*\)/);
    expect(code).not.toMatch(/from\s*["'](fs|path|os|child_process|node:[a-z_]+)["']/);
  });

  it("the runtime and stdlib entry points a generated program imports are browser-safe too", async () => {
    for (const entry of ["runtime/src/index.ts", "runtime/src/ops/index.ts", "stdlib/src/index.ts"]) {
      const { metafile, errors } = await bundleForBrowser(entry);
      expect(errors, entry).toEqual([]);
      const offenders = Object.entries(metafile.inputs).flatMap(([file, input]) => input.imports.filter((i) => isNodeBuiltin(i.path)).map((i) => `${file} imports ${i.path}`));
      expect(offenders, entry).toEqual([]);
    }
  });

  it("detects a Node built-in when one is imported (the check itself works)", async () => {
    const { metafile, errors } = await bundleForBrowser("compiler/src/cli/externs.ts");
    const flagged = errors.length > 0 || Object.values(metafile.inputs).some((i) => i.imports.some((x) => isNodeBuiltin(x.path)));
    expect(flagged).toBe(true);
  });
});
