// medchain console: renders the public snapshot the server pushes
// (/api/events, Server-Sent Events) and looks blocks and transactions up
// in the Explorer. No third-party code; the page builds its DOM with
// textContent only, so nothing from the chain is ever parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "onclick") e.onclick = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

const short = (h) => (h ? h.slice(0, 10) + "…" + h.slice(-6) : "—");
const num = (v) => (v === null || v === undefined ? "—" : String(v));

function renderNodes(net) {
  $("network").textContent = `${net.network} (${net.consensus}, chain ${net.chain_id})`;
  const up = net.nodes.filter((n) => n.up).length;
  $("summary").textContent = `${up} of ${net.nodes.length} nodes up; ` +
    (net.agree ? "every node that answers agrees on the chain" : "NODES DISAGREE on the block hash at the common height");
  const byHospital = new Map();
  for (const n of net.nodes) {
    if (!byHospital.has(n.hospital)) byHospital.set(n.hospital, []);
    byHospital.get(n.hospital).push(n);
  }
  const blocks = [];
  for (const [hospital, nodes] of byHospital) {
    const rows = nodes.map((n) => el("tr", { "data-node": n.name },
      el("td", {}, n.name), el("td", {}, n.role),
      el("td", { class: n.up ? "up" : "down" }, n.up ? "up" : "down"),
      el("td", { class: "num head-number" }, num(n.block)),
      el("td", { class: "hash" }, short(n.head)),
      el("td", { class: "num" }, num(n.peers)),
      el("td", { class: "num" }, `${num(n.txpool_pending)} / ${num(n.txpool_queued)}`),
      el("td", { class: n.disagrees ? "down" : "" }, n.disagrees ? "disagrees" : "")));
    const table = el("table", {},
      el("thead", {}, el("tr", {}, ...["node", "role", "state", "head", "hash", "peers", "pool pending / queued", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows));
    blocks.push(el("div", { class: "hospital", "data-hospital": hospital }, el("h3", {}, `Hospital ${hospital}`), table));
  }
  $("hospitals").replaceChildren(...blocks);
}

function bars(svg, values, max, unit) {
  const w = 640 / Math.max(values.length, 1);
  const ns = "http://www.w3.org/2000/svg";
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "636");
  label.setAttribute("y", "12");
  label.setAttribute("text-anchor", "end");
  label.textContent = `top = ${Math.round(max * 100) / 100} ${unit}; ${values.length} blocks`;
  svg.replaceChildren(label, ...values.map((v, i) => {
    const r = document.createElementNS(ns, "rect");
    const h = max > 0 ? Math.max(1, (v / max) * 100) : 1;
    r.setAttribute("x", String(i * w + 1));
    r.setAttribute("width", String(Math.max(w - 2, 1)));
    r.setAttribute("y", String(120 - h));
    r.setAttribute("height", String(h));
    return r;
  }));
}

function renderBlocks(blocks) {
  const intervals = blocks.map((b) => b.interval ?? 0);
  bars($("chart-interval"), intervals, Math.max(...intervals, 1), "s");
  bars($("chart-gas"), blocks.map((b) => (b.gas_limit ? (100 * b.gas_used) / b.gas_limit : 0)), 100, "%");
  const rows = blocks.slice().reverse().map((b) => el("tr", { "data-block": String(b.number) },
    el("td", {}, el("button", { class: "link", onclick: () => showBlock(b.number) }, String(b.number))),
    el("td", {}, new Date(b.timestamp * 1000).toISOString().replace("T", " ").slice(0, 19)),
    el("td", { class: "num" }, String(b.txs)),
    el("td", { class: "num" }, String(b.gas_used)),
    el("td", { class: "hash" }, short(b.hash))));
  $("blocks").tBodies[0].replaceChildren(...rows);
}

function render(snapshot) {
  renderNodes(snapshot.network);
  renderBlocks(snapshot.blocks);
  if (typeof window.onSnapshot === "function") window.onSnapshot(snapshot);
  const badge = $("live");
  badge.textContent = snapshot.chain_reachable ? "live" : "chain not answering";
  badge.className = "badge " + (snapshot.chain_reachable ? "ok" : "down");
}

async function getJson(path, init) {
  const r = await fetch(path, init);
  const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) {
    const e = new Error(body.error || `HTTP ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return body;
}

async function showBlock(n) {
  $("lookup-error").textContent = "";
  try {
    const b = await getJson(`/api/block/${n}`);
    const txs = b.tx_hashes.map((h) => el("li", {}, el("button", { class: "link hash", onclick: () => showTx(h) }, h)));
    $("detail").replaceChildren(el("h2", {}, `Block ${b.number}`),
      el("p", {}, `${b.txs} transaction(s), gas ${b.gas_used} of ${b.gas_limit}, hash `, el("span", { class: "hash" }, b.hash)),
      el("ul", {}, ...txs));
  } catch (e) { $("lookup-error").textContent = e.message; }
}

async function showTx(hash) {
  $("lookup-error").textContent = "";
  try {
    const t = await getJson(`/api/tx/${hash}`);
    const events = t.events.map((ev) => el("li", {}, `${ev.name}(${ev.fields.map(([k, v]) => `${k}=${v}`).join(", ")})`));
    $("detail").replaceChildren(el("h2", {}, "Transaction"),
      el("p", { class: "hash" }, t.hash),
      el("p", {}, `block ${num(t.block)} · `, el("span", { id: "tx-status", class: t.status === "reverted" ? "error" : "" }, statusText(t)), ` · gas ${num(t.gas_used)} · from `, addressLink(t.from), " to ", t.to ? addressLink(t.to) : "(deployment)"),
      el("pre", { id: "decoded-call" }, t.call),
      el("ul", {}, ...events));
  } catch (e) { $("lookup-error").textContent = e.message; }
}

// A transaction's status, with the contract's reason when it reverted.
const statusText = (t) => (t.revert_reason ? `${t.status}: ${t.revert_reason}` : t.status);

// An address that opens its transaction history.
function addressLink(a) {
  return el("button", { class: "link hash", onclick: () => showAddress(a, 0) }, a);
}

// An address's transactions (a device's writes), newest first, a page at a time.
async function showAddress(addr, page) {
  $("lookup-error").textContent = "";
  try {
    const h = await getJson(`/api/address/${addr}?page=${page}`);
    const rows = h.txs.map((t) => el("tr", { "data-tx": t.hash },
      el("td", { class: "num" }, num(t.block)),
      el("td", {}, el("button", { class: "link hash", onclick: () => showTx(t.hash) }, short(t.hash))),
      el("td", {}, t.from.toLowerCase() === addr.toLowerCase() ? "out" : "in"),
      el("td", { class: t.status === "success" ? "" : "error" }, statusText(t)),
      el("td", { class: "call" }, t.call)));
    const nav = el("p", {});
    if (page > 0) nav.append(el("button", { class: "link", onclick: () => showAddress(addr, page - 1) }, "← newer"), " ");
    if (page + 1 < h.pages) nav.append(el("button", { class: "link", onclick: () => showAddress(addr, page + 1) }, "older →"));
    const behind = h.indexed_through !== null && h.indexed_through < h.head ? ` (read through block ${h.indexed_through} of ${h.head}: look again for the rest)` : "";
    $("detail").replaceChildren(el("h2", {}, "Address"),
      el("p", { class: "hash" }, h.address),
      el("p", { id: "address-summary" }, `${h.sent} sent · ${h.total} transaction(s) in all${behind} · page ${h.pages ? page + 1 : 0} of ${h.pages}`),
      el("table", { id: "address-txs" },
        el("thead", {}, el("tr", {}, ...["block", "transaction", "", "status", "call"].map((c) => el("th", {}, c)))),
        el("tbody", {}, ...rows)),
      nav);
  } catch (e) { $("lookup-error").textContent = e.message; }
}

function lookup(ev) {
  ev.preventDefault();
  const q = $("query").value.trim();
  if (/^\d+$/.test(q)) showBlock(q);
  else if (/^0x[0-9a-fA-F]{64}$/.test(q)) showTx(q);
  else if (/^0x[0-9a-fA-F]{40}$/.test(q)) showAddress(q, 0);
  else $("lookup-error").textContent = "Enter a block number (e.g. 12), a transaction hash (0x followed by 64 hex digits) or an address (0x followed by 40).";
}

const VIEWS = ["network", "explorer", "signin", "patient", "doctor", "hospital", "bench"];

function route() {
  const asked = location.hash.replace(/^#/, "").replace(/-view$/, "");
  const current = VIEWS.includes(asked) ? asked : "network";
  for (const v of VIEWS) {
    $(`${v}-view`).hidden = v !== current;
    $(`tab-${v}`).classList.toggle("active", v === current);
  }
  // The signed-in views load their data when shown (views.js).
  if (typeof window.showView === "function") window.showView(current);
}

function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
  es.onerror = () => { const b = $("live"); b.textContent = "console not answering, retrying…"; b.className = "badge down"; };
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", async () => {
  $("lookup").addEventListener("submit", lookup);
  route();
  try { render(await getJson("/api/network")); } catch (e) { $("summary").textContent = e.message; }
  connect();
});
