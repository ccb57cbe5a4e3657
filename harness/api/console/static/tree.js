// The snapshot tree as an SVG picture: one row per snapshot in depth-first order (oldest
// child first), a branch drawn from each parent to its children, the current one ringed.
import { s } from "./dom.js";

const ROW = 30;
const INDENT = 26;
const PAD = 16;

// Depth-first order of the snapshots (as listVMSnapshot lists them, newest first) with their
// depth; orphans (parent not listed) are roots.
export function layout(snaps) {
  const byId = new Map(snaps.map((x) => [x.id, x]));
  const children = new Map();
  const roots = [];
  // Oldest first; within one second (the dates' precision), the API's order: newest first.
  const byAge = snaps.map((snap, i) => [snap, i])
    .sort(([a, i], [b, j]) => String(a.created).localeCompare(String(b.created)) || j - i)
    .map(([snap]) => snap);
  for (const snap of byAge) {
    if (snap.parent && byId.has(snap.parent)) {
      if (!children.has(snap.parent)) children.set(snap.parent, []);
      children.get(snap.parent).push(snap);
    } else {
      roots.push(snap);
    }
  }
  const rows = [];
  const stack = roots.reverse().map((snap) => [snap, 0]);
  while (stack.length) {
    const [snap, depth] = stack.pop();
    rows.push({ snap, depth, row: rows.length });
    for (const child of [...(children.get(snap.id) || [])].reverse()) stack.push([child, depth + 1]);
  }
  return rows;
}

export function snapshotTree(snaps, { href }) {
  const rows = layout(snaps);
  const at = new Map(rows.map((r) => [r.snap.id, r]));
  const maxDepth = rows.reduce((m, r) => Math.max(m, r.depth), 0);
  const textX = PAD + maxDepth * INDENT + 22;
  const height = PAD * 2 + Math.max(rows.length, 1) * ROW - ROW / 2;
  const width = textX + 600;
  const svg = s("svg", {
    class: "tree", role: "img", width, height, viewBox: `0 0 ${width} ${height}`,
    "aria-label": `Snapshot tree: ${rows.length} snapshot(s)`,
  });
  const x = (r) => PAD + r.depth * INDENT;
  const y = (r) => PAD + r.row * ROW;
  for (const r of rows) {
    const parent = r.snap.parent && at.get(r.snap.parent);
    if (parent) {
      svg.append(s("path", { class: "branch", d: `M ${x(parent)} ${y(parent)} V ${y(r) - 8} Q ${x(parent)} ${y(r)} ${x(parent) + 8} ${y(r)} H ${x(r)}` }));
    }
  }
  for (const r of rows) {
    const snap = r.snap;
    const memory = snap.type === "DiskAndMemory";
    const link = s("a", { href: href(snap), class: `node ${snap.current ? "current" : ""} state-${snap.state}`, "data-id": snap.id });
    link.append(s("title", { text: `${snap.displayname || snap.name} (${snap.type}, ${snap.state})` }));
    if (snap.current) link.append(s("circle", { class: "halo", cx: x(r), cy: y(r), r: 10 }));
    link.append(s("circle", { class: memory ? "dot memory" : "dot disk", cx: x(r), cy: y(r), r: 6 }));
    link.append(s("text", { class: "label", x: textX, y: y(r) + 4, text: snap.displayname || snap.name }));
    const meta = `${memory ? "disk + memory" : "disk"} · ${snap.state}${snap.current ? " · current" : ""}`;
    link.append(s("text", { class: `meta ${snap.current ? "is-current" : ""}`, x: textX + 230, y: y(r) + 4, text: meta }));
    link.append(s("text", { class: "meta", x: textX + 420, y: y(r) + 4, text: String(snap.created || "").replace("T", " ").slice(0, 19) }));
    svg.append(link);
  }
  return svg;
}
