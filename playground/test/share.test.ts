import { describe, expect, it } from "vitest";
import { decodeState, encodeState, fromBase64Url, toBase64Url } from "../src/share";
import { example } from "./helpers";

describe("share links", () => {
  it("round-trips a program and its inputs through a compressed URL fragment", async () => {
    const ex = example("c10_lookup_table");
    const frag = await encodeState({ program: ex.program, files: ex.files });
    expect(frag).toMatch(/^s=[A-Za-z0-9_-]+$/);
    // Compressed: much shorter than the JSON it holds.
    expect(frag.length).toBeLessThan(JSON.stringify(ex).length * 0.8);
    const back = await decodeState("#" + frag);
    expect(back).toEqual({ program: ex.program, files: ex.files });
  });

  it("keeps any text: unicode, quotes, empty inputs", async () => {
    const state = { program: 'emit x | where s == "naïve 😀 \\"q\\""\n', files: { "a.jsonl": "", "b.csv": "x,y\n1,\"2\"\n" } };
    expect(await decodeState(await encodeState(state))).toEqual(state);
  });

  it("ignores fragments that are not share links, and damaged ones", async () => {
    expect(await decodeState("#c07_late_records")).toBeUndefined();
    expect(await decodeState("")).toBeUndefined();
    expect(await decodeState("#s=!!!")).toBeUndefined();
    expect(await decodeState("#s=" + toBase64Url(new TextEncoder().encode("not deflate")))).toBeUndefined();
  });

  it("base64url has no padding or URL-unsafe characters", () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 13) & 255);
      const s = toBase64Url(bytes);
      expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
      expect([...fromBase64Url(s)]).toEqual([...bytes]);
    }
  });
});
