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

// The finished states, in the order a bar draws them (as frame.rs does).
const BAR = ["done", "no_data", "outside_history", "cooling", "failed", "abandoned"];
const WORDS = { done: "done", no_data: "no data", outside_history: "outside the source's history",
  cooling: "cooling down", failed: "failed", abandoned: "abandoned" };
const SVG = "http://www.w3.org/2000/svg";

function total(c) {
  return c.queued + c.not_yet_due + c.in_progress + BAR.reduce((n, state) => n + c[state], 0);
}

// Redraws a bar of tasks: a segment per finished state, the rest empty.
function drawBar(svg, c) {
  const all = total(c);
  let x = 0;
  const parts = [];
  for (const state of BAR) {
    const rect = svg.querySelector('rect[data-state="' + state + '"]');
    const width = all === 0 ? 0 : Math.floor((c[state] * 1000) / all);
    rect.setAttribute("x", String(x));
    rect.setAttribute("width", String(width));
    x += width;
    if (c[state] > 0) parts.push(c[state] + " " + WORDS[state]);
  }
  const words = (parts.length ? parts.join(", ") : "none finished") + " of " + all + (all === 1 ? " task" : " tasks");
  svg.setAttribute("aria-label", words);
  svg.querySelector("title").textContent = words;
}

function newBar() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "bar");
  svg.setAttribute("viewBox", "0 0 1000 10");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.appendChild(document.createElementNS(SVG, "title"));
  for (const state of BAR) {
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("class", "s-" + state);
    rect.dataset.state = state;
    rect.setAttribute("y", "0");
    rect.setAttribute("height", "10");
    svg.appendChild(rect);
  }
  return svg;
}

// A row of the progress table for a pair first seen after the page loaded.
function pairRow(p) {
  const row = document.createElement("tr");
  row.dataset.exchange = p.exchange;
  row.dataset.symbol = p.symbol;
  const exchange = document.createElement("td");
  exchange.textContent = p.exchange;
  if (p.source && p.source !== p.exchange) {
    const via = document.createElement("span");
    via.className = "via";
    via.textContent = "via " + p.source;
    exchange.append(" ", via);
  }
  const symbol = document.createElement("td");
  symbol.textContent = p.symbol;
  row.append(exchange, symbol);
  for (const state of ["queued", "not_yet_due", "in_progress", "done", "no_data", "outside_history", "cooling",
    "failed", "abandoned"]) {
    const td = document.createElement("td");
    td.className = "num";
    td.dataset.count = state;
    row.appendChild(td);
  }
  const td = document.createElement("td");
  td.appendChild(newBar());
  row.appendChild(td);
  return row;
}

function showSnapshot(s) {
  const strip = document.getElementById("counts");
  setCounts(strip, Object.assign({ total: s.total }, s.counts));
  drawBar(document.getElementById("bar"), s.counts);
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
    drawBar(row.querySelector("svg.bar"), p.counts);
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

// Writes an answer where the page shows it: in red only for an error.
function say(where, text, isError) {
  where.textContent = text;
  where.classList.toggle("error", isError);
}

function retryButtons() {
  const result = document.getElementById("retry-result");
  for (const button of document.querySelectorAll("button.retry")) {
    button.addEventListener("click", async () => {
      const form = new URLSearchParams({ scope: button.dataset.scope });
      for (const key of ["exchange", "symbol", "source", "day", "from", "to"]) {
        if (button.dataset[key] !== undefined) form.set(key, button.dataset[key]);
      }
      button.disabled = true;
      try {
        const done = await post("/retry", form.toString(), "application/x-www-form-urlencoded");
        say(result, done.queued + (done.queued === 1 ? " task" : " tasks") + " queued again", false);
        // The rows it took are failed no more.
        for (const row of document.querySelectorAll("table.failed tbody tr")) {
          const d = row.dataset, b = button.dataset;
          // The rows listed are the selection's: "all" takes every one.
          const taken = b.scope === "all"
            || d.exchange === b.exchange && d.symbol === b.symbol && (b.scope === "pair" || d.day === b.day);
          if (taken) {
            row.querySelector("td.state").textContent = "queued";
            for (const other of row.querySelectorAll("button.retry")) other.disabled = true;
          }
        }
      } catch (e) {
        say(result, "not queued: " + e.message, true);
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
    say(status, "running...", false);
    out.replaceChildren();
    try {
      const r = await post("/sql", JSON.stringify({ sql: form.elements.sql.value }), "application/json");
      if (r.error) {
        say(status, r.error, true);
        return;
      }
      say(status, r.rows.length + (r.rows.length === 1 ? " row" : " rows") +
        (r.truncated ? " (the first " + r.rows.length + " shown)" : ""), false);
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
      say(status, e.message, true);
    }
  });
}

live();
retryButtons();
sqlBox();
