// Times the console in Debian's headless Chromium (docs/performance.md,
// issue 17): the first load, and how long after a block arrives at the
// node the page shows it. Prints one JSON object.
//
//   node perf.mjs <console URL> <node RPC URL> <loads> <blocks>
//
// First load: a fresh browser context per run, from page.goto to the first
// node row drawn with data. Block to page: this script polls the node's
// eth_blockNumber every 10 ms and notes when each new head arrives; the
// page notes (MutationObserver, same machine clock) when that number first
// shows among the nodes' heads; the difference per block.
import { chromium } from "playwright-core";

const [url, rpc, loads = "10", blocks = "20"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function head() {
  const r = await fetch(rpc, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }) });
  return Number((await r.json()).result);
}

const out = { first_load_ms: [], block_to_page_ms: [] };
try {
  for (let i = 0; i < Number(loads); i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector("tr[data-node] td.up", { timeout: 10000 });
    out.first_load_ms.push(Date.now() - t0);
    await ctx.close();
  }
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("tr[data-node] td.up", { timeout: 10000 });
  await page.evaluate(() => {
    window.__seen = {};
    const note = () => {
      for (const e of document.querySelectorAll(".head-number")) {
        const n = Number(e.textContent);
        if (!(n in window.__seen)) window.__seen[n] = Date.now();
      }
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const arrived = {};
  let last = await head();
  const deadline = Date.now() + 60000 + 3000 * Number(blocks);
  while (Object.keys(arrived).length < Number(blocks) && Date.now() < deadline) {
    const h = await head();
    if (h > last) { arrived[h] = Date.now(); last = h; }
    await new Promise((ok) => setTimeout(ok, 10));
  }
  await page.waitForTimeout(3000);
  const seen = await page.evaluate(() => window.__seen);
  for (const [n, t] of Object.entries(arrived)) {
    if (n in seen) out.block_to_page_ms.push(seen[n] - t);
    else out.block_to_page_ms.push(null);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
