// Drives the console's writes and alarms in Debian's headless Chromium with
// keys imported into the page, one step per run, and prints what the page
// showed as one JSON object; tests/serve_writes.rs decides what passes.
//
//   node writes.mjs grant  <url> <patient key> <doctor key> <hospital key> <patient id> <doctor address> <device address>
//   node writes.mjs alarm  <url> <doctor key>     (prints "ready" once the Doctor view listens, then the result)
//   node writes.mjs revoke <url> <patient key> <doctor key> <doctor address>
//   node writes.mjs live   <url> <doctor key> <heart rate>   (prints "ready" once the Doctor view shows its records, then when a reading with that heart rate appeared)
//   node writes.mjs wallet <url> <hospital key> <doctor address>
//                          (signs in through an EIP-1193 provider and registers the doctor with it: a
//                           SIMULATED browser wallet injected into the page, holding the key — headless
//                           Chromium runs no wallet extension)
//   node writes.mjs hospital <url> <hospital key> <device address> <admin key> <new hospital address>
//                          (the hospital revokes the device; the admin adds a hospital named "east", then removes it)
import { chromium } from "playwright-core";

const [mode, url, ...rest] = process.argv.slice(2);
const out = { page_errors: [] };
const T = { timeout: 30000 };

async function signIn(page, key) {
  await page.click("#tab-signin");
  if (await page.isVisible("#signout")) {
    await page.click("#signout");
    await page.waitForFunction(() => document.getElementById("who").textContent === "not signed in", null, T);
  }
  await page.fill("#key-hex", key);
  await page.click("#signin-hex button");
  await page.waitForFunction(() => document.getElementById("who").textContent !== "not signed in"
    || document.getElementById("signin-error").textContent !== "", null, T);
  const err = await page.textContent("#signin-error");
  if (err) throw new Error(`sign-in failed: ${err}`);
}

/** Clicks `button` and waits for the write's outcome: done, or an error. */
async function write(page, prefix, button) {
  await page.click(button);
  await page.waitForFunction((p) => document.getElementById(`${p}-write-status`).dataset.done
    || document.getElementById(`${p}-write-error`).textContent !== "", prefix, { timeout: 60000 });
  return { done: await page.$eval(`#${prefix}-write-status`, (e) => e.dataset.done || ""),
    status: await page.textContent(`#${prefix}-write-status`), error: await page.textContent(`#${prefix}-write-error`) };
}

async function doctorRows(page) {
  await page.click("#tab-network");
  await page.click("#tab-doctor");
  await page.waitForFunction(() => document.querySelectorAll("#doctor-patients tr[data-record], #doctor-patients p").length > 0
    || document.getElementById("doctor-error").textContent !== "", null, T);
  return { text: await page.textContent("#doctor-patients"), error: await page.textContent("#doctor-error"),
    rows: await page.$$eval("#doctor-patients tr[data-record]", (trs) => trs.map((tr) => ({ record: tr.dataset.record,
      hr: tr.querySelector("td.hr")?.textContent ?? null, error: tr.querySelector("td.error")?.textContent ?? null }))) };
}

async function grant(page, [patientKey, doctorKey, hospitalKey, patient, doctor, device]) {
  await signIn(page, patientKey);
  await page.click("#tab-patient");
  await page.waitForFunction(() => document.getElementById("consent-patient").value !== "", null, T);
  await page.fill("#consent-reader", doctor);
  out.grant = await write(page, "patient", "#consent-grant");
  out.again = await write(page, "patient", "#consent-grant");
  await signIn(page, doctorKey);
  out.doctor = await doctorRows(page);
  await signIn(page, hospitalKey);
  await page.click("#tab-hospital");
  await page.fill("#device-address", device);
  await page.fill("#device-patient", patient);
  out.device = await write(page, "hospital", "#register-device");
}

async function alarm(page, [doctorKey]) {
  await signIn(page, doctorKey);
  await page.click("#tab-doctor");
  await page.waitForTimeout(500);
  console.log("ready");
  await page.waitForSelector("#alarms li[data-alarm] button.ack", T);
  out.seen_at = Date.now();
  out.alarm = await page.$eval("#alarms li[data-alarm]", (li) => ({ key: li.dataset.alarm, text: li.textContent }));
  await page.click("#alarms li[data-alarm] button.ack");
  await page.waitForSelector("#alarms li[data-alarm] .ack-state", T);
  out.acked = await page.textContent("#alarms li[data-alarm]");
}

async function revoke(page, [patientKey, doctorKey, doctor]) {
  await signIn(page, patientKey);
  await page.click("#tab-patient");
  await page.waitForFunction(() => document.getElementById("consent-patient").value !== "", null, T);
  await page.fill("#consent-reader", doctor);
  out.revoke = await write(page, "patient", "#consent-revoke");
  void doctorKey;
}

async function live(page, [doctorKey, hr]) {
  await signIn(page, doctorKey);
  await doctorRows(page);
  console.log("ready");
  await page.waitForFunction((v) => [...document.querySelectorAll("#doctor-patients td.hr")].some((td) => td.textContent === v),
    hr, { timeout: 30000, polling: 50 });
  out.seen_at = Date.now();
  out.latest = await page.textContent("#doctor-patients p.latest");
}

async function hospital(page, [hospitalKey, device, adminKey, newHospital]) {
  await signIn(page, hospitalKey);
  await page.click("#tab-hospital");
  await page.fill("#device-address", device);
  out.revoke_device = await write(page, "hospital", "#revoke-device");
  await signIn(page, adminKey);
  await page.click("#tab-hospital");
  await page.fill("#hospital-address", newHospital);
  await page.fill("#hospital-name", "east");
  out.add_hospital = await write(page, "hospital", "#add-hospital");
  if (process.env.SHOTS) await page.screenshot({ path: `${process.env.SHOTS}/serve-hospital.png`, fullPage: true });
  out.add_again = await write(page, "hospital", "#add-hospital");
  out.remove_hospital = await write(page, "hospital", "#remove-hospital");
}

/**
 * A simulated EIP-1193 provider (what a wallet extension injects as
 * window.ethereum), holding `keyHex`: accounts, personal_sign, and
 * eth_sendTransaction signed with the page's wallet code and sent through
 * the console's relay, as an extension would send it to its own node.
 */
function simulatedWallet(keyHex) {
  const rpc = async (method, params) => {
    const r = await fetch("/api/rpc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ method, params }) });
    const a = await r.json();
    if (!r.ok || a.error) throw new Error((a.error && (a.error.message || a.error)) || `HTTP ${r.status}`);
    return a.result;
  };
  window.ethereum = {
    simulated: true,
    async request({ method, params }) {
      const w = window.medchainWallet.fromPrivateKey(keyHex);
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [w.address.toLowerCase()];
      if (method === "personal_sign") return w.signMessage(params[0]);
      if (method === "eth_sendTransaction") {
        const call = params[0];
        const [nonce, gas, price, tip, chainId] = await Promise.all([rpc("eth_getTransactionCount", [call.from, "pending"]),
          rpc("eth_estimateGas", [call]), rpc("eth_gasPrice", []), rpc("eth_maxPriorityFeePerGas", []), rpc("eth_chainId", [])]);
        const raw = w.signTransaction({ chainId: Number(chainId), nonce, gas: (BigInt(gas) * 12n) / 10n,
          maxFeePerGas: BigInt(price) * 2n, maxPriorityFeePerGas: tip, to: call.to, value: 0, data: call.data });
        return rpc("eth_sendRawTransaction", [raw]);
      }
      throw new Error(`the simulated wallet does not do ${method}`);
    },
  };
}

async function wallet(page, [hospitalKey, doctor]) {
  await page.addInitScript(simulatedWallet, hospitalKey);
  await page.goto(url);
  await page.click("#tab-signin");
  await page.click("#signin-wallet");
  await page.waitForFunction(() => document.getElementById("who").textContent !== "not signed in"
    || document.getElementById("signin-error").textContent !== "", null, T);
  out.who = await page.textContent("#who");
  out.signin_error = await page.textContent("#signin-error");
  await page.click("#tab-hospital");
  await page.fill("#doctor-address", doctor);
  out.register = await write(page, "hospital", "#register-doctor");
}

/** The Explorer's history of `address`: its summary and rows. */
async function history(page, [address]) {
  await page.click("#tab-explorer");
  await page.fill("#query", address);
  await page.click("#lookup button");
  await page.waitForSelector("#address-summary", { timeout: 10000 });
  out.rows = await page.$$eval("#address-txs tbody tr", (rows) => rows.map((r) => ({
    tx: r.dataset.tx, dir: r.children[2].textContent, status: r.children[3].textContent, call: r.children[4].textContent })));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => out.page_errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/status of 40[13]/.test(m.text())) out.page_errors.push(m.text()); });
  await page.goto(url);
  await ({ grant, alarm, revoke, live, hospital, history, wallet })[mode](page, rest);
  if (process.env.SHOTS) await page.screenshot({ path: `${process.env.SHOTS}/serve-${mode}.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
