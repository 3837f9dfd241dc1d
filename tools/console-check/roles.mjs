// Signs in to `medchain serve` in Debian's headless Chromium with keys
// imported into the page, as a patient, a doctor and the admin, and reports
// what each sees: roles, the readings the page decrypted, abnormal values,
// the 403 message of a view the address has no role for, and the bench
// reports opened. Prints one JSON object; tests/serve_roles.rs decides what
// passes.
//
//   node roles.mjs <console URL> <patient key> <doctor key> <admin key> <screenshot dir> <keystore file> <its password>
import { chromium } from "playwright-core";

const [url, patientKey, doctorKey, adminKey, shots, keystore, keystorePassword] = process.argv.slice(2);
const out = { page_errors: [], refused_loads: [] };
const T = { timeout: 20000 };

async function signIn(page, key, role) {
  await page.click("#tab-signin");
  if (await page.isVisible("#signout")) {
    await page.click("#signout");
    await page.waitForFunction(() => document.getElementById("who").textContent === "not signed in", null, T);
  }
  await page.fill("#key-hex", key);
  await page.click("#signin-hex button");
  await page.waitForFunction((r) => (document.getElementById("who").dataset.roles || "").split(",").includes(r)
    || document.getElementById("signin-error").textContent !== "", role, T);
  const err = await page.textContent("#signin-error");
  if (err) throw new Error(`sign-in as ${role} failed: ${err}`);
  return page.textContent("#who");
}

async function rows(page, container) {
  await page.waitForFunction((c) => document.querySelectorAll(`${c} tr[data-record]`).length >= 2
    || document.querySelector(`${c}`).closest("section").querySelector(".error").textContent !== "", container, T);
  return page.$$eval(`${container} tr[data-record]`, (trs) => trs.map((tr) => {
    const cell = (k) => tr.querySelector(`td.${k}`)?.textContent ?? null;
    return { record: tr.dataset.record, hr: cell("hr"), spo2: cell("spo2"), sys: cell("sys"), dia: cell("dia"), temp: cell("temp"),
      error: tr.querySelector("td.error")?.textContent ?? null };
  }));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => out.page_errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    // The 403 this check provokes on purpose shows as a failed load.
    if (/status of 40[13]/.test(m.text())) out.refused_loads.push(m.text());
    else out.page_errors.push(m.text());
  });
  await page.goto(url);

  // A geth keystore and its password, decrypted in the page.
  await page.click("#tab-signin");
  await page.setInputFiles("#keystore-file", keystore);
  await page.fill("#keystore-password", keystorePassword);
  await page.click("#signin-keystore button");
  await page.waitForFunction(() => document.getElementById("who").textContent !== "not signed in"
    || document.getElementById("signin-error").textContent !== "", null, T);
  out.keystore = { who: await page.textContent("#who"), error: await page.textContent("#signin-error") };

  out.patient = { who: await signIn(page, patientKey, "patient") };
  await page.click("#tab-patient");
  out.patient.rows = await rows(page, "#patient-cards");
  out.patient.error = await page.textContent("#patient-error");
  out.patient.holders = await page.$$eval("#patient-cards li[data-holder]", (l) => l.map((e) => e.dataset.holder));
  await page.screenshot({ path: `${shots}/serve-patient.png`, fullPage: true });

  out.doctor = { who: await signIn(page, doctorKey, "doctor") };
  await page.click("#tab-doctor");
  out.doctor.rows = await rows(page, "#doctor-patients");
  out.doctor.error = await page.textContent("#doctor-error");
  out.doctor.abnormal = await page.$$eval("#doctor-patients td.abnormal", (c) => c.map((e) => e.textContent));
  out.doctor.chart_points = await page.$eval("#doctor-patients svg.mini polyline", (p) => p.getAttribute("points").split(" ").length).catch(() => 0);
  await page.screenshot({ path: `${shots}/serve-doctor.png`, fullPage: true });
  await page.click("#tab-patient");
  await page.waitForFunction(() => document.getElementById("patient-error").textContent !== "", null, T);
  out.doctor.patient_view_error = await page.textContent("#patient-error");

  out.admin = { who: await signIn(page, adminKey, "admin") };
  await page.click("#tab-bench");
  await page.waitForSelector("#reports tr[data-report]", T);
  out.admin.reports = await page.$$eval("#reports tr[data-report]", (r) => r.map((e) => e.dataset.report));
  await page.click('#reports tr[data-report="tiny.json"] button');
  await page.waitForSelector("#report-title", T);
  out.admin.json_title = await page.textContent("#report-title");
  await page.click('#reports tr[data-report="tiny.html"] button');
  await page.waitForSelector("#report-frame", T);
  const frame = await (await page.$("#report-frame")).contentFrame();
  await frame.waitForLoadState("load");
  out.admin.html_text = (await frame.textContent("body")).slice(0, 2000);
  await page.screenshot({ path: `${shots}/serve-bench.png`, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
