// The hostile inputs of robustness-basics.stress.test.ts and robustness.stress.test.ts, and the checks each gets:
// diagnostics or success — no exception, no internal error — both from compile() and from
// `flowc check` (exit 0 or 1, never 70).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import { renderDiagnostics } from "../compiler/src/diagnostics/render";
import { ensureCli, flowc, TMP } from "./helpers";

/** Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced. */
function garbage(n: number, seed = 12345): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** ~1 MB: a chain of 10,000 `let`s, each reading the previous one (deep graph, long file). */
function megabyteProgram(): string {
  const lines = ["source src: int = range(0, 10)"];
  for (let i = 0; i < 10_000; i++) {
    const code = `let s${i} = ${i === 0 ? "src" : `s${i - 1}`} | where it != ${i}`;
    lines.push(`${code} // ${"x".repeat(Math.max(0, 96 - code.length))}`);
  }
  lines.push("emit s9999");
  return lines.join("\n") + "\n";
}

export const CASES: Record<string, string | Buffer> = {
  empty: "",
  whitespace: " \n\t\r\n  // only a comment\n/* and a block */\n",
  garbage: garbage(64 * 1024),
  nul_bytes: Buffer.alloc(1000),
  invalid_utf8: Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc]),
  parens_10000: `source n: int = range(0, 3)\nemit n | map ${"(".repeat(10_000)}it${")".repeat(10_000)}\n`,
  unclosed_parens_10000: `source n: int = range(0, 3)\nemit n | map ${"(".repeat(10_000)}it\n`,
  brackets_mixed: `source n: int = range(0, 3)\nemit n | map ${"[{(".repeat(3000)}\n`,
  long_operator_chain: `source n: int = range(0, 3)\nemit n | map ${Array.from({ length: 3000 }, () => "it").join(" + ")}\n`,
  many_unary: `source n: int = range(0, 3)\nemit n | map ${"-".repeat(5000)}it\n`,
  not_chain: `source n: int = range(0, 3)\nemit n | where ${"not ".repeat(5000)}true\n`,
  many_stages: `source n: int = range(0, 3)\nemit n${" | where it > 0".repeat(3000)}\n`,
  long_line: `source n: int = range(0, 3)\nemit n | where it > 0 ${"and it > 0 ".repeat(200)}| select x = "${"y".repeat(100_000)}"\n`,
  unterminated_comment: `source n: int = range(0, 3)\n/* never closed\nemit n\n`,
  unterminated_everything: '"`/*(\n[{@\\',
  many_broken_decls: Array.from({ length: 500 }, (_, i) => `let x${i} = n | where ) ${i}`).join("\n"),
  many_errors: `source n: int = range(0, 3)\n${Array.from({ length: 2000 }, (_, i) => `emit n | where nope${i} > 0`).join("\n")}\n`,
  megabyte: megabyteProgram(),
};

export const text = (v: string | Buffer) => (typeof v === "string" ? v : v.toString("utf8"));

/** The cases that take seconds each (the megabyte program most): in `npm run test:stress` only. */
export const SLOW = new Set(["long_operator_chain", "many_stages", "long_line", "many_errors", "megabyte"]);

/** The robustness tests of the named cases. */
export function robustness(title: string, names: string[]): void {
  describe(title, () => {
    beforeAll(() => {
      mkdirSync(join(TMP, "robust"), { recursive: true });
      for (const name of names) writeFileSync(join(TMP, "robust", `${name}.flow`), CASES[name]!);
      ensureCli();
    });

    if (names.includes("megabyte")) {
      it("the megabyte program is a megabyte", () => {
        expect(text(CASES.megabyte!).length).toBeGreaterThan(1_000_000);
      });
    }

    for (const name of names) {
      const content = CASES[name]!;
      it(`compile(): ${name}`, { timeout: 240_000 }, () => {
        const src = text(content);
        // The CLI check runs alongside (a child process), so slow cases cost their time once.
        const cli = flowc(["check", join(TMP, "robust", `${name}.flow`)], { timeoutMs: 230_000 });
        let r: ReturnType<typeof compile> | undefined;
        expect(() => (r = compile(src, { file: `${name}.flow` }))).not.toThrow();
        expect(r!.diagnostics.filter((d) => d.code === "E9999").map((d) => d.message)).toEqual([]);
        for (const d of r!.diagnostics) {
          expect(d.span.start).toBeGreaterThanOrEqual(0);
          expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
          expect(d.span.end).toBeLessThanOrEqual(src.length);
        }
        expect(() => renderDiagnostics(r!.diagnostics, `${name}.flow`, src)).not.toThrow();
        if (r!.ok) expect(r!.typescript).toBeDefined();
        // A long chain of valid `let`s is a valid program (it once overflowed the stack in the optimizer).
        if (name === "megabyte") expect(r!.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
        return cli.then((c) => {
          expect(c.stderr).not.toMatch(/internal error/);
          expect([0, 1], `flowc check exited ${c.code}\n${c.stderr.slice(0, 2000)}`).toContain(c.code);
          expect(c.code).toBe(r!.ok ? 0 : 1);
        });
      });
    }
  });
}
