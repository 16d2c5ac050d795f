// Flow syntax highlighting for CodeMirror 6: a small stream tokenizer (the real parser is ohm, in
// the compiler; this only colours). `flowTokens` is exported for the unit tests.
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StreamParser } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";
import { ATOMS, DECL_WORDS, OTHER_WORDS, STAGE_WORDS, TYPE_WORDS } from "../../compiler/src/service/keywords";

// The word lists are shared with the VS Code extension's TextMate grammar.
export { ATOMS, DECL_WORDS, OTHER_WORDS, STAGE_WORDS, TYPE_WORDS };

interface State {
  inComment: boolean;
  /** The previous significant token (to tell `time` the type from `event time`). */
  prev: string;
}

export const flowParser: StreamParser<State> = {
  name: "flow",
  startState: () => ({ inComment: false, prev: "" }),
  copyState: (s) => ({ ...s }),
  token(stream, state) {
    if (!state.inComment && stream.eatSpace()) return null;
    if (stream.match("//")) {
      stream.skipToEnd();
      return "comment";
    }
    if (state.inComment || stream.match("/*")) {
      if (stream.skipTo("*/")) {
        stream.pos += 2;
        state.inComment = false;
      } else {
        stream.skipToEnd();
        state.inComment = true;
      }
      return "comment";
    }
    const tok = (style: string | null, text: string) => {
      state.prev = text;
      return style;
    };
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return tok("string", "str");
    if (stream.match(/^`[^`]*`?/)) return tok("variableName", "name");
    if (stream.match(/^@\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?/)) return tok("number", "lit");
    if (stream.match(/^\d[\d_]*(?:(?:ms|s|m|h|d)(?:\d[\d_]*(?:ms|s|m|h|d))*)(?![A-Za-z0-9_])/)) return tok("number", "lit");
    if (stream.match(/^\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?/)) return tok("number", "lit");
    if (stream.match("|")) return tok("keyword", "|");
    if (stream.match(/^(?:==|!=|<=|>=|\?\?|->|\.\.|[-+*/%<>=])/)) return tok("operator", "op");
    const w = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (w) {
      const word = w[0];
      const prev = state.prev;
      if (DECL_WORDS.has(word)) return tok("keyword", word);
      if (word === "time" && prev === "event") return tok("keyword", word);
      if (STAGE_WORDS.has(word) && (prev === "|" || (word === "by" && (prev === "group" || /^\d/.test(prev) || prev === "top")))) return tok("keyword", word);
      if (TYPE_WORDS.has(word) && (prev === ":" || prev === "[")) return tok("typeName", word);
      if (word === "by" || OTHER_WORDS.has(word)) return tok("keyword", word);
      if (ATOMS.has(word)) return tok("atom", word);
      if (/^[A-Z]/.test(word)) return tok("typeName", word);
      if (stream.match(/^\s*\(/, false)) return tok("variableName.function", word);
      return tok(prev === "." ? "propertyName" : "variableName", word);
    }
    const c = stream.next() ?? "";
    return tok(/[()[\]{}]/.test(c) ? "bracket" : "punctuation", c);
  },
  languageData: { commentTokens: { line: "//", block: { open: "/*", close: "*/" } } },
};

export const flowLanguage = StreamLanguage.define(flowParser);

export const flowHighlight = HighlightStyle.define([
  { tag: t.keyword, color: "#7c3aed", fontWeight: "600" },
  { tag: t.comment, color: "#64748b", fontStyle: "italic" },
  { tag: t.string, color: "#0f766e" },
  { tag: t.number, color: "#c2410c" },
  { tag: t.atom, color: "#b45309" },
  { tag: t.typeName, color: "#0369a1" },
  { tag: t.function(t.variableName), color: "#1d4ed8" },
  { tag: t.propertyName, color: "#334155" },
  { tag: t.operator, color: "#9333ea" },
  { tag: t.variableName, color: "#0f172a" },
]);

export const flowSyntax = [flowLanguage, syntaxHighlighting(flowHighlight)];

/** Tokenizes text line by line with the stream parser: [text, style] pairs (for tests). */
export function flowTokens(text: string): [string, string | null][] {
  const state = flowParser.startState!(2);
  const out: [string, string | null][] = [];
  for (const line of text.split("\n")) {
    const stream = new LineStream(line);
    while (stream.pos < line.length) {
      stream.start = stream.pos;
      const style = flowParser.token(stream as never, state);
      if (stream.pos === stream.start) stream.pos++;
      const s = line.slice(stream.start, stream.pos);
      if (s.trim()) out.push([s, style]);
    }
  }
  return out;
}

/** The part of CodeMirror's StringStream the tokenizer uses. */
class LineStream {
  pos = 0;
  start = 0;
  constructor(readonly string: string) {}
  eatSpace() {
    const s = this.pos;
    while (this.pos < this.string.length && /\s/.test(this.string[this.pos]!)) this.pos++;
    return this.pos > s;
  }
  skipToEnd() {
    this.pos = this.string.length;
  }
  skipTo(ch: string) {
    const i = this.string.indexOf(ch, this.pos);
    if (i >= 0) {
      this.pos = i;
      return true;
    }
    return false;
  }
  next() {
    return this.pos < this.string.length ? this.string[this.pos++] : undefined;
  }
  match(p: string | RegExp, consume = true) {
    if (typeof p === "string") {
      const ok = this.string.startsWith(p, this.pos);
      if (ok && consume) this.pos += p.length;
      return ok;
    }
    const m = p.exec(this.string.slice(this.pos));
    if (!m || m.index > 0) return null;
    if (consume) this.pos += m[0].length;
    return m;
  }
}
