// The Flow extension for VS Code: the TextMate grammar and language configuration are declared in
// package.json; this starts the language server (`flowc lsp`, over stdio) for .flow files.
// Setting `flow.server.path` names the flowc executable (default: `flowc` on the PATH).
import { workspace, type ExtensionContext } from "vscode";
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: ExtensionContext): Promise<void> {
  const command = workspace.getConfiguration("flow").get<string>("server.path") || "flowc";
  const server: ServerOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const options: LanguageClientOptions = { documentSelector: [{ scheme: "file", language: "flow" }, { scheme: "untitled", language: "flow" }] };
  client = new LanguageClient("flow", "Flow language server", server, options);
  context.subscriptions.push({ dispose: () => void client?.stop() });
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
