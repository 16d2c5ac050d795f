// Generates the VS Code extension's TextMate grammar (editors/vscode/syntaxes/flow.tmLanguage.json)
// from the keyword lists the playground highlights with (compiler/src/service/keywords.ts) and the
// built-ins table (stdlib/src/catalog.ts), so the two editors colour the same words the same way.
// Run by `npm run package:vscode`; test/vscode-grammar.test.ts checks the file is up to date.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { textmateGrammar } from "../editors/vscode/grammar";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "editors", "vscode", "syntaxes", "flow.tmLanguage.json");
writeFileSync(out, JSON.stringify(textmateGrammar(), null, 2) + "\n");
process.stderr.write(`wrote ${out}\n`);
