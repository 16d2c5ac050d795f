// Names of generated members that say what a node does: `bids` (a source), `filterBids` (a
// chain of `where`s over bids), `windowAggBids`, `intervalJoinBidsAuctions`, `emitTop`. The
// emitter adds a suffix per member kind and the node id (`filterBids_n3`, `windowAggBids_op4`),
// so names stay unique and the id leads back to the graph (`flowc graph`).
import type { Node, NodeId } from "../ir/graph";
import { aggOperator } from "./aggregates";

/** A name part from any text: letters and digits only, first letter as given. */
function part(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join("");
}

const capital = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** What a node does, as a verb-like prefix. */
function verb(n: Node): string {
  switch (n.kind) {
    case "source":
      return "";
    case "chain": {
      const kinds = new Set(n.ops.map((o) => (o.kind === "project" ? o.what : o.kind)));
      if (kinds.size === 1 && kinds.has("where")) return "filter";
      if (kinds.size === 1) return [...kinds][0] === "select" ? "select" : [...kinds][0]!;
      return "chain";
    }
    case "agg":
      return aggOperator(n.window);
    case "rolling":
      return "rolling";
    case "top":
      return "top";
    case "distinct":
      return "distinct";
    case "join":
      // Inner joins keep their names; a §13 join says its kind (`leftJoin`, `windowAntiJoin`).
      if (n.joinKind === "inner") return n.mode.kind === "window" ? "windowJoin" : "intervalJoin";
      return n.mode.kind === "window" ? `window${n.joinKind[0]!.toUpperCase()}${n.joinKind.slice(1)}Join` : `${n.joinKind}Join`;
    case "union":
      return "union";
    case "output":
      return "emit";
  }
}

/** Member name bases of every node: the verb, then the sources it reads (or the output's name). */
export function memberNames(order: Node[]): Map<NodeId, string> {
  const subjects = new Map<NodeId, string[]>();
  const names = new Map<NodeId, string>();
  for (const n of order) {
    let subject: string[];
    if (n.kind === "source") subject = [n.decl.name];
    else if (n.kind === "union") subject = n.inputs.flatMap((i) => subjects.get(i) ?? []);
    else if (n.kind === "join") subject = [...(subjects.get(n.left) ?? []), ...(subjects.get(n.right) ?? [])];
    else subject = subjects.get(n.input) ?? [];
    subject = [...new Set(subject)].slice(0, 2);
    subjects.set(n.id, subject);
    const v = verb(n);
    const what = n.kind === "output" ? [n.decl.name] : subject;
    const base = v + what.map((s) => (v ? capital(part(s)) : part(s))).join("");
    names.set(n.id, (/^[A-Za-z_]/.test(base) ? base : `node${base}`) || "node");
  }
  return names;
}
