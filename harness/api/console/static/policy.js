// An instance's recurring VM snapshot policy: shown, created, edited, deleted.
import { call } from "./api.js";
import { ask, fields, h, when } from "./dom.js";

const INTERVALS = ["HOURLY", "DAILY", "WEEKLY", "MONTHLY"];
const SCHEDULE_HINT = {
  HOURLY: "MM: the minute of each hour, e.g. 15",
  DAILY: "MM:HH, e.g. 30:02 for 02:30",
  WEEKLY: "MM:HH:D, D = 1 (Sunday) to 7",
  MONTHLY: "MM:HH:DD, DD = 1 to 28",
};

function policyForm(p) {
  const interval = h("select", { name: "intervaltype" },
    INTERVALS.map((i) => h("option", { value: i, text: i.toLowerCase(), selected: p ? p.intervaltype === i : i === "DAILY" })));
  const hint = h("small", { text: SCHEDULE_HINT[p ? p.intervaltype : "DAILY"] });
  interval.addEventListener("change", () => { hint.textContent = SCHEDULE_HINT[interval.value]; });
  return h("div", { class: "form" },
    h("label", {}, "Interval", interval),
    h("label", {}, "Schedule", h("input", { name: "schedule", required: true, value: p ? p.schedule : "00:02" }), hint),
    h("label", {}, "Time zone", h("input", { name: "timezone", required: true, value: p ? p.timezone : "UTC" })),
    h("label", {}, "Keep (max snapshots)", h("input", { name: "maxsnaps", type: "number", min: 1, required: true, value: p ? p.maxsnaps : 7 })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "snapshotmemory", checked: Boolean(p && p.snapshotmemory) }),
      h("span", {}, "Snapshot memory", h("small", { text: "while the instance runs" }))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "quiescevm", checked: Boolean(p && p.quiescevm) }),
      h("span", {}, "Quiesce VM", h("small", { text: "for disk-only snapshots" }))));
}

function params(values) {
  return {
    intervaltype: values.intervaltype, schedule: values.schedule, timezone: values.timezone, maxsnaps: values.maxsnaps,
    snapshotmemory: values.snapshotmemory ? "true" : "false", quiescevm: values.quiescevm ? "true" : "false",
  };
}

async function change(ctx, command, body) {
  try {
    await call(command, body);
  } catch (err) {
    ctx.error(err);
    return;
  }
  ctx.refresh();
}

export async function policyCard(ctx, vm) {
  const answer = await call("listVMSnapshotPolicies", { virtualmachineid: vm.id, listall: true });
  const p = (answer.vmsnapshotpolicy || [])[0];
  const card = h("section", { class: "card", "aria-label": "Recurring snapshots" }, h("h2", { text: "Recurring VM snapshots" }));
  if (!p) {
    card.append(h("p", { class: "muted", text: "No policy: snapshots are taken only by hand." }),
      h("button", { type: "button", class: "button", text: "Create policy", "data-action": "create-policy", on: { click: async () => {
        const values = await ask({ title: `Recurring snapshots of ${vm.displayname}`, form: policyForm(null), confirm: "Create" });
        if (values) await change(ctx, "createVMSnapshotPolicy", { virtualmachineid: vm.id, ...params(values) });
      } } }));
    return card;
  }
  card.append(fields([
    ["Interval", p.intervaltype], ["Schedule", p.schedule], ["Time zone", p.timezone], ["Keep", p.maxsnaps],
    ["Memory", p.snapshotmemory ? "Yes" : "No"], ["Next run", when(p.nextrun)], ["Last run", when(p.lastrun)],
    ["Taken so far", p.snapshots],
  ]), h("div", { class: "actions" },
    h("button", { type: "button", class: "button", text: "Edit", "data-action": "edit-policy", on: { click: async () => {
      const values = await ask({ title: `Edit recurring snapshots of ${vm.displayname}`, form: policyForm(p), confirm: "Save" });
      if (values) await change(ctx, "updateVMSnapshotPolicy", { id: p.id, ...params(values) });
    } } }),
    h("button", { type: "button", class: "button danger-text", text: "Delete", "data-action": "delete-policy", on: { click: async () => {
      const ok = await ask({ title: "Delete this policy?", body: h("p", { text: "No more scheduled snapshots are taken. The snapshots it took stay." }), confirm: "Delete", danger: true });
      if (ok) await change(ctx, "deleteVMSnapshotPolicies", { id: p.id });
    } } })));
  return card;
}
