// The account's VM snapshot limits, and recent events (where the API has listEvents).
import { available, call, currentSession } from "./api.js";
import { h, table, when } from "./dom.js";

export async function limitsPage(el, ctx) {
  ctx.crumbs([{ label: "Limits" }]);
  const answer = await call("listResourceLimits", {});
  const me = currentSession();
  el.append(h("div", { class: "page-head" }, h("h1", { text: "Limits" })),
    h("section", { class: "card" },
      h("p", { class: "muted", text: `Account ${me.account} in domain ${me.domain}. A limit of -1 is unlimited.` }),
      table([
        { label: "Resource", value: (r) => r.resourcetypename || r.resourcetype },
        { label: "Account", value: (r) => r.account },
        { label: "Domain", value: (r) => r.domain },
        { label: "Limit", cls: "num", value: (r) => (Number(r.max) < 0 ? "unlimited" : r.max) },
        { label: "Used", cls: "num", value: (r) => r.used },
      ], answer.resourcelimit || [], { empty: "No limits apply." })));
}

export async function eventsPage(el, ctx) {
  ctx.crumbs([{ label: "Events" }]);
  el.append(h("div", { class: "page-head" }, h("h1", { text: "Events" })));
  if (!(await available("listEvents"))) {
    el.append(h("section", { class: "card" }, h("p", { class: "empty", text: "This server does not list events (no listEvents command)." })));
    return;
  }
  const answer = await call("listEvents", { listall: true, page: 1, pagesize: 50 });
  el.append(h("section", { class: "card" }, table([
    { label: "Created", value: (e) => when(e.created) }, { label: "Type", value: (e) => e.type },
    { label: "Level", value: (e) => e.level }, { label: "State", value: (e) => e.state },
    { label: "Description", value: (e) => e.description }, { label: "Account", value: (e) => e.account },
  ], answer.event || [], { empty: "No events yet." })));
}
