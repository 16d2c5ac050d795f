// Decoding of literal tokens: numbers, durations, time literals, string escapes.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1h30m` → 5_400_000. The grammar guarantees the shape. */
export function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/([0-9_]+)(ms|s|m|h|d)/g)) total += Number(m[1]!.replace(/_/g, "")) * UNIT_MS[m[2]!]!;
  return total;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Strict ISO-8601 (`YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]`, none = UTC) → epoch ms. */
export function isoToMs(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h = "0", mi = "0", s = "0"] = [m[1]!, m[2]!, m[3]!, m[4], m[5], m[6]];
  const frac = m[7] ? Number((m[7] + "00").slice(0, 3)) : 0;
  const Y = +y, M = +mo, D = +d, H = +h, MI = +mi, S = +s;
  if (M < 1 || M > 12 || D < 1 || H > 23 || MI > 59 || S > 59) return undefined;
  const days = new Date(Date.UTC(Y, M, 0)).getUTCDate();
  if (D > days) return undefined;
  let ms = Date.UTC(Y, M - 1, D, H, MI, S, frac);
  if (Y < 100) ms = new Date(ms).setUTCFullYear(Y);
  const z = m[8];
  if (z && z !== "Z") {
    const sign = z[0] === "-" ? -1 : 1;
    const oh = Number(z.slice(1, 3)), om = Number(z.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    ms -= sign * (oh * 60 + om) * 60_000;
  }
  return ms;
}

/** Decodes the body of a string literal (without quotes). Returns the bad escape on failure. */
export function unescapeString(body: string): { value: string } | { badEscape: string; at: number } {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = body[i + 1];
    switch (n) {
      case "n": out += "\n"; i++; break;
      case "t": out += "\t"; i++; break;
      case "r": out += "\r"; i++; break;
      case '"': out += '"'; i++; break;
      case "\\": out += "\\"; i++; break;
      case "u": {
        const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(body.slice(i + 2));
        const cp = m ? parseInt(m[1]!, 16) : NaN;
        if (!m || cp > 0x10ffff) return { badEscape: body.slice(i, i + 2 + (m ? m[0].length : 0)), at: i };
        out += String.fromCodePoint(cp);
        i += 1 + m[0].length;
        break;
      }
      default:
        return { badEscape: "\\" + (n ?? ""), at: i };
    }
  }
  return { value: out };
}
