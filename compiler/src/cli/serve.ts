// `flowc playground`: serves the built playground (playground/dist) on 127.0.0.1.
import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { packageRoot } from "./bundle";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json", ".png": "image/png", ".map": "application/json",
};

export function playgroundDir(): string {
  return join(packageRoot(), "playground", "dist");
}

export async function servePlayground(port: number, host = "127.0.0.1"): Promise<{ url: string; close(): Promise<void> }> {
  const root = playgroundDir();
  if (!existsSync(join(root, "index.html"))) throw new Error(`the playground is not built (${root}); run \`npm run build\``);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    let path = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, "");
    if (path.endsWith("/")) path += "index.html";
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok, fail) => server.once("error", fail).listen(port, host, ok));
  const addr = server.address();
  const url = `http://${host}:${typeof addr === "object" && addr ? addr.port : port}/`;
  process.stderr.write(`flowc playground: ${url}\n`);
  return { url, close: () => new Promise((ok) => server.close(() => ok())) };
}
