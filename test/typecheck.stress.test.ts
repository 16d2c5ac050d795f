// The generated TypeScript must type-check under `strict`, against the real runtime and stdlib
// sources: every valid fixture and every conformance / peer-ksql program that compiles. One
// ts-morph Project is reused (the first check costs ~200 ms, the next ones ~30 ms each).
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Project, ts, type Diagnostic } from "ts-morph";
import { compile } from "../compiler/src/pipeline";
import { resolveExterns } from "../compiler/src/cli/externs";
import { conformanceCases, fixtureCases, ROOT } from "./helpers";

interface Program {
  name: string;
  dir: string;
  source: string;
}

const programs: Program[] = [
  ...fixtureCases().filter((c) => c.kind !== "error"),
  ...conformanceCases(),
];

let project: Project;

beforeAll(() => {
  project = new Project({
    compilerOptions: {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2022.d.ts"],
      types: [],
      skipLibCheck: true,
      noEmit: true,
      paths: {
        "@flowc/runtime": [join(ROOT, "runtime/src/index.ts")],
        "@flowc/runtime/ops": [join(ROOT, "runtime/src/ops/index.ts")],
        "@flowc/stdlib": [join(ROOT, "stdlib/src/index.ts")],
      },
    },
    skipAddingFilesFromTsConfig: true,
  });
});

function format(ds: Diagnostic[], text: string): string {
  const lines = text.split("\n");
  return ds
    .map((d) => {
      const line = d.getLineNumber();
      const msg = ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n");
      const file = d.getSourceFile()?.getFilePath() ?? "?";
      return `${file}:${line ?? "?"}: TS${d.getCode()}: ${msg}${line ? `\n    ${lines[line - 1]?.trim()}` : ""}`;
    })
    .join("\n");
}

describe("generated TypeScript type-checks under strict", () => {
  it("has programs to check", () => {
    expect(programs.length).toBeGreaterThan(30); // 41 valid fixtures, plus ../shared when present
  });

  for (const p of programs) {
    it(p.name, async () => {
      const externs = await resolveExterns(p.source, p.dir);
      const r = compile(p.source, { file: "program.flow", externs: externs.signatures, diagnostics: externs.diagnostics });
      // Conformance cases that are meant to fail compiling are not code-generation tests.
      if (!r.ok) {
        expect(p.name.startsWith("conformance/") || p.name.startsWith("peer-ksql/"), `${p.name} does not compile`).toBe(true);
        return;
      }
      expect(r.typescript).toBeDefined();
      // The file sits next to the program so that `import … from "./helpers.js"` resolves.
      const path = join(p.dir, "__generated_typecheck__.ts");
      const sf = project.createSourceFile(path, r.typescript!, { overwrite: true });
      try {
        const diagnostics = sf.getPreEmitDiagnostics();
        expect(format(diagnostics, r.typescript!), `TypeScript errors in the code generated for ${p.name}`).toBe("");
      } finally {
        project.removeSourceFile(sf);
      }
    });
  }
});
