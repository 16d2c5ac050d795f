// The catalogue has one code per situation: no catch-all entries that print whatever text the
// caller passes, and every code the checker reports is defined exactly once.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { catalogue, type Code } from "./catalogue";

const read = (rel: string) => readFileSync(fileURLToPath(new URL(rel, import.meta.url)), "utf8");
const SOURCE = read("./catalogue.ts");
const CHECK = read("../check/check.ts");

/** Free text is allowed only for syntax errors (the parser's own wording) and internal errors. */
const FREE_TEXT = new Set(["E0001", "E9999"]);

/** code → the names of its parameters, read from `entry<{ a: …; b: … }>` in the source. */
const params = new Map<string, string[]>();
for (const m of SOURCE.matchAll(/^\s*([EW]\d{4}): entry(?:<\{([^}]*)\}>)?\(/gm)) {
  const names = (m[2] ?? "").split(";").map((p) => p.split(":")[0]!.trim()).filter(Boolean);
  params.set(m[1]!, names);
}

describe("diagnostic catalogue", () => {
  it("the source parse sees every entry", () => {
    expect([...params.keys()].sort()).toEqual(Object.keys(catalogue).sort());
  });

  it("no entry takes a free-text `text` parameter except E0001 and E9999", () => {
    const offenders = [...params].filter(([code, ps]) => ps.includes("text") && !FREE_TEXT.has(code)).map(([code]) => code);
    expect(offenders).toEqual([]);
  });

  it("no message is just one of its parameters (a catch-all under another name)", () => {
    const offenders: string[] = [];
    for (const [code, e] of Object.entries(catalogue)) {
      if (FREE_TEXT.has(code)) continue;
      const names = params.get(code) ?? [];
      const p = Object.fromEntries(names.map((n) => [n, `‹${n}›`]));
      const message = (e.message as (p: unknown) => string)(p);
      if (names.some((n) => message.trim() === `‹${n}›`)) offenders.push(code);
    }
    expect(offenders).toEqual([]);
  });

  it("codes are well-formed and each is defined once", () => {
    for (const code of Object.keys(catalogue)) {
      expect(code).toMatch(/^[EW]\d{4}$/);
      expect(SOURCE.match(new RegExp(`^\\s*${code}:`, "gm"))?.length, code).toBe(1);
    }
  });

  it("every code used in check.ts exists in the catalogue", () => {
    const used = new Set([...CHECK.matchAll(/\b(?:report|diag)\(\s*"([A-Z]\d{4})"/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(40);
    const missing = [...used].filter((c) => !(c in catalogue));
    expect(missing).toEqual([]);
    for (const c of used) expect(catalogue[c as Code].severity).toMatch(/^(error|warning)$/);
  });

  it("warnings are W codes and errors are E codes", () => {
    for (const [code, e] of Object.entries(catalogue)) expect(code[0], code).toBe(e.severity === "warning" ? "W" : "E");
  });
});
