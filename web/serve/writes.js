// medchain console, writes: transactions the page signs itself — consent
// grant and revoke (Patient view; the keys wrapped in this page as
// src/privacy/consent.rs does) and the hospital / admin transactions
// (devices, doctors, global readers). An EIP-1193 wallet signs and sends
// when there is one and no key was imported; else the imported key signs an
// EIP-1559 transaction here and the console relays it (/api/rpc, a wallet's
// methods only). Each write is first dry-run (eth_call) so a revert shows
// the contract's reason and nothing is sent; it is shown as done only after
// its receipt says status 1. DOM with textContent only (el() from app.js).
"use strict";

const RECEIPT_POLLS = 120; // × 500 ms: a minute for the receipt

/** One JSON-RPC call through the console's relay; throws the node's error. */
async function rpc(method, params) {
  const a = await getJson("/api/rpc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ method, params }) });
  if (a.error) {
    const e = new Error(medchainWallet.revertReason(a.error.data) || a.error.message);
    e.rpc = a.error;
    throw e;
  }
  return a.result;
}

/** The current session (views.js keeps it) and the imported key's holder. */
const who = () => window.medchainSession();

/** Sends `data` to the records contract from the signed-in address. */
async function send(data, status) {
  const { session, wallet } = who();
  if (!session) throw new Error("sign in first (Sign in tab)");
  const call = { from: session.address, to: session.contract, data };
  status.textContent = "checking the call against the contract (eth_call)…";
  try { await rpc("eth_call", [call, "latest"]); } catch (e) { throw new Error(`the contract refuses it: ${e.message}`); }
  let hash;
  if (!wallet && window.ethereum) {
    status.textContent = "waiting for the browser wallet to sign and send…";
    hash = await window.ethereum.request({ method: "eth_sendTransaction", params: [call] });
  } else {
    if (!wallet) throw new Error("no key in this page to sign with: sign in with an imported key or a browser wallet");
    const [nonce, gas, price, tip] = await Promise.all([rpc("eth_getTransactionCount", [session.address, "pending"]),
      rpc("eth_estimateGas", [call]), rpc("eth_gasPrice", []), rpc("eth_maxPriorityFeePerGas", [])]);
    const raw = wallet.signTransaction({ chainId: session.chain_id, nonce, gas: (BigInt(gas) * 12n) / 10n,
      maxFeePerGas: BigInt(price) * 2n, maxPriorityFeePerGas: tip, to: session.contract, value: 0, data });
    status.textContent = "sending the signed transaction…";
    hash = await rpc("eth_sendRawTransaction", [raw]);
  }
  status.textContent = `sent ${hash}; waiting for its receipt…`;
  for (let i = 0; i < RECEIPT_POLLS; i++) {
    const r = await rpc("eth_getTransactionReceipt", [hash]);
    if (r) {
      if (r.status !== "0x1") throw new Error(`transaction ${hash} reverted in block ${Number(r.blockNumber)}`);
      return { hash, block: Number(r.blockNumber) };
    }
    await new Promise((ok) => setTimeout(ok, 500));
  }
  throw new Error(`no receipt for ${hash} after a minute: not known to have succeeded`);
}

/** Runs one write with its status and error lines; `after` on success. */
async function write(prefix, label, build, after) {
  const status = $(`${prefix}-write-status`), err = $(`${prefix}-write-error`);
  status.textContent = "";
  err.textContent = "";
  status.dataset.done = "";
  try {
    const data = await build();
    const r = await send(data, status);
    status.textContent = `${label}: done (transaction ${r.hash}, block ${r.block}, status 1)`;
    status.dataset.done = label;
    if (after) after();
  } catch (e) {
    status.textContent = "";
    err.textContent = `${label} failed: ${e.message}`;
  }
}

const enc = (name, types, values) => medchainWallet.encodeCall(name, types, values);
const val = (id) => $(id).value.trim();

async function grantData() {
  const { wallet } = who();
  if (!wallet) throw new Error("granting re-wraps your data keys in this page: sign in with your key imported");
  const patient = val("consent-patient"), reader = val("consent-reader");
  const inp = await getJson(`/api/consent/${patient}?action=grant&reader=${encodeURIComponent(reader)}`);
  const w = wallet.grantWraps({ patient, mine: inp.mine, readerKey: inp.reader_key });
  return enc("grantConsent", ["bytes32", "address", "uint32[]", "bytes[]"], [patient, reader, w.versions, w.wrapped]);
}

async function revokeData() {
  const { wallet } = who();
  if (!wallet) throw new Error("revoking draws a new data key in this page: sign in with your key imported");
  const patient = val("consent-patient"), reader = val("consent-reader");
  const inp = await getJson(`/api/consent/${patient}?action=revoke&reader=${encodeURIComponent(reader)}`);
  const w = wallet.rotateWraps({ patient, next: inp.next_version, keepers: inp.keepers });
  return enc("revokeConsent", ["bytes32", "address", "bytes", "address[]", "bytes[]"], [patient, reader, w.newDataKey, w.readers, w.wrapped]);
}

const HOSPITAL_WRITES = {
  "register-device": ["device registered", () => enc("registerDevice", ["address", "bytes32"], [val("device-address"), val("device-patient")])],
  "revoke-device": ["device revoked", () => enc("revokeDevice", ["address"], [val("device-address")])],
  "register-doctor": ["doctor registered", () => enc("registerDoctor", ["address"], [val("doctor-address")])],
  "add-hospital": ["hospital added", () => enc("addHospital", ["address", "string"], [val("hospital-address"), val("hospital-name")])],
  "remove-hospital": ["hospital removed", () => enc("removeHospital", ["address"], [val("hospital-address")])],
  "set-reader": ["global reader set", () => enc("setGlobalReader", ["address", "bool"], [val("reader-address"), $("reader-allowed").checked])],
};

window.addEventListener("DOMContentLoaded", () => {
  $("consent-grant").addEventListener("click", () => write("patient", "consent granted", grantData, () => window.showView("patient")));
  $("consent-revoke").addEventListener("click", () => write("patient", "consent revoked", revokeData, () => window.showView("patient")));
  for (const [id, [label, build]] of Object.entries(HOSPITAL_WRITES)) {
    $(id).addEventListener("click", () => write("hospital", label, build));
  }
});
