// `flowc playground`: serves the built playground (playground/dist) on 127.0.0.1.
import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, resolve, isAbsolute } from "node:path";
import { packageRoot } from "./bundle";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json", ".png": "image/png", ".map": "application/json",
};

export function playgroundDir(): string {
  return join(packageRoot(), "playground", "dist");
}

/**
 * The file under `root` a request path names, "bad" for a path that cannot be decoded or holds
 * a NUL, or undefined for one that would leave `root` (`..`, encoded or not, or an absolute
 * path after decoding). Any web page can make the browser send any path to 127.0.0.1, so
 * nothing a request holds may throw or reach outside the site.
 */
export function resolveRequestPath(root: string, rawUrl: string): string | "bad" | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(rawUrl, "http://x").pathname);
  } catch {
    return "bad";
  }
  if (pathname.includes("\0")) return "bad";
  if (pathname.endsWith("/")) pathname += "index.html";
  const base = resolve(root);
  const file = resolve(base, "." + (pathname.startsWith("/") ? pathname : "/" + pathname));
  const rel = relative(base, file);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return file;
}

/**
 * The repository's guides the page links to (`docs/language.md`, `README.md#using-flowc`): a
 * static host serves them beside the site; `flowc playground` serves them from the package, as
 * plain text (browsers show it rather than download it). Only `README.md` and `docs/*.md`.
 */
export function docFile(packageDir: string, rawUrl: string): string | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(rawUrl, "http://x").pathname);
  } catch {
    return undefined;
  }
  if (pathname === "/README.md") return join(packageDir, "README.md");
  const m = /^\/docs\/([A-Za-z0-9_-]+\.md)$/.exec(pathname);
  return m ? join(packageDir, "docs", m[1]!) : undefined;
}

export async function servePlayground(port: number, host = "127.0.0.1"): Promise<{ url: string; close(): Promise<void> }> {
  const root = playgroundDir();
  if (!existsSync(join(root, "index.html"))) throw new Error(`the playground is not built (${root}); run \`npm run build\``);
  const server = createServer((req, res) => {
    try {
      const file = resolveRequestPath(root, req.url ?? "/");
      if (file === "bad") {
        res.writeHead(400, { "content-type": "text/plain" }).end("bad request");
        return;
      }
      const doc = file === undefined || !existsSync(file) ? docFile(packageRoot(), req.url ?? "/") : undefined;
      if (doc !== undefined && existsSync(doc)) {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" });
        res.end(readFileSync(doc));
        return;
      }
      if (file === undefined || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(readFileSync(file));
    } catch {
      // Whatever else goes wrong (a file removed by a rebuild meanwhile): answer, keep serving.
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("server error");
    }
  });
  // A malformed request line (not even HTTP) must not take the server down either.
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((ok, fail) => server.once("error", fail).listen(port, host, ok));
  const addr = server.address();
  const url = `http://${host}:${typeof addr === "object" && addr ? addr.port : port}/`;
  process.stderr.write(`flowc playground: ${url}\n`);
  return { url, close: () => new Promise((ok) => server.close(() => ok())) };
}
