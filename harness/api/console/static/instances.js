// Instances: the list (search, paging), the detail page with its actions, its volumes.
import { call, isAdmin } from "./api.js";
import { badge, dash, fields, h, table, when, ask } from "./dom.js";
import { policyCard } from "./policy.js";

const PAGE_SIZE = 20;

export async function instanceList(el, ctx) {
  ctx.crumbs([{ label: "Instances" }]);
  const keyword = ctx.query.get("q") || "";
  const page = Math.max(1, Number(ctx.query.get("page")) || 1);
  const answer = await call("listVirtualMachines", { listall: true, keyword, page, pagesize: PAGE_SIZE });
  const vms = answer.virtualmachine || [];
  const counts = await Promise.all(vms.map((vm) =>
    call("listVMSnapshot", { virtualmachineid: vm.id, listall: true, page: 1, pagesize: 1 }).then((r) => r.count || 0, () => null)));
  const search = h("form", { class: "search", role: "search" },
    h("input", { type: "search", name: "q", value: keyword, placeholder: "Search instances by name", "aria-label": "Search" }),
    h("button", { type: "submit", class: "button", text: "Search" }));
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new FormData(search).get("q");
    location.hash = q ? `#/instances?q=${encodeURIComponent(q)}` : "#/instances";
  });
  const columns = [
    { label: "Name", value: (vm) => h("a", { href: `#/instances/${encodeURIComponent(vm.id)}`, text: vm.displayname || vm.name }) },
    { label: "State", value: (vm) => badge(vm.state) },
    { label: "Template", value: (vm) => vm.templatename || vm.templatedisplaytext },
    { label: "Offering", value: (vm) => vm.serviceofferingname },
    { label: "VM Snapshots", cls: "num", value: (vm, i) => dash(counts[vms.indexOf(vm)]) },
    isAdmin() ? { label: "Account", value: (vm) => vm.account } : null,
    { label: "Zone", value: (vm) => vm.zonename },
  ].filter(Boolean);
  el.append(
    h("div", { class: "page-head" }, h("h1", { text: "Instances" }), search),
    h("section", { class: "card" },
      table(columns, vms, { empty: keyword ? `No instance matches “${keyword}”.` : "No instances yet." }),
      pager(answer.count || 0, page, keyword)));
}

function pager(count, page, keyword) {
  const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
  const first = count ? (page - 1) * PAGE_SIZE + 1 : 0;
  const last = Math.min(count, page * PAGE_SIZE);
  const link = (p, label) => {
    const q = new URLSearchParams({ page: String(p) });
    if (keyword) q.set("q", keyword);
    return p < 1 || p > pages || p === page
      ? h("span", { class: "button small disabled", text: label })
      : h("a", { class: "button small", href: `#/instances?${q}`, text: label });
  };
  return h("div", { class: "pager" },
    h("span", { class: "muted", text: `${first}–${last} of ${count}` }),
    link(page - 1, "‹ Previous"), h("span", { class: "muted", text: `Page ${page} of ${pages}` }), link(page + 1, "Next ›"));
}

export async function loadInstance(id) {
  const answer = await call("listVirtualMachines", { id, listall: true });
  const vm = (answer.virtualmachine || [])[0];
  if (!vm) throw new Error("This instance does not exist or is not yours to see.");
  return vm;
}

export function instanceCrumbs(vm) {
  return [{ label: "Instances", href: "#/instances" }, { label: vm.displayname || vm.name, href: `#/instances/${encodeURIComponent(vm.id)}` }];
}

// The cloud-wide facts the create rules need: whether the hypervisor allows VM snapshots,
// and vmsnapshot.max. Fetched beside the page's other calls.
export async function ruleFacts() {
  const [caps, config] = await Promise.all([
    call("listHypervisorCapabilities", { hypervisor: "Hyperv" }).catch(() => ({})),
    call("listConfigurations", { name: "vmsnapshot.max" }).catch(() => ({})),
  ]);
  return {
    enabled: (caps.hypervisorCapabilities || []).every((c) => c.vmsnapshotenabled !== false),
    max: Number(((config.configuration || [])[0] || {}).value) || null,
  };
}

// What the create rules allow (the API checks them again on create), and why not.
export function snapshotRules(vm, count, facts) {
  let take = null;
  if (!facts.enabled) take = `VM snapshots are disabled for ${vm.hypervisor || "Hyperv"} (hypervisor capabilities).`;
  else if (vm.state !== "Running" && vm.state !== "Stopped") take = `The instance is ${vm.state}; VM snapshots need it Running or Stopped.`;
  else if (facts.max !== null && count >= facts.max) take = `The instance has ${count} VM snapshots, the most vmsnapshot.max (${facts.max}) allows; delete one first.`;
  return {
    take,
    memory: vm.state === "Running" ? null : `Memory can only be snapshotted while the instance is Running (it is ${vm.state}).`,
  };
}

export async function takeSnapshot(ctx, vm, rules) {
  const memory = h("input", { type: "checkbox", name: "snapshotmemory", disabled: Boolean(rules.memory) });
  const quiesce = h("input", { type: "checkbox", name: "quiescevm" });
  memory.addEventListener("change", () => { quiesce.disabled = memory.checked; if (memory.checked) quiesce.checked = false; });
  const form = h("div", { class: "form" },
    h("label", {}, "Name", h("input", { name: "name", maxlength: 255, placeholder: "e.g. before-upgrade" })),
    h("label", {}, "Description", h("textarea", { name: "description", maxlength: 255, rows: 2 })),
    h("label", { class: "check" }, memory, h("span", {}, "Snapshot memory",
      h("small", { text: rules.memory || "Disk and memory: a revert brings the instance back Running." }))),
    h("label", { class: "check" }, quiesce, h("span", {}, "Quiesce VM",
      h("small", { text: "Disk only, with the guest's file systems quiesced (a production checkpoint)." }))));
  const values = await ask({ title: `Take VM Snapshot of ${vm.displayname || vm.name}`, form, confirm: "Take snapshot" });
  if (!values) return;
  const params = { virtualmachineid: vm.id, name: values.name, description: values.description };
  if (values.snapshotmemory) params.snapshotmemory = true;
  if (values.quiescevm) params.quiescevm = true;
  await ctx.job(`Taking VM snapshot of ${vm.displayname || vm.name}`, () => call("createVMSnapshot", params));
}

export async function instanceDetail(el, ctx, id) {
  const [vm, facts, listed] = await Promise.all([
    loadInstance(id), ruleFacts(),
    call("listVMSnapshot", { virtualmachineid: id, listall: true, page: 1, pagesize: 1 }),
  ]);
  ctx.crumbs(instanceCrumbs(vm));
  const rules = snapshotRules(vm, listed.count || 0, facts);
  const actions = h("div", { class: "actions" },
    h("button", {
      type: "button", class: "button primary", text: "Take VM Snapshot", "data-action": "take-snapshot",
      disabled: Boolean(rules.take), title: rules.take || "Snapshot the instance's disks (and memory)",
      on: { click: () => takeSnapshot(ctx, vm, rules) },
    }),
    h("button", {
      type: "button", class: "button", text: "Start", "data-action": "start", disabled: vm.state !== "Stopped",
      title: vm.state === "Stopped" ? "Start the instance" : `Only a Stopped instance starts (it is ${vm.state})`,
      on: { click: () => ctx.job(`Starting ${vm.displayname}`, () => call("startVirtualMachine", { id: vm.id })) },
    }),
    h("button", {
      type: "button", class: "button", text: "Stop", "data-action": "stop", disabled: vm.state !== "Running",
      title: vm.state === "Running" ? "Stop the instance" : `Only a Running instance stops (it is ${vm.state})`,
      on: { click: async () => {
        const ok = await ask({ title: `Stop ${vm.displayname}?`, body: h("p", { text: "The instance is shut down. Its VM snapshots are kept (exported as the export strategy says)." }), confirm: "Stop", danger: true });
        if (ok) await ctx.job(`Stopping ${vm.displayname}`, () => call("stopVirtualMachine", { id: vm.id }));
      } },
    }));
  if (rules.take) actions.append(h("p", { class: "reason", text: rules.take }));
  const links = h("div", { class: "links" },
    h("a", { class: "button link", href: `#/instances/${encodeURIComponent(vm.id)}/volumes`, text: "View Volumes" }),
    h("a", { class: "button link", href: `#/instances/${encodeURIComponent(vm.id)}/snapshots`, text: "View Snapshots" }));
  el.append(
    h("div", { class: "page-head" }, h("h1", {}, vm.displayname || vm.name, " ", badge(vm.state)), actions),
    h("div", { class: "tabs" }, h("span", { class: "tab active", text: "Details" })),
    h("div", { class: "columns" },
      h("section", { class: "card" }, links, fields([
        ["Display Name", vm.displayname], ["Name", vm.name], ["Internal Name", vm.instancename], ["State", badge(vm.state)],
        ["Template", vm.templatename || vm.templatedisplaytext], ["Service Offering", vm.serviceofferingname],
        ["CPU", vm.cpunumber ? `${vm.cpunumber} × ${vm.cpuspeed} MHz` : null],
        ["Memory", vm.memory ? `${vm.memory} MiB` : null], ["Hypervisor", vm.hypervisor], ["Zone", vm.zonename],
        ["Account", vm.account], ["Domain", vm.domain], ["Created", when(vm.created)], ["ID", vm.id],
      ])),
      await policyCard(ctx, vm)));
}

export async function instanceVolumes(el, ctx, id) {
  const vm = await loadInstance(id);
  ctx.crumbs([...instanceCrumbs(vm), { label: "Volumes" }]);
  const answer = await call("listVolumes", { virtualmachineid: vm.id, listall: true });
  el.append(h("div", { class: "page-head" }, h("h1", { text: `Volumes of ${vm.displayname}` })),
    h("section", { class: "card" }, table([
      { label: "Name", value: (v) => v.name }, { label: "Type", value: (v) => v.type },
      { label: "Size", cls: "num", value: (v) => (v.size ? `${(v.size / 2 ** 30).toFixed(1)} GiB` : null) },
      { label: "State", value: (v) => v.state }, { label: "Chain size", cls: "num", value: (v) => v.vmsnapshotchainsize },
      { label: "Created", value: (v) => when(v.created) },
    ], answer.volume || [], { empty: "No volumes." })));
}
