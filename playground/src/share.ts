// Share links: the program and its sample inputs in the URL's fragment, compressed with
// CompressionStream("deflate-raw") and written as base64url: `#s=<data>`. Nothing is sent to a
// server (the fragment never leaves the browser).

export interface SharedState {
  program: string;
  /** Sample inputs by path as written in the program. */
  files: Record<string, string>;
}

const PREFIX = "s=";

export async function encodeState(state: SharedState): Promise<string> {
  const json = JSON.stringify({ v: 1, p: state.program, f: state.files });
  const bytes = await pipe(new TextEncoder().encode(json), new CompressionStream("deflate-raw"));
  return PREFIX + toBase64Url(bytes);
}

/** The state in a URL fragment (with or without `#`), or undefined if it holds none. */
export async function decodeState(fragment: string): Promise<SharedState | undefined> {
  const f = fragment.startsWith("#") ? fragment.slice(1) : fragment;
  if (!f.startsWith(PREFIX)) return undefined;
  try {
    const bytes = await pipe(fromBase64Url(f.slice(PREFIX.length)), new DecompressionStream("deflate-raw"));
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { v?: number; p?: unknown; f?: unknown };
    if (typeof v.p !== "string") return undefined;
    const files: Record<string, string> = {};
    if (v.f && typeof v.f === "object") for (const [k, x] of Object.entries(v.f)) if (typeof x === "string") files[k] = x;
    return { program: v.p, files };
  } catch {
    return undefined;
  }
}

async function pipe(input: Uint8Array, transform: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const stream = new Blob([input as BlobPart]).stream().pipeThrough(transform as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The fragment is meant as a share link (`#s=…`), whether or not it can be decoded. */
export function isShareLink(fragment: string): boolean {
  return (fragment.startsWith("#") ? fragment.slice(1) : fragment).startsWith(PREFIX);
}
