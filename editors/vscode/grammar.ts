// The TextMate grammar of Flow, built from the playground's keyword lists
// (compiler/src/service/keywords.ts) and the built-ins table: scripts/gen-textmate.ts writes it to
// syntaxes/flow.tmLanguage.json.
import { ATOMS, DECL_WORDS, OTHER_WORDS, STAGE_WORDS, TYPE_WORDS } from "../../compiler/src/service/keywords";
import { AGGREGATE_FUNCTIONS, BUILTIN_FUNCTIONS } from "../../stdlib/src/catalog";

const words = (set: Iterable<string>) => `\\b(?:${[...set].sort((a, b) => b.length - a.length || a.localeCompare(b)).join("|")})\\b`;

export function textmateGrammar(): object {
  const builtins = [...new Set([...BUILTIN_FUNCTIONS.map((f) => f.name), ...AGGREGATE_FUNCTIONS.map((a) => a.name), "lag"])];
  return {
    $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
    name: "Flow",
    scopeName: "source.flow",
    fileTypes: ["flow"],
    patterns: [{ include: "#comments" }, { include: "#strings" }, { include: "#literals" }, { include: "#keywords" }, { include: "#calls" }, { include: "#names" }, { include: "#operators" }, { include: "#punctuation" }],
    repository: {
      comments: {
        patterns: [
          { name: "comment.line.double-slash.flow", match: "//.*$" },
          { name: "comment.block.flow", begin: "/\\*", end: "\\*/" },
        ],
      },
      strings: {
        name: "string.quoted.double.flow",
        begin: '"',
        end: '"|$',
        patterns: [{ name: "constant.character.escape.flow", match: "\\\\(?:u\\{[0-9A-Fa-f]+\\}|.)" }],
      },
      literals: {
        patterns: [
          { name: "constant.other.time.flow", match: "@[A-Za-z0-9:.+\\-]+" },
          { name: "constant.numeric.duration.flow", match: "\\b(?:\\d+(?:_\\d+)*(?:ms|s|m|h|d))+\\b" },
          { name: "constant.numeric.flow", match: "\\b\\d+(?:_\\d+)*(?:\\.\\d+(?:_\\d+)*)?(?:[eE][+-]?\\d+)?\\b" },
        ],
      },
      keywords: {
        patterns: [
          { name: "keyword.declaration.flow", match: words(DECL_WORDS) },
          { name: "keyword.control.stage.flow", match: words(STAGE_WORDS) },
          { name: "keyword.other.flow", match: words(OTHER_WORDS) },
          { name: "constant.language.flow", match: words(ATOMS) },
          { name: "storage.type.flow", match: words(TYPE_WORDS) },
        ],
      },
      calls: {
        patterns: [
          { name: "support.function.builtin.flow", match: `${words(builtins)}(?=\\s*\\()` },
          { name: "entity.name.function.flow", match: "\\b[A-Za-z_][A-Za-z0-9_]*(?=\\s*\\()" },
        ],
      },
      names: {
        patterns: [
          { name: "variable.other.quoted.flow", match: "`[^`\\n]*`" },
          { name: "entity.name.type.flow", match: "\\b[A-Z][A-Za-z0-9_]*\\b" },
          { name: "variable.other.flow", match: "\\b[A-Za-z_][A-Za-z0-9_]*\\b" },
        ],
      },
      operators: {
        patterns: [
          { name: "keyword.operator.pipe.flow", match: "\\|" },
          { name: "keyword.operator.arrow.flow", match: "->" },
          { name: "keyword.operator.flow", match: "==|!=|<=|>=|\\?\\?|\\.\\.|[<>=+\\-*/%?]" },
        ],
      },
      punctuation: {
        patterns: [{ name: "punctuation.separator.flow", match: "[,:.]" }, { name: "punctuation.bracket.flow", match: "[()\\[\\]{}]" }],
      },
    },
  };
}
