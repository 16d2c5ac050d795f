// The VS Code extension's TextMate grammar (editors/vscode): generated from the playground's
// keyword lists (up to date here), and tokenizing every fixture with vscode-textmate and
// vscode-oniguruma leaves no token unclassified; every word the playground colours as a keyword,
// type or atom gets a keyword, storage.type or constant.language scope.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as oniguruma from "vscode-oniguruma";
import * as vsctm from "vscode-textmate";
import { textmateGrammar } from "../editors/vscode/grammar";
import { flowTokens } from "../playground/src/lang";
import { ROOT } from "./helpers";

const GRAMMAR_FILE = join(ROOT, "editors/vscode/syntaxes/flow.tmLanguage.json");
let grammar: vsctm.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(join(createRequire(import.meta.url).resolve("vscode-oniguruma"), "..", "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (scope === "source.flow" ? vsctm.parseRawGrammar(readFileSync(GRAMMAR_FILE, "utf8"), GRAMMAR_FILE) : null),
  });
  grammar = (await registry.loadGrammar("source.flow"))!;
});

/** [text, scopes] of every non-blank token of `text`. */
function tokenize(text: string): [string, string[]][] {
  const out: [string, string[]][] = [];
  let stack = vsctm.INITIAL;
  for (const line of text.split("\n")) {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, t.endIndex);
      if (s.trim()) out.push([s, t.scopes]);
    }
    stack = r.ruleStack;
  }
  return out;
}

const fixtures = readdirSync(join(ROOT, "test/fixtures")).map((d) => ({ name: d, text: readFileSync(join(ROOT, "test/fixtures", d, "input.flow"), "utf8") }));

describe("the TextMate grammar", () => {
  it("is generated from the keyword lists (npm run package:vscode regenerates it)", () => {
    expect(readFileSync(GRAMMAR_FILE, "utf8")).toBe(JSON.stringify(textmateGrammar(), null, 2) + "\n");
  });

  it("classifies a sample", () => {
    const toks = tokenize('source bids: Bid = file("b.jsonl") event time t // c\nemit bids | where price > 1_000 and upper(x) == "A" | window tumbling(10s)');
    const scope = (text: string) => toks.find(([s]) => s === text)?.[1].at(-1);
    expect(scope("source")).toBe("keyword.declaration.flow");
    expect(scope("where")).toBe("keyword.control.stage.flow");
    expect(scope("and")).toBe("keyword.other.flow");
    expect(scope("upper")).toBe("support.function.builtin.flow");
    expect(scope("Bid")).toBe("entity.name.type.flow");
    expect(scope("price")).toBe("variable.other.flow");
    expect(scope("1_000")).toBe("constant.numeric.flow");
    expect(scope("10s")).toBe("constant.numeric.duration.flow");
    expect(scope("// c")).toBe("comment.line.double-slash.flow");
  });

  for (const f of fixtures) {
    it(`tokenizes ${f.name}: nothing unclassified, keywords as the playground colours them`, () => {
      const toks = tokenize(f.text);
      const bare = toks.filter(([, scopes]) => scopes.length < 2).map(([s]) => s);
      expect(bare).toEqual([]);
      const keywordScopes = toks.filter(([, scopes]) => /^(keyword|storage\.type|constant\.language)/.test(scopes.at(-1)!)).map(([s]) => s.trim());
      const playgroundKeywords = flowTokens(f.text).filter(([s, style]) => /^[a-z]+$/.test(s) && (style === "keyword" || style === "atom" || style === "typeName" && /^[a-z]/.test(s)));
      // Counted: each keyword the playground colours is one TextMate keyword token.
      const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
      const have = count(keywordScopes);
      const missing = [...count(playgroundKeywords.map(([s]) => s))].filter(([w, n]) => (have.get(w) ?? 0) < n).map(([w]) => w);
      expect(missing).toEqual([]);
    });
  }
});
