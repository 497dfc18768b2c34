// Drives octotracker's status page in a real headless chromium (Debian's, through puppeteer-core)
// and checks what a person would look at. Run by tracker-bin/tests/status_page.rs with:
//   OCTOTRACKER_METRICS   http://127.0.0.1:PORT   (the metrics listener: /, /status.json, /stats)
//   OCTOTRACKER_ANNOUNCE  http://127.0.0.1:PORT/announce
//   CHROMIUM              the browser (default /usr/bin/chromium)
// Exits non-zero, saying why, when a check fails. Every wait is bounded by DEADLINE_MS.
import puppeteer from "puppeteer-core";

const METRICS = process.env.OCTOTRACKER_METRICS;
const ANNOUNCE = process.env.OCTOTRACKER_ANNOUNCE;
const DEADLINE_MS = 30_000;
if (!METRICS || !ANNOUNCE) throw new Error("set OCTOTRACKER_METRICS and OCTOTRACKER_ANNOUNCE");

function check(ok, message) {
  if (!ok) throw new Error("check failed: " + message);
  console.log("ok: " + message);
}

const hashByte = n => n.toString(16).padStart(2, "0");
const hashHex = n => hashByte(n).repeat(20);
const escaped = n => ("%" + hashByte(n)).repeat(20);

// One announce over HTTP, as a BitTorrent client sends it (binary hashes percent-encoded).
async function announce(torrent, peer, left, event = "started") {
  const query = `info_hash=${escaped(torrent)}&peer_id=${escaped(peer)}&port=${6000 + peer}` +
    `&uploaded=0&downloaded=0&left=${left}&compact=1&event=${event}`;
  const response = await fetch(`${ANNOUNCE}?${query}`);
  const body = Buffer.from(await response.arrayBuffer()).toString("latin1");
  if (!response.ok || !body.startsWith("d") || body.includes("failure reason")) {
    throw new Error(`announce refused: ${response.status} ${body}`);
  }
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // Chromium's sandbox refuses to run as root; containers often have a tiny /dev/shm.
  args: ["--disable-dev-shm-usage", ...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [])],
});
const problems = [];
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(DEADLINE_MS);
  page.on("console", m => { if (m.type() === "error" || m.type() === "warn") problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", e => problems.push("page error: " + e.message));
  page.on("requestfailed", r => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", r => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  await page.setViewport({ width: 390, height: 844, isMobile: true }); // a phone

  const polls = () => page.$eval("#updated", e => Number(e.dataset.polls));
  // Waits until the page has polled `count` more times after now.
  async function pollsMore(count) {
    const start = await polls();
    await page.waitForFunction((n) => Number(document.querySelector("#updated").dataset.polls) >= n, {}, start + count);
  }
  const chart = id => page.$eval(id, svg => ({ points: Number(svg.dataset.points), max: Number(svg.dataset.max) }));

  const loaded = await page.goto(`${METRICS}/?every=300`, { waitUntil: "load" });
  check(loaded.ok(), "the page loads");
  check(!(await loaded.text()).match(/<(script|link|img)[^>]+(src|href)="(?!data:)/i), "the page loads nothing from elsewhere");
  await pollsMore(2);
  const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  check(pageWidth <= 390, `the page fits a phone's width (${pageWidth} px)`);

  // Some swarms, then the page's numbers against /stats once it has polled after them.
  for (let peer = 1; peer <= 3; peer++) await announce(1, peer, 0);
  for (let peer = 4; peer <= 5; peer++) await announce(1, peer, 1000);
  for (let peer = 6; peer <= 9; peer++) await announce(2, peer, 1000);
  await announce(3, 10, 0);
  // /stats counts afresh; the page's totals may be up to a second old (TOTALS_TTL): wait for it.
  const stats = await (await fetch(`${METRICS}/stats`)).json();
  await page.waitForFunction((expected) =>
    ["torrents", "peers", "seeders", "leechers"].every(k => document.getElementById(k).textContent === expected[k]),
    {}, Object.fromEntries(["torrents", "peers", "seeders", "leechers"].map(k => [k, Number(stats[k]).toLocaleString("en-US")])),
  ).catch(() => {});
  const shown = await page.evaluate(() =>
    Object.fromEntries(["torrents", "peers", "seeders", "leechers"].map(k => [k, document.getElementById(k).textContent])));
  for (const key of ["torrents", "peers", "seeders", "leechers"]) {
    check(shown[key] === Number(stats[key]).toLocaleString("en-US"), `${key} shown ${shown[key]}, /stats says ${stats[key]}`);
  }
  check(stats.torrents === 3 && stats.peers === 10 && stats.seeders === 4, "/stats counts the announced swarms");
  check(await page.$eval("#backend", e => e.textContent) === "memory", "the backend is named");
  check(await page.$eval("#health", e => e.textContent) === "ok", "the backend is healthy");
  check((await page.$eval("#version", e => e.textContent)).match(/^\d+\.\d+\.\d+/), "the version is shown");

  // Load: the announce-rate chart grows and shows it, the latency chart gets points.
  const before = await chart("#rate-chart");
  const loadEnds = Date.now() + 1500;
  let sent = 0;
  while (Date.now() < loadEnds) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => announce(4 + (sent + i) % 5, 20 + (sent + i) % 50, 1000)));
    sent += 10;
  }
  await pollsMore(2);
  const after = await chart("#rate-chart");
  check(after.points > before.points, `the rate chart grew (${before.points} to ${after.points} points)`);
  check(after.max > 0, `the rate chart shows the load (${sent} announces, peak ${after.max.toFixed(1)}/s)`);
  const latency = await chart("#latency-chart");
  check(latency.points > 0 && latency.max > 0, `the latency chart has points (max ${latency.max} s)`);

  // A page opened now charts the last minute at once, load included (the server's per-second
  // announce counts), before it has polled twice.
  const fresh = await browser.newPage();
  fresh.on("pageerror", e => problems.push("second page error: " + e.message));
  await fresh.goto(`${METRICS}/`, { waitUntil: "load" });
  await fresh.waitForFunction(() => Number(document.querySelector("#updated").dataset.polls) >= 1);
  const seeded = await fresh.$eval("#rate-chart", svg => ({ points: Number(svg.dataset.points), max: Number(svg.dataset.max) }));
  check(seeded.points >= 59 && seeded.max > 0, `a new page shows the last minute's load at once (${seeded.points} points, peak ${seeded.max}/s)`);
  await fresh.close();

  // Top torrents: every announced swarm (8 of them) is listed once the ranking is refreshed.
  const expected = [1, 2, 3, 4, 5, 6, 7, 8].map(hashHex);
  await page.waitForFunction((hashes) => {
    const listed = [...document.querySelectorAll("#top tr[data-hash]")].map(r => r.dataset.hash);
    return hashes.every(h => listed.includes(h));
  }, {}, expected);
  const listed = await page.$$eval("#top tr[data-hash]", rows => rows.map(r => r.dataset.hash));
  check(expected.every(h => listed.includes(h)), `top torrents list the announced hashes (${listed.length} rows)`);

  check(await page.$eval("#errors", e => getComputedStyle(e).display) === "none", "the page shows no error");
  check(problems.length === 0, "no console error, failed request or page error: " + JSON.stringify(problems));
} finally {
  await browser.close();
}
