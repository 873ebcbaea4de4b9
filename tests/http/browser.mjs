// browser.mjs BASE_URL SCREENSHOT [HTTPS_URL SPKI] - loads Kiln's live
// telemetry page in Debian's headless Chromium (driven by playwright-core)
// and checks that the cards show live values that change between two
// reads and that the request feed shows this test's own request path.
// Saves a screenshot. With HTTPS_URL it loads the page over HTTPS too,
// trusting exactly the certificate whose public key hashes to SPKI
// (base64 SHA-256), and checks it goes live there.
// Prints "ok NAME" / "FAIL NAME: why" lines, then (only when it ran to
// its end) "browser: N passed, N failed"; exits 1 on any failure.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, shot, sbase, spki] = process.argv.slice(2);
let failed = 0, passed = 0;
const check = (name, cond, why) => {
  if (cond) { passed++; console.log(`ok ${name}`); }
  else { failed++; console.log(`FAIL ${name}: ${why}`); }
};

const profile = mkdtempSync(join(tmpdir(), "kiln-web-chromium-"));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         ...(spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : [])],
});
try {
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const mine = "/browser-test-" + Math.random().toString(36).slice(2, 10);
  await page.goto(base + mine);
  const resp = await page.goto(base + "/telemetry/");
  check("page-loads", resp && resp.status() === 200, `status ${resp && resp.status()}`);
  await page.waitForSelector("#status.live", { timeout: 10000 });
  const read = () => page.evaluate(() => {
    const t = (id) => document.getElementById(id).textContent.trim();
    return { uptime: t("uptime"), served: t("served"), requests: t("requests"), active: t("active"),
             capacity: t("capacity"), mem: t("mem"), files: t("files"), mac: t("mac"),
             segsin: t("segsin"), passes: t("passes"), tcpmem: t("tcpmem"),
             tcpstates: t("tcpstates"),
             feed: [...document.querySelectorAll("#feed li .p")].map((e) => e.textContent) };
  });
  const a = await read();
  await page.waitForTimeout(1500);
  const b = await read();
  const filled = Object.entries(b).every(([k, v]) => k === "feed" || (v && v !== "-"));
  check("cards-filled", filled, JSON.stringify(b));
  check("cards-live", a.uptime !== b.uptime && a.requests !== b.requests && a.segsin !== b.segsin,
        `${JSON.stringify(a)} then ${JSON.stringify(b)}`);
  check("tcp-cards", /established [1-9]/.test(b.tcpstates) && /^TCP holds [0-9,]+ KiB/.test(b.tcpmem),
        `${b.tcpstates} / ${b.tcpmem}`);
  check("nic-mac", /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(b.mac), b.mac);
  check("feed-own-request", b.feed.some((p) => p === "GET " + mine) &&
        b.feed[b.feed.length - 1].startsWith("GET "), JSON.stringify(b.feed.slice(-5)));
  const charts = await page.evaluate(() =>
    document.querySelectorAll("#chart-req path, #chart-mem path").length);
  check("charts-drawn", charts === 4, `${charts} paths`);
  check("no-script-errors", errors.length === 0, errors.join("; "));
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot ${shot}`);
  if (sbase) {
    const tls = await page.goto(sbase + "/telemetry/");
    check("https-page-loads", tls && tls.status() === 200, `status ${tls && tls.status()}`);
    await page.waitForSelector("#status.live", { timeout: 10000 });
    const proto = await page.evaluate(() => location.protocol);
    check("https-page-live", proto === "https:", proto);
  }
} catch (e) {
  failed++;
  console.log(`FAIL browser: ${e}`);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
