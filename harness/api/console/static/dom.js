// Building the page: elements from plain data, text always set as text (never as HTML),
// so whatever a name holds renders as the characters it is.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "on") {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (key === "text") {
      el.textContent = String(value);
    } else if (key === "style" || key.startsWith("on") || key === "innerHTML") {
      throw new Error(`refusing attribute ${key}`);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// CloudStack dates ("2026-12-02T05:20:37+0000") as "2026-12-02 05:20:37 UTC".
export function when(value) {
  if (!value) return "—";
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(value);
  return m ? `${m[1]} ${m[2]} UTC` : String(value);
}

export function dash(value) {
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

const TONES = {
  Running: "ok", Ready: "ok", Stopped: "idle", Allocated: "idle",
  Creating: "busy", Reverting: "busy", Expunging: "busy", Starting: "busy", Stopping: "busy",
  Error: "bad", Destroyed: "bad", Expunged: "bad",
};

export function badge(state) {
  return h("span", { class: `badge ${TONES[state] || "idle"}`, text: dash(state) });
}

// A definition list of [label, value] pairs; a value may be a node.
export function fields(pairs) {
  return h("dl", { class: "fields" },
    pairs.map(([label, value]) => [h("dt", { text: label }), h("dd", {}, value instanceof Node ? value : dash(value))]));
}

export function table(columns, rows, { empty = "Nothing here yet.", rowAttrs } = {}) {
  if (!rows.length) return h("p", { class: "empty", text: empty });
  return h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.cls, text: c.label })))),
    h("tbody", {}, rows.map((row) => h("tr", rowAttrs ? rowAttrs(row) : {},
      columns.map((c) => {
        const v = c.value(row);
        return h("td", { class: c.cls }, v instanceof Node ? v : dash(v));
      })))));
}

// A modal question; resolves to the form's values (an object) or null when cancelled.
export function ask({ title, body, confirm = "OK", danger = false, form = null }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "modal", "aria-label": title });
    const done = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    const content = h("form", { method: "dialog", class: "modal-body" },
      h("h2", { text: title }),
      body,
      form,
      h("div", { class: "modal-actions" },
        h("button", { type: "button", class: "button", text: "Cancel", on: { click: () => done(null) } }),
        h("button", { type: "submit", class: `button ${danger ? "danger" : "primary"}`, text: confirm, "data-confirm": true })));
    content.addEventListener("submit", (event) => {
      event.preventDefault();
      done(Object.fromEntries(new FormData(content).entries()));
    });
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(null); });
    dialog.append(content);
    document.body.append(dialog);
    dialog.showModal();
  });
}
