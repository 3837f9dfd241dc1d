// Opens `medchain serve` in Debian's headless Chromium and checks what a
// user sees: every node of the network listed as up under its hospital,
// the head advancing live without a reload, the Explorer decoding a
// transaction and explaining a bad query, and the sender's transaction
// history one click away. Prints one JSON object of
// findings and timings; tests/serve.rs decides what passes.
//
//   node check.mjs <console URL> <tx hash> <screenshot dir>
import { chromium } from "playwright-core";

const [url, txHash, shots] = process.argv.slice(2);
const out = {};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector("tr[data-node] td.up", { timeout: 10000 });
  out.first_render_ms = Date.now() - t0;
  out.nodes = await page.$$eval("tr[data-node]", (rows) => rows.map((r) => ({
    name: r.dataset.node,
    hospital: r.closest("[data-hospital]").dataset.hospital,
    state: r.children[2].textContent,
    head: Number(r.querySelector(".head-number").textContent),
  })));
  const before = Math.max(...out.nodes.map((n) => n.head));
  const t1 = Date.now();
  await page.waitForFunction((b) => [...document.querySelectorAll(".head-number")]
    .some((e) => Number(e.textContent) > b), before, { timeout: 10000 });
  out.live_update_ms = Date.now() - t1;
  out.bars = await page.$$eval("#chart-interval rect", (r) => r.length);
  await page.screenshot({ path: `${shots}/serve-network.png`, fullPage: true });

  await page.click("#tab-explorer");
  await page.fill("#query", "not a hash");
  await page.click("#lookup button");
  out.bad_query_message = await page.textContent("#lookup-error");
  await page.fill("#query", txHash);
  await page.click("#lookup button");
  await page.waitForSelector("#decoded-call", { timeout: 10000 });
  out.decoded_call = await page.textContent("#decoded-call");
  out.recent_blocks = await page.$$eval("#blocks tbody tr", (r) => r.length);
  await page.screenshot({ path: `${shots}/serve-explorer.png`, fullPage: true });
  // The sender's history, from the link in the transaction's detail.
  await page.click("#detail button.hash");
  await page.waitForSelector("#address-summary", { timeout: 10000 });
  out.history = {
    summary: await page.textContent("#address-summary"),
    rows: await page.$$eval("#address-txs tbody tr", (rows) => rows.map((r) => ({
      tx: r.dataset.tx,
      dir: r.children[2].textContent,
      status: r.children[3].textContent,
      call: r.children[4].textContent,
    }))),
  };
  await page.screenshot({ path: `${shots}/serve-address.png`, fullPage: true });
  out.page_errors = errors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
