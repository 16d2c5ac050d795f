// Imported TypeScript functions: ts-morph reads their declared signatures so the checker can
// type calls to them. ts-morph costs ~220 ms to load, so it is imported only for programs that
// have an `import` declaration.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { diag, type Diagnostic } from "../diagnostics/catalogue";
import type { ExternSignature } from "../check/typed";
import { T, type Type } from "../check/types";

const IMPORT = /^[ \t]*import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/gm;

export async function resolveExterns(source: string, dir: string): Promise<{ signatures?: Map<string, ExternSignature>; diagnostics: Diagnostic[] }> {
  const imports = [...source.matchAll(IMPORT)];
  if (imports.length === 0) return { signatures: new Map(), diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const signatures = new Map<string, ExternSignature>();
  const { Project } = await import("ts-morph");
  // Only declared signatures are read: no default library (loading it costs ~300 ms), no
  // dependency resolution.
  const project = new Project({ compilerOptions: { strict: true, noLib: true, types: [] }, skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true });
  for (const m of imports) {
    const from = m[2]!;
    const at = m.index! + m[0].indexOf(from);
    const span = { start: at, end: at + from.length };
    const path = resolve(dir, from);
    if (!existsSync(path)) {
      diagnostics.push(diag("E0413", { path: from }, span, { hint: "the path is relative to the .flow file" }));
      continue;
    }
    const file = project.addSourceFileAtPath(path);
    const namesAt = m.index! + m[0].indexOf("{") + 1;
    let offset = 0;
    for (const raw of m[1]!.split(",")) {
      const name = raw.trim();
      const nameAt = namesAt + offset + raw.indexOf(name);
      offset += raw.length + 1;
      if (!name) continue;
      const nameSpan = { start: nameAt, end: nameAt + name.length };
      const fn = file.getFunction(name);
      if (!fn || !fn.isExported()) {
        diagnostics.push(diag("E0112", { name, from }, nameSpan, { hint: "export a function with typed parameters, e.g. `export function f(x: number): number`" }));
        continue;
      }
      const params: Type[] = [];
      let ok = true;
      for (const p of fn.getParameters()) {
        const t = flowType(p.getType().getText(p));
        if (!t) {
          diagnostics.push(diag("E0414", { name, param: p.getName(), type: p.getType().getText(p) }, nameSpan, { hint: "use number, string, boolean, arrays of them or `| null`" }));
          ok = false;
        } else params.push(t);
      }
      const result = flowType(fn.getReturnType().getText(fn));
      if (!result) {
        diagnostics.push(diag("E0415", { name, type: fn.getReturnType().getText(fn) }, nameSpan));
        ok = false;
      }
      if (ok) signatures.set(name, { params, result: result! });
    }
  }
  return { signatures, diagnostics };
}

/** TypeScript type text → Flow type. `number` is float (an int widens to it). */
function flowType(text: string): Type | undefined {
  text = text.trim();
  const parts = text.split("|").map((s) => s.trim());
  if (parts.length > 1 && parts.includes("null")) {
    const inner = flowType(parts.filter((p) => p !== "null" && p !== "undefined").join(" | "));
    return inner && T.optional(inner);
  }
  if (text === "number") return T.float;
  if (text === "string") return T.string;
  if (text === "boolean") return T.bool;
  const arr = /^(.*)\[\]$/.exec(text) ?? /^Array<(.*)>$/.exec(text);
  if (arr) {
    const e = flowType(arr[1]!);
    return e && T.array(e);
  }
  return undefined;
}
