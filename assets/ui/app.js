// pricequeue ui: keeps the counts live, sends Retry and SQL, and nothing
// else. Every value is written as text (textContent), never as HTML.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;

// A POST from this page: the CSRF token in a header, which another site
// cannot set without a CORS preflight this server never grants.
async function post(path, body, type) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": type, "X-CSRF-Token": csrf },
    body: body,
    credentials: "same-origin",
  });
  if (!response.ok) {
    throw new Error((await response.text()).trim() || response.statusText);
  }
  return response.json();
}

function rateLine(s) {
  if (!s.working) return "no work running";
  let line = s.rate.toFixed(1) + " tasks/s";
  if (s.eta_secs !== null) line += "; about " + duration(s.eta_secs) + " left";
  return line;
}

function duration(secs) {
  const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
  return (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
}

function setCounts(scope, counts) {
  for (const cell of scope.querySelectorAll("[data-count]")) {
    const state = cell.dataset.count;
    if (state in counts) cell.textContent = String(counts[state]);
  }
}

function finished(c) {
  return c.done + c.no_data + c.failed + c.abandoned;
}

function total(c) {
  return c.queued + c.not_yet_due + c.in_progress + finished(c);
}

// A row of the progress table for a pair first seen after the page loaded.
function pairRow(p) {
  const row = document.createElement("tr");
  row.dataset.exchange = p.exchange;
  row.dataset.symbol = p.symbol;
  for (const name of [p.exchange, p.symbol]) {
    const td = document.createElement("td");
    td.textContent = name;
    row.appendChild(td);
  }
  for (const state of ["queued", "not_yet_due", "in_progress", "done", "no_data", "failed", "abandoned"]) {
    const td = document.createElement("td");
    td.className = "num";
    td.dataset.count = state;
    row.appendChild(td);
  }
  const td = document.createElement("td");
  td.appendChild(document.createElement("progress"));
  row.appendChild(td);
  return row;
}

function showSnapshot(s) {
  const strip = document.getElementById("counts");
  setCounts(strip, Object.assign({ total: s.total }, s.counts));
  const bar = document.getElementById("bar");
  bar.max = Math.max(s.total, 1);
  bar.value = finished(s.counts);
  document.getElementById("rate").textContent = s.error ? "cannot read the counts: " + s.error : rateLine(s);
  const body = document.querySelector("#pairs tbody");
  if (!body) return;
  const rows = new Map();
  for (const row of body.rows) rows.set(row.dataset.exchange + "\u0000" + row.dataset.symbol, row);
  for (const p of s.pairs) {
    let row = rows.get(p.exchange + "\u0000" + p.symbol);
    if (!row) {
      row = pairRow(p);
      body.appendChild(row);
    }
    setCounts(row, p.counts);
    const progress = row.querySelector("progress");
    progress.max = Math.max(total(p.counts), 1);
    progress.value = finished(p.counts);
  }
}

function live() {
  let events = null;
  const open = () => {
    events = new EventSource("/events");
    events.addEventListener("counts", (e) => showSnapshot(JSON.parse(e.data)));
  };
  // A browser allows six connections to one server: a page left behind
  // (kept for the Back button) must not hold one; back, it opens another.
  window.addEventListener("pagehide", () => events.close());
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) open();
  });
  open();
}

function retryButtons() {
  const result = document.getElementById("retry-result");
  for (const button of document.querySelectorAll("button.retry")) {
    button.addEventListener("click", async () => {
      const form = new URLSearchParams({ scope: button.dataset.scope });
      for (const key of ["exchange", "symbol", "day", "from", "to"]) {
        if (button.dataset[key] !== undefined) form.set(key, button.dataset[key]);
      }
      button.disabled = true;
      try {
        const done = await post("/retry", form.toString(), "application/x-www-form-urlencoded");
        result.textContent = done.queued + (done.queued === 1 ? " task" : " tasks") + " queued again";
        // The rows it took are failed no more.
        for (const row of document.querySelectorAll("table.failed tbody tr")) {
          const d = row.dataset, b = button.dataset;
          const within = (list, name) => list === undefined || list.split(",").includes(name);
          const taken = b.scope === "all"
            ? within(b.exchange, d.exchange) && within(b.symbol, d.symbol) &&
              (b.from === undefined || (b.from <= d.day && d.day <= b.to))
            : d.exchange === b.exchange && d.symbol === b.symbol && (b.scope === "pair" || d.day === b.day);
          if (taken) {
            row.querySelector("td.state").textContent = "queued";
            for (const other of row.querySelectorAll("button.retry")) other.disabled = true;
          }
        }
      } catch (e) {
        result.textContent = "not queued: " + e.message;
        button.disabled = false;
      }
    });
  }
}

function sqlBox() {
  const form = document.getElementById("sql-form");
  if (!form) return;
  const status = document.getElementById("sql-status");
  const out = document.getElementById("sql-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "running...";
    out.replaceChildren();
    try {
      const r = await post("/sql", JSON.stringify({ sql: form.elements.sql.value }), "application/json");
      if (r.error) {
        status.textContent = r.error;
        return;
      }
      status.textContent = r.rows.length + (r.rows.length === 1 ? " row" : " rows") +
        (r.truncated ? " (the first " + r.rows.length + " shown)" : "");
      const table = document.createElement("table");
      const head = table.createTHead().insertRow();
      for (const c of r.columns) {
        const th = document.createElement("th");
        th.textContent = c;
        head.appendChild(th);
      }
      const body = table.createTBody();
      for (const row of r.rows) {
        const tr = body.insertRow();
        for (const v of row) tr.insertCell().textContent = v === null ? "NULL" : String(v);
      }
      out.appendChild(table);
    } catch (e) {
      status.textContent = e.message;
    }
  });
}

live();
retryButtons();
sqlBox();
