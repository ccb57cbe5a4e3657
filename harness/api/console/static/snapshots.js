// VM Snapshots of an instance: the list, the tree picture, revert and delete; the detail page.
import { call } from "./api.js";
import { ask, badge, dash, fields, h, table, when } from "./dom.js";
import { instanceCrumbs, loadInstance, ruleFacts, snapshotRules, takeSnapshot } from "./instances.js";
import { snapshotTree } from "./tree.js";

const TYPE = { Disk: "Disk", DiskAndMemory: "Disk and memory" };

export async function listSnapshots(vmId) {
  const all = [];
  for (let page = 1; ; page++) {
    const answer = await call("listVMSnapshot", { virtualmachineid: vmId, listall: true, page, pagesize: 500 });
    all.push(...(answer.vmSnapshot || []));
    if (!answer.vmSnapshot || all.length >= (answer.count || 0)) return all;
  }
}

function snapHref(vm, snap) {
  return `#/instances/${encodeURIComponent(vm.id)}/snapshots/${encodeURIComponent(snap.id)}`;
}

function title(snap) {
  return snap.displayname || snap.name;
}

export async function revert(ctx, vm, snap) {
  const memory = snap.type === "DiskAndMemory";
  const outcome = memory
    ? `Its disks and memory go back to ${when(snap.created)} and the instance ends Running.`
    : `It is a disk-only snapshot: the disks go back to ${when(snap.created)} and the instance ends Stopped` +
      (vm.state === "Running" ? " (it is Running now: it will be stopped)." : ".");
  const ok = await ask({
    title: `Revert ${vm.displayname} to “${title(snap)}”?`,
    body: h("div", {}, h("p", { text: outcome }), h("p", { class: "muted", text: "Changes made since that snapshot are lost; the snapshot becomes current." })),
    confirm: "Revert", danger: true,
  });
  if (ok) await ctx.job(`Reverting ${vm.displayname} to ${title(snap)}`, () => call("revertToVMSnapshot", { vmsnapshotid: snap.id }));
}

export async function remove(ctx, vm, snap, all, after = null) {
  const children = all.filter((x) => x.parent === snap.id);
  const where = snap.parentName ? `“${snap.parentName}”` : "the top of the tree";
  const lines = [
    children.length
      ? `Its ${children.length} child snapshot${children.length > 1 ? "s" : ""} (${children.map(title).join(", ")}) ${children.length > 1 ? "are" : "is"} kept and move${children.length > 1 ? "" : "s"} under ${where}.`
      : "It has no child snapshots.",
    snap.current ? `It is the current snapshot: ${snap.parentName ? `“${snap.parentName}”` : "no snapshot"} becomes current.` : null,
    "Its checkpoint's changes are merged on the host. This cannot be undone.",
  ].filter(Boolean);
  const ok = await ask({
    title: `Delete “${title(snap)}”?`, body: h("div", {}, lines.map((t) => h("p", { text: t }))), confirm: "Delete", danger: true,
  });
  if (!ok) return;
  if (after) location.hash = after;
  await ctx.job(`Deleting ${title(snap)}`, () => call("deleteVMSnapshot", { vmsnapshotid: snap.id }));
}

function rowActions(ctx, vm, snap, all) {
  const canRevert = snap.state === "Ready";
  const canDelete = ["Ready", "Error", "Expunging"].includes(snap.state);
  return h("div", { class: "row-actions" },
    h("button", {
      type: "button", class: "button small", text: "Revert", "data-action": "revert", disabled: !canRevert,
      title: canRevert ? "Revert the instance to this snapshot" : `Only a Ready snapshot can be reverted to (this one is ${snap.state})`,
      on: { click: () => revert(ctx, vm, snap) },
    }),
    h("button", {
      type: "button", class: "button small danger-text", text: "Delete", "data-action": "delete", disabled: !canDelete,
      title: canDelete ? "Delete this snapshot" : `A ${snap.state} snapshot cannot be deleted now`,
      on: { click: () => remove(ctx, vm, snap, all) },
    }));
}

export async function snapshotList(el, ctx, vmId) {
  const [vm, snaps, facts] = await Promise.all([loadInstance(vmId), listSnapshots(vmId), ruleFacts()]);
  ctx.crumbs([...instanceCrumbs(vm), { label: "VM Snapshots" }]);
  const rules = snapshotRules(vm, snaps.length, facts);
  const columns = [
    { label: "Display Name", value: (x) => h("a", { href: snapHref(vm, x), text: title(x) }) },
    { label: "Name", cls: "mono", value: (x) => x.name },
    { label: "Type", value: (x) => TYPE[x.type] || x.type },
    { label: "State", value: (x) => badge(x.state) },
    { label: "Current", value: (x) => (x.current ? h("span", { class: "pill current", text: "Current" }) : "") },
    { label: "Parent", value: (x) => dash(x.parentName) },
    { label: "Created", value: (x) => when(x.created) },
    { label: "", cls: "end", value: (x) => rowActions(ctx, vm, x, snaps) },
  ];
  const newest = snaps; // listVMSnapshot lists newest first
  el.append(
    h("div", { class: "page-head" },
      h("h1", {}, "VM Snapshots ", h("span", { class: "count", text: String(snaps.length) })),
      h("div", { class: "actions" }, h("button", {
        type: "button", class: "button primary", text: "Take VM Snapshot", "data-action": "take-snapshot",
        disabled: Boolean(rules.take), title: rules.take || "", on: { click: () => takeSnapshot(ctx, vm, rules) },
      }), rules.take ? h("p", { class: "reason", text: rules.take }) : null)),
    h("section", { class: "card tree-card", "aria-label": "Snapshot tree" },
      h("h2", { text: "Tree" }),
      snaps.length ? snapshotTree(snaps, { href: (x) => snapHref(vm, x) }) : h("p", { class: "empty", text: "No snapshots yet: take one to start the tree." }),
      snaps.length ? h("p", { class: "legend" }, h("span", { class: "key memory" }), "disk + memory", h("span", { class: "key disk" }), "disk only", h("span", { class: "key current" }), "current") : null),
    h("section", { class: "card" }, h("h2", { text: "List" }),
      table(columns, newest, { empty: "No VM snapshots.", rowAttrs: (x) => ({ "data-id": x.id, class: x.current ? "is-current" : null }) })));
}

export async function snapshotDetail(el, ctx, vmId, snapId) {
  const [vm, all] = await Promise.all([loadInstance(vmId), listSnapshots(vmId)]);
  const snap = all.find((x) => x.id === snapId);
  if (!snap) throw new Error("This VM snapshot does not exist (any more) or is not yours to see.");
  ctx.crumbs([...instanceCrumbs(vm), { label: "VM Snapshots", href: `#/instances/${encodeURIComponent(vm.id)}/snapshots` }, { label: title(snap) }]);
  const parent = snap.parent ? h("a", { href: snapHref(vm, { id: snap.parent }), text: snap.parentName || snap.parent }) : null;
  const tags = (snap.tags || []).length
    ? h("ul", { class: "tags" }, snap.tags.map((t) => h("li", { class: "pill", text: `${t.key} = ${t.value}` })))
    : "—";
  el.append(
    h("div", { class: "page-head" }, h("h1", {}, title(snap), " ", badge(snap.state)),
      h("div", { class: "actions" }, rowActions(ctx, vm, snap, all))),
    h("div", { class: "tabs" }, h("span", { class: "tab active", text: "Details" })),
    h("section", { class: "card" }, fields([
      ["ID", snap.id], ["Name", snap.name], ["Display Name", snap.displayname], ["Type", snap.type],
      ["Description", snap.description], ["State", snap.state], ["IsCurrent", snap.current ? "Yes" : "No"],
      ["Parent", parent], ["Account", snap.account], ["Domain", snap.domain], ["Created", when(snap.created)],
      ["Service Offering", snap.serviceofferingname], ["Instance", vm.displayname], ["Tags", tags],
    ])));
  // Deleting from the detail page returns to the list.
  for (const button of el.querySelectorAll("[data-action=delete]")) {
    button.replaceWith(h("button", {
      type: "button", class: "button small danger-text", text: "Delete", "data-action": "delete", disabled: button.disabled, title: button.title,
      on: { click: () => remove(ctx, vm, snap, all, `#/instances/${encodeURIComponent(vm.id)}/snapshots`) },
    }));
  }
}
