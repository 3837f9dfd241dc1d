// medchain console, signed-in part: Sign-In with Ethereum (EIP-4361) with an
// EIP-1193 wallet or a key imported into this page (window.medchainWallet,
// wallet.js: the key stays in its closure, in memory only), and the Patient,
// Doctor and Benchmarks views. Sealed readings are fetched from the console
// (which only relays what the chain and the store hold) and opened here with
// the reader's key. DOM built with textContent only (el() from app.js).
"use strict";

const W = window.medchainWallet;
let wallet = null;   // an imported key's holder, or null
let session = null;  // the server's answer about the signed-in address

/** The session and the imported key's holder, for writes.js. */
window.medchainSession = () => ({ session, wallet });

const THRESHOLDS = "abnormal: heart rate < 40 or > 130 /min, SpO2 < 90 %, systolic > 180 mmHg, temperature > 39.00 °C";
const abnormal = {
  hr: (v) => v < 40 || v > 130,
  spo2: (v) => v < 90,
  sys: (v) => v > 180,
  dia: () => false,
  temp: (v) => v > 39,
};

async function postJson(path, body) {
  return getJson(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** The EIP-4361 message for `address`, from the console's nonce answer. */
function siweMessage(n, address) {
  const now = new Date();
  const expires = new Date(now.getTime() + n.expires_in * 1000);
  return `${n.domain} wants you to sign in with your Ethereum account:\n${address}\n\n` +
    `Sign in to the medchain console.\n\nURI: ${n.uri}\nVersion: 1\nChain ID: ${n.chain_id}\n` +
    `Nonce: ${n.nonce}\nIssued At: ${now.toISOString()}\nExpiration Time: ${expires.toISOString()}`;
}

/**
 * Signs in as `address`, signing with `sign(text) -> Promise<0x…>`; `held`
 * is the imported key's holder (null for a browser wallet).
 */
async function signIn(address, sign, held) {
  $("signin-error").textContent = "";
  $("signin-status").textContent = "asking the console for a nonce…";
  const n = await getJson("/api/siwe/nonce");
  const message = siweMessage(n, address);
  $("signin-status").textContent = "signing…";
  const signature = await sign(message);
  session = await postJson("/api/siwe/verify", { message, signature });
  wallet = held;
  showSession();
  $("signin-status").textContent = `signed in as ${session.address}`;
}

function failed(e) {
  $("signin-status").textContent = "";
  $("signin-error").textContent = e.message;
}

async function signInWithKey(ev) {
  ev.preventDefault();
  try {
    const w = W.fromPrivateKey($("key-hex").value);
    $("key-hex").value = "";
    await signIn(w.address, async (m) => w.signMessage(m), w);
  } catch (e) { failed(e); }
}

async function signInWithKeystore(ev) {
  ev.preventDefault();
  try {
    const file = $("keystore-file").files[0];
    if (!file) throw new Error("choose a keystore file first");
    $("signin-status").textContent = "decrypting the keystore in this page (scrypt takes a few seconds)…";
    const w = await W.fromKeystore(await file.text(), $("keystore-password").value);
    $("keystore-password").value = "";
    await signIn(w.address, async (m) => w.signMessage(m), w);
  } catch (e) { failed(e); }
}

async function signInWithProvider() {
  try {
    const [account] = await window.ethereum.request({ method: "eth_requestAccounts" });
    const address = W.checksum(W.fromHex(account));
    await signIn(address, (m) => window.ethereum.request({ method: "personal_sign", params: [m, account] }), null);
  } catch (e) { failed(e); }
}

async function signOut() {
  try { await postJson("/api/siwe/logout", {}); } catch (e) { failed(e); }
  session = null;
  wallet = null;
  window.stopAlarms();
  showSession();
  $("signin-status").textContent = "signed out; the key is gone from this page";
}

function showSession() {
  const roles = session ? (session.role_names.length ? session.role_names.join(", ") : "no role") : "";
  $("who").textContent = session ? `${session.address} — ${roles}${wallet ? "" : " (no key in this page)"}` : "not signed in";
  $("who").dataset.roles = session ? session.role_names.join(",") : "";
  $("signout").hidden = !session;
}

/** The values of a stored reading's FHIR Bundle, by LOINC code. */
function valuesOf(bundle) {
  const obs = (bundle.entry || []).map((e) => e.resource);
  const find = (code) => {
    for (const o of obs) {
      const coded = (c) => (c.coding || []).some((k) => k.code === code);
      if (coded(o.code) && o.valueQuantity) return o.valueQuantity.value;
      const comp = (o.component || []).find((c) => coded(c.code));
      if (comp) return comp.valueQuantity.value;
    }
    return null;
  };
  return { hr: find("8867-4"), spo2: find("2708-6"), sys: find("8480-6"), dia: find("8462-4"), temp: find("8310-5") };
}

/** The last `limit` records of `patient`, opened in this page where it can. */
async function openRecords(patient, limit) {
  const page = await getJson(`/api/records/${patient}?limit=${limit}`);
  for (const r of page.records) {
    if (page.layout === "clear") {
      const v = r.values;
      r.values = { hr: v.heart_rate, spo2: v.spo2, sys: v.systolic, dia: v.diastolic, temp: v.temperature };
      continue;
    }
    try {
      if (!wallet) throw new Error("sealed: import your key (Sign in) to open it in this page");
      const resp = await fetch(`/api/store/${patient}/${r.cid}`);
      if (!resp.ok) throw new Error((await resp.json().catch(() => ({}))).error || `HTTP ${resp.status}`);
      const stored = new Uint8Array(await resp.arrayBuffer());
      const doc = wallet.openReading({ stored, cid: r.cid, wrappedHex: page.keys[String(r.key_version)], patient, device: r.device, sequence: String(r.sequence) });
      r.values = valuesOf(JSON.parse(doc));
    } catch (e) { r.error = e.message; }
  }
  return page;
}

function recordsTable(page) {
  const cols = ["hr", "spo2", "sys", "dia", "temp"];
  const rows = page.records.slice().reverse().map((r) => {
    const cells = r.values
      ? cols.map((c) => el("td", { class: `num ${c}${r.values[c] !== null && abnormal[c](r.values[c]) ? " abnormal" : ""}` }, String(r.values[c] ?? "—")))
      : [el("td", { class: "error", colspan: "5" }, r.error || "")];
    return el("tr", { "data-record": String(r.record_id) }, el("td", {}, String(r.record_id)),
      el("td", {}, new Date(Number(r.taken_ms)).toISOString().replace("T", " ").slice(0, 19)), ...cells,
      el("td", { class: "num" }, String(r.sequence)), el("td", { class: "hash" }, r.cid ? short(r.cid) : "on chain"));
  });
  return el("table", { class: "records" },
    el("thead", {}, el("tr", {}, ...["record", "taken (UTC)", "heart rate /min", "SpO2 %", "systolic mmHg", "diastolic mmHg", "temp °C", "seq", "where"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows));
}

/** A small line chart of the heart rate over the records shown. */
function heartChart(page) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 320 80");
  svg.setAttribute("class", "mini");
  svg.setAttribute("aria-label", "heart rate over time");
  const vals = page.records.map((r) => r.values?.hr).filter((v) => typeof v === "number");
  if (vals.length) {
    const max = Math.max(...vals, 140), min = Math.min(...vals, 30);
    const step = vals.length > 1 ? 310 / (vals.length - 1) : 0;
    const pts = vals.map((v, i) => `${5 + i * step},${75 - ((v - min) / (max - min)) * 70}`).join(" ");
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts);
    svg.append(line);
  }
  return svg;
}

/** Shows `e` in the view's error line; a 401 sends the user to sign in. */
function viewError(id, e) {
  $(id).textContent = e.status === 401 ? `${e.message} — use the Sign in tab.` : e.message;
}

async function loadPatient() {
  $("patient-error").textContent = "";
  $("patient-cards").replaceChildren();
  try {
    const me = await getJson("/api/patient");
    if (me.patients.length && !$("consent-patient").value) $("consent-patient").value = me.patients[0].patient;
    const cards = [];
    for (const p of me.patients) {
      const page = await openRecords(p.patient, 20);
      const consent = p.consent.length
        ? el("ul", { class: "consent" }, ...p.consent.map((h) => el("li", { "data-holder": h.address }, `${h.address} (${h.kind})`)))
        : el("p", {}, "Nobody holds your consent.");
      cards.push(el("div", { class: "card", "data-patient": p.patient },
        el("h3", {}, `Patient ${short(p.patient)}`),
        el("p", {}, p.custodian ? `Custodian: ${p.custodian_name || ""} ${p.custodian} · data key version ${p.key_version}` : "Clear layout: the values below are public on chain."),
        el("h4", {}, "Who holds consent"), consent,
        el("h4", {}, `Records (${page.total}; the last ${page.records.length})`), recordsTable(page)));
    }
    $("patient-cards").replaceChildren(...cards);
  } catch (e) { viewError("patient-error", e); }
}

/** What the Doctor view shows: its patients and their record counts. */
let doctorShown = "";

/** The Doctor view's patients and their record counts, as one string. */
async function doctorState() {
  const me = await getJson("/api/doctor");
  const totals = await Promise.all(me.patients.map((p) => getJson(`/api/records/${p.patient}?limit=1`).then((r) => r.total)));
  return { me, key: JSON.stringify([me.patients.map((p) => p.patient), totals]) };
}

/** Draws the Doctor view; `state` is doctorState()'s, when just read. */
async function loadDoctor(state) {
  $("doctor-error").textContent = "";
  try {
    const { me, key } = state || await doctorState();
    doctorShown = key;
    if (!me.patients.length) {
      $("doctor-patients").replaceChildren(el("p", {}, "No patient has given you consent, and your hospital holds none."));
      return;
    }
    const cards = [];
    for (const p of me.patients) {
      const page = await openRecords(p.patient, 20);
      const latest = [...page.records].reverse().find((r) => r.values);
      const vitals = latest
        ? `latest: ${latest.values.hr} /min, SpO2 ${latest.values.spo2} %, ${latest.values.sys}/${latest.values.dia} mmHg, ${latest.values.temp} °C`
        : "no reading opened yet";
      cards.push(el("div", { class: "card", "data-patient": p.patient },
        el("h3", {}, `Patient ${short(p.patient)} (via ${p.via})`),
        el("p", { class: "latest" }, vitals), heartChart(page),
        el("p", { class: "note" }, THRESHOLDS), recordsTable(page)));
    }
    $("doctor-patients").replaceChildren(...cards);
  } catch (e) { viewError("doctor-error", e); }
}

async function loadBench() {
  $("bench-error").textContent = "";
  try {
    const list = await getJson("/api/reports");
    const rows = list.reports.map((r) => el("tr", { "data-report": r.name },
      el("td", {}, el("button", { class: "link", onclick: () => openReport(r) }, r.name)),
      el("td", {}, r.kind), el("td", { class: "num" }, String(r.bytes)),
      el("td", {}, new Date(r.modified * 1000).toISOString().replace("T", " ").slice(0, 19))));
    $("reports").tBodies[0].replaceChildren(...rows);
    if (!rows.length) $("bench-error").textContent = "No report yet: write one with `medchain bench … --json <network dir>/reports/NAME.json` (or --html).";
  } catch (e) { viewError("bench-error", e); }
}

async function openReport(r) {
  $("bench-error").textContent = "";
  if (r.kind === "html") {
    // Served under its own sandboxing policy: no script runs in it.
    $("report").replaceChildren(el("iframe", { id: "report-frame", src: `/reports/${encodeURIComponent(r.name)}`, title: r.name }));
    return;
  }
  try {
    const j = await getJson(`/reports/${encodeURIComponent(r.name)}`);
    const rounds = (j.rounds || []).map((x) => el("li", {}, `${x.label} (${x.op}): ${x.succ} succeeded, ${x.fail} failed, ${x.throughput_tps} TPS`));
    $("report").replaceChildren(el("h3", { id: "report-title" }, `${r.name}: ${j.scenario ?? ""}`), el("ul", {}, ...rounds),
      el("pre", { id: "report-json" }, JSON.stringify(j, null, 2)));
  } catch (e) { viewError("bench-error", e); }
}

/** Live Doctor view: on each new head, the view is redrawn when a patient
 *  or a record was added (one small request per patient), so a device's
 *  reading appears about one console poll (0.5 s) after its block. */
let doctorHead = null, doctorBusy = false;
window.onSnapshot = async (snap) => {
  const head = snap.blocks.length ? snap.blocks[snap.blocks.length - 1].number : null;
  if ($("doctor-view").hidden || doctorBusy || head === doctorHead || !doctorShown) return;
  doctorHead = head;
  doctorBusy = true;
  try {
    const state = await doctorState();
    if (state.key !== doctorShown) await loadDoctor(state);
  } catch (e) { viewError("doctor-error", e); } finally { doctorBusy = false; }
};

window.showView = (name) => {
  if (name !== "doctor") window.stopAlarms();
  if (name === "patient") loadPatient();
  else if (name === "doctor") { doctorShown = ""; $("doctor-patients").replaceChildren(); loadDoctor(); window.watchAlarms(); }
  else if (name === "bench") loadBench();
};

window.addEventListener("DOMContentLoaded", async () => {
  $("signin-hex").addEventListener("submit", signInWithKey);
  $("signin-keystore").addEventListener("submit", signInWithKeystore);
  $("signout").addEventListener("click", signOut);
  if (window.ethereum) {
    $("eip1193").hidden = false;
    $("signin-wallet").addEventListener("click", signInWithProvider);
  }
  try {
    const s = await getJson("/api/session");
    session = s.signed_in ? s : null;
  } catch { session = null; }
  showSession();
});
