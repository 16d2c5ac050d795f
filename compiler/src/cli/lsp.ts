// `flowc lsp`: the Flow language server over stdio, on vscode-languageserver. Everything it
// answers comes from the browser-safe language service (compiler/src/service/service.ts); this
// file only translates between LSP positions and the service's UTF-16 offsets. Documents sync
// incrementally, and each change reparses incrementally (IncrementalParser) and re-checks.
import {
  CompletionItemKind,
  DiagnosticSeverity,
  ProposedFeatures,
  SymbolKind,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
  type Diagnostic as LspDiagnostic,
  type DocumentSymbol,
  type InitializeResult,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveExterns } from "./externs";
import { FlowDocument, type DocSymbol } from "../service/service";
import type { Diagnostic } from "../diagnostics/catalogue";
import type { Span } from "../syntax/ast";

const COMPLETION_KINDS: Record<string, CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword,
  property: CompletionItemKind.Field,
  function: CompletionItemKind.Function,
  variable: CompletionItemKind.Variable,
  type: CompletionItemKind.TypeParameter,
  constant: CompletionItemKind.Constant,
};

const SYMBOL_KINDS: Record<DocSymbol["kind"], SymbolKind> = {
  type: SymbolKind.Struct,
  source: SymbolKind.Event,
  table: SymbolKind.Object,
  let: SymbolKind.Variable,
  emit: SymbolKind.Interface,
  fn: SymbolKind.Function,
  import: SymbolKind.Function,
  test: SymbolKind.Method,
  field: SymbolKind.Field,
};

/** Serves the protocol on stdin/stdout until the client exits; resolves with the exit code. */
export function startLanguageServer(): Promise<number> {
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  const documents = new TextDocuments(TextDocument);
  const flows = new Map<string, FlowDocument>();

  const flowOf = (doc: TextDocument): FlowDocument => {
    let f = flows.get(doc.uri);
    const text = doc.getText();
    if (!f) flows.set(doc.uri, (f = new FlowDocument(text)));
    else if (f.source !== text) f.update(text);
    return f;
  };
  const range = (doc: TextDocument, span: Span) => ({ start: doc.positionAt(span.start), end: doc.positionAt(span.end) });

  const toLsp = (doc: TextDocument, d: Diagnostic): LspDiagnostic => ({
    range: range(doc, d.span),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "flowc",
    message: [d.message, d.label, d.hint ? `help: ${d.hint}` : undefined].filter((x) => x).join("\n"),
    relatedInformation: d.notes.filter((n) => n.span).map((n) => ({ location: { uri: doc.uri, range: range(doc, n.span!) }, message: n.message })),
  });

  const send = (doc: TextDocument, f: FlowDocument) => void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: f.diagnostics().map((d) => toLsp(doc, d)) });
  // TypeScript imports are read as `flowc check` reads them (ts-morph, ~0.3 s): again only when
  // the import lines change; meanwhile the last signatures stand.
  const importKeys = new Map<string, string>();
  const resolveImports = (doc: TextDocument, f: FlowDocument) => {
    const text = doc.getText();
    const imports = [...text.matchAll(/^[ \t]*import\s*\{[^}]*\}\s*from\s*"[^"]*"/gm)].map((m) => `${m.index}:${m[0]}`);
    const key = imports.join("\n");
    if (importKeys.get(doc.uri) === key) return;
    importKeys.set(doc.uri, key);
    if (imports.length === 0) {
      f.setExterns(undefined);
      return;
    }
    if (!doc.uri.startsWith("file:")) return; // an unsaved buffer has no folder to resolve from
    void resolveExterns(text, dirname(fileURLToPath(doc.uri))).then(
      (r) => {
        const current = documents.get(doc.uri);
        if (!current || importKeys.get(doc.uri) !== key) return;
        const flow = flowOf(current);
        flow.setExterns(r.signatures, r.diagnostics);
        send(current, flow);
      },
      () => {},
    );
  };
  const publish = (doc: TextDocument) => {
    const f = flowOf(doc);
    resolveImports(doc, f);
    send(doc, f);
  };

  connection.onInitialize(
    (): InitializeResult => ({
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ["|", ".", " ", "("] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        signatureHelpProvider: { triggerCharacters: ["(", ","] },
      },
      serverInfo: { name: "flowc" },
    }),
  );

  // TextDocuments fires onDidChangeContent on open too, so this one handler publishes once per
  // version (a second publication for the same version would race a client's next edit).
  documents.onDidChangeContent((e) => publish(e.document));
  documents.onDidClose((e) => {
    flows.delete(e.document.uri);
    importKeys.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  const withDoc = <T>(uri: string, f: (doc: TextDocument, flow: FlowDocument) => T): T | null => {
    const doc = documents.get(uri);
    return doc ? f(doc, flowOf(doc)) : null;
  };

  connection.onHover((p) =>
    withDoc(p.textDocument.uri, (doc, flow) => {
      const h = flow.hover(doc.offsetAt(p.position));
      return h ? { contents: { kind: "markdown" as const, value: h.text }, range: range(doc, h.span) } : null;
    }),
  );
  connection.onCompletion((p) =>
    withDoc(p.textDocument.uri, (doc, flow) =>
      flow.completions(doc.offsetAt(p.position)).map((c) => ({
        label: c.label,
        kind: COMPLETION_KINDS[c.type],
        ...(c.detail !== undefined && { detail: c.detail }),
        ...(c.info !== undefined && { documentation: c.info }),
        ...(c.apply !== undefined && { insertText: c.apply }),
        ...(c.boost !== undefined && { sortText: String(10 - c.boost).padStart(2, "0") + c.label }),
      })),
    ) ?? [],
  );
  connection.onDefinition((p) =>
    withDoc(p.textDocument.uri, (doc, flow) => {
      const s = flow.definition(doc.offsetAt(p.position));
      return s ? { uri: doc.uri, range: range(doc, s) } : null;
    }),
  );
  connection.onReferences((p) => withDoc(p.textDocument.uri, (doc, flow) => flow.references(doc.offsetAt(p.position), p.context.includeDeclaration).map((s) => ({ uri: doc.uri, range: range(doc, s) }))) ?? []);
  connection.onPrepareRename((p) =>
    withDoc(p.textDocument.uri, (doc, flow) => {
      const s = flow.renameTarget(doc.offsetAt(p.position));
      return s ? range(doc, s) : null;
    }),
  );
  connection.onRenameRequest((p) =>
    withDoc(p.textDocument.uri, (doc, flow) => {
      const r = flow.rename(doc.offsetAt(p.position), p.newName);
      return r ? { changes: { [doc.uri]: r.spans.map((s) => ({ range: range(doc, s), newText: r.text })) } } : null;
    }),
  );
  const symbol = (doc: TextDocument, s: DocSymbol): DocumentSymbol => ({
    name: s.name,
    kind: SYMBOL_KINDS[s.kind],
    ...(s.detail !== undefined && { detail: s.detail }),
    range: range(doc, s.span),
    selectionRange: range(doc, s.selection),
    children: s.children.map((c) => symbol(doc, c)),
  });
  connection.onDocumentSymbol((p) => withDoc(p.textDocument.uri, (doc, flow) => flow.symbols().map((s) => symbol(doc, s))) ?? []);
  connection.onDocumentFormatting((p) =>
    withDoc(p.textDocument.uri, (doc, flow) => {
      const text = flow.formatted();
      if (text === undefined || text === doc.getText()) return [];
      return [{ range: { start: doc.positionAt(0), end: doc.positionAt(doc.getText().length) }, newText: text }];
    }) ?? [],
  );
  connection.onSignatureHelp((p) =>
    withDoc(p.textDocument.uri, (doc, flow) => {
      const s = flow.signatureHelp(doc.offsetAt(p.position));
      if (!s) return null;
      return { signatures: [{ label: s.label, ...(s.doc && { documentation: s.doc }), parameters: s.params.map((label) => ({ label })) }], activeSignature: 0, activeParameter: s.active };
    }),
  );

  documents.listen(connection);
  connection.listen();
  return new Promise<number>((resolve) => {
    connection.onExit(() => resolve(0));
    process.stdin.on("end", () => resolve(0));
  });
}
