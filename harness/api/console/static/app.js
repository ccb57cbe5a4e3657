// The console's shell: login, the layout, the router, async job progress and errors.
import { ApiError, available, currentSession, login, logout, onSessionChange, sessionEndedReason, waitForJob } from "./api.js";
import { clear, h } from "./dom.js";
import { instanceDetail, instanceList, instanceVolumes } from "./instances.js";
import { eventsPage, limitsPage } from "./account.js";
import { snapshotDetail, snapshotList } from "./snapshots.js";

const root = document.getElementById("app");
let renderToken = 0;

const ROUTES = [
  [/^#\/instances\/([^/]+)\/snapshots\/([^/]+)$/, snapshotDetail],
  [/^#\/instances\/([^/]+)\/snapshots$/, snapshotList],
  [/^#\/instances\/([^/]+)\/volumes$/, instanceVolumes],
  [/^#\/instances\/([^/]+)$/, instanceDetail],
  [/^#\/instances$/, instanceList],
  [/^#\/events$/, eventsPage],
  [/^#\/limits$/, limitsPage],
];

function route() {
  const [path, query = ""] = (location.hash || "#/instances").split("?");
  for (const [pattern, page] of ROUTES) {
    const m = pattern.exec(path);
    if (m) return { page, args: m.slice(1).map(decodeURIComponent), query: new URLSearchParams(query) };
  }
  return { page: instanceList, args: [], query: new URLSearchParams() };
}

function loginView() {
  const ended = sessionEndedReason();
  const error = h("p", { class: "error", role: "alert", hidden: !ended, text: ended || "" });
  const button = h("button", { type: "submit", class: "button primary wide", text: "Log in" });
  const form = h("form", { class: "login-card", autocomplete: "on" },
    h("div", { class: "login-brand" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", { text: "hvsnap" })),
    h("p", { class: "login-sub", text: "VM snapshots for Hyper-V" }),
    h("label", {}, "Username", h("input", { name: "username", required: true, autocomplete: "username", autofocus: true })),
    h("label", {}, "Password", h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
    h("label", {}, "Domain", h("input", { name: "domain", placeholder: "/ (ROOT)", autocomplete: "off" })),
    error, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    button.disabled = true;
    error.hidden = true;
    try {
      await login(data.get("username"), data.get("password"), data.get("domain"));
      if (!location.hash) location.hash = "#/instances";
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      button.disabled = false;
    }
  });
  clear(root).append(h("div", { class: "login-page" }, form));
}

function shell(session) {
  const nav = h("nav", { class: "side", "aria-label": "Sections" },
    h("a", { class: "brand", href: "#/instances" }, h("span", { class: "logo", "aria-hidden": "true" }), "hvsnap"),
    h("a", { href: "#/instances", "data-section": "instances", text: "Instances" }),
    h("a", { href: "#/events", "data-section": "events", text: "Events", hidden: true }),
    h("a", { href: "#/limits", "data-section": "limits", text: "Limits" }));
  available("listEvents").then((yes) => { nav.querySelector("[data-section=events]").hidden = !yes; }, () => {});
  const crumbs = h("ol", { class: "crumbs", "aria-label": "Breadcrumbs" });
  const who = h("div", { class: "who" },
    h("span", { class: "user", text: `${session.username}` }),
    h("span", { class: "domain", text: session.domain || "ROOT" }),
    h("button", { type: "button", class: "button ghost", text: "Log out", "data-action": "logout",
      on: { click: async () => { await logout(); location.hash = ""; } } }));
  const jobs = h("div", { class: "jobs", "aria-live": "polite" });
  const page = h("main", { class: "page" });
  clear(root).append(h("div", { class: "shell" }, nav,
    h("div", { class: "main" }, h("header", { class: "top" }, crumbs, who), jobs, page)));
  return { nav, crumbs, jobs, page };
}

let frame = null;

async function render() {
  const session = currentSession();
  if (!session) { ++renderToken; frame = null; loginView(); return; } // in-flight pages stop drawing
  if (!frame) frame = shell(session);
  const token = ++renderToken;
  const { page, args, query } = route();
  const section = (location.hash.split("/")[1] || "instances").split("?")[0];
  for (const a of frame.nav.querySelectorAll("[data-section]")) a.classList.toggle("active", a.dataset.section === section);
  const target = h("div", { class: "content", "aria-busy": "true" });
  const ctx = {
    query,
    crumbs: (items) => setCrumbs(items),
    job: (label, start) => runJob(label, start),
    error: (err) => showError(target, err),
    refresh: () => render(),
    stale: () => token !== renderToken,
  };
  try {
    await page(target, ctx, ...args);
  } catch (err) {
    if (token !== renderToken) return;
    if (err instanceof ApiError && err.code === 401) return; // the session ended: the login shows
    showError(target, err);
  }
  if (token !== renderToken || !frame) return;
  target.removeAttribute("aria-busy");
  clear(frame.page).append(target);
  performance.mark("hvsnap:page-ready"); // benchmarks/console.py measures time to interactive by it
  document.title = `${[...frame.crumbs.querySelectorAll("li")].pop()?.textContent || "hvsnap"} · hvsnap`;
}

function setCrumbs(items) {
  clear(frame.crumbs).append(...[{ label: "Home", href: "#/instances" }, ...items].map((item, i, all) =>
    h("li", {}, item.href && i < all.length - 1 ? h("a", { href: item.href, text: item.label }) : h("span", { text: item.label }))));
}

function showError(target, err) {
  const text = err instanceof ApiError ? `${err.message} (error ${err.code})` : `Unexpected: ${err.message}`;
  for (const old of target.querySelectorAll(".banner.error")) old.remove();
  target.prepend(h("div", { class: "banner error", role: "alert" }, h("strong", { text: "Refused: " }), text));
}

// Start an async command, show its job until it ends, then redraw the page.
async function runJob(label, start) {
  const clock = h("span", { class: "job-time", text: "" });
  const item = h("div", { class: "job running", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }), h("span", { class: "job-label", text: label }), clock);
  for (const old of frame.jobs.querySelectorAll(".job.done")) old.remove();
  frame.jobs.append(item);
  try {
    const { jobid } = await start();
    item.dataset.jobid = jobid;
    const result = await waitForJob(jobid, (s) => { clock.textContent = `${s.toFixed(1)} s`; });
    item.className = "job done";
    item.querySelector(".spinner").replaceWith(h("span", { class: "tick", "aria-hidden": "true", text: "✓" }));
    clock.textContent = "done";
    setTimeout(() => item.remove(), 2500);
    await render();
    return result;
  } catch (err) {
    if (err instanceof ApiError && err.code === 401) return null;
    item.className = "job failed";
    item.querySelector(".spinner")?.remove();
    clock.textContent = "";
    item.append(h("span", { class: "job-error", text: `${err.message}` }),
      h("button", { type: "button", class: "button ghost small", text: "Dismiss", on: { click: () => item.remove() } }));
    await render();
    return null;
  }
}

onSessionChange(() => render());
window.addEventListener("hashchange", () => render());
render();
