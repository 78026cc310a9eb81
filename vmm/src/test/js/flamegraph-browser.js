// Opens a report page written by `lbrvmm report --html` in headless Chromium (Debian's, driven by
// playwright-core) in a 900 px wide window and uses it as a person would, with real mouse clicks
// and key presses: nothing overflows sideways, no label runs past its frame or the chart, a click
// on a frame zooms to it, "Reset zoom" zooms out, typing in the search box highlights the matching
// frames and says their share, the page makes no request (it is one self-contained file) and
// writes nothing to the console. Exits 1 with the reason on any failure.
// Usage: node flamegraph-browser.js PAGE.html CHROMIUM [SCREENSHOT.png]
const { chromium } = require('playwright-core');
const path = require('path');

const [page0, executable, screenshot] = process.argv.slice(2);
const problems = [];

(async () => {
  const browser = await chromium.launch({
    executablePath: executable,
    // without the background-networking flags Chromium keeps calling out to a closed network
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const url = 'file://' + path.resolve(page0);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push('console ' + m.type() + ': ' + m.text()); });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('request', (r) => { if (r.url() !== url) problems.push('the page asked for ' + r.url()); });
    await page.goto(url);

    const fail = (why) => { throw new Error(why); };
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) fail('the page is ' + overflow + ' px wider than a 900 px window');

    // labels measured by the browser's own text layout, in the SVG's units
    const clipped = await page.evaluate(() => {
      const out = [];
      document.querySelectorAll('svg').forEach((svg) => {
        const W = svg.viewBox.baseVal.width;
        svg.querySelectorAll('text').forEach((t) => {
          if (!t.textContent || t.closest('g') && t.closest('g').style.display === 'none') return;
          const x = +t.getAttribute('x'), len = t.getComputedTextLength();
          const frame = t.closest('g.frame');
          const limit = frame ? +frame.querySelector('rect').getAttribute('x') + +frame.querySelector('rect').getAttribute('width') : W;
          if (x + len > limit + 0.5) out.push('"' + t.textContent + '" ends at ' + (x + len).toFixed(1) + ', past ' + limit.toFixed(1));
        });
      });
      return out;
    });
    if (clipped.length) fail('labels run past their box: ' + clipped.slice(0, 5).join('; '));

    const frameWidth = (sel) => page.$eval(sel, (g) => +g.querySelector('rect').getAttribute('width'));
    // a frame that does not fill the width
    const target = await page.evaluate(() => {
      const all = Array.from(document.querySelectorAll('g.frame'));
      // one with a frame beside it, so zooming has something to hide
      const beside = (f) => all.some((o) => +o.dataset.l >= +f.dataset.l
        && (+o.dataset.x + +o.dataset.w <= +f.dataset.x + 1e-6 || +o.dataset.x >= +f.dataset.x + +f.dataset.w - 1e-6));
      const g = all.find((f) => +f.dataset.w < 1100 && +f.dataset.w > 20 && beside(f));
      if (!g) return null;
      g.id = 'zoom-target';
      return { name: g.dataset.name, frames: all.length };
    });
    if (!target) fail('no narrow frame to click');
    const before = await frameWidth('#zoom-target');
    await page.click('#zoom-target rect');
    const zoomed = await frameWidth('#zoom-target');
    if (Math.abs(zoomed - 1199.5) > 0.01) fail('a clicked frame should fill the width; it is ' + zoomed + ' wide (was ' + before + ')');
    const hidden = await page.$$eval('g.frame', (gs) => gs.filter((g) => g.style.display === 'none').length);
    if (hidden === 0) fail('zooming hid no frame beside the clicked one');
    if ((await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) > 0) fail('the zoomed page overflows');

    await page.click('#reset');
    if (await page.$$eval('g.frame', (gs) => gs.some((g) => g.style.display === 'none'))) fail('reset zoom left frames hidden');
    if (Math.abs((await frameWidth('#zoom-target')) - before) > 0.01) fail('reset zoom did not restore the frame width');

    await page.click('#search');
    await page.keyboard.type(target.name);
    const said = await page.textContent('#matched');
    if (!/^[0-9]+ frames? match, [0-9.]+% of samples$/.test(said)) fail('the search says "' + said + '"');
    const marked = await page.$$eval('g.match', (gs) => gs.map((g) => g.dataset.name));
    if (marked.length === 0 || !marked.every((n) => n.includes(target.name))) fail('search for ' + target.name + ' marked ' + marked.join(','));
    const fill = await page.$eval('g.match rect', (r) => getComputedStyle(r).fill);
    if (fill !== 'rgb(200, 80, 220)') fail('a matching frame is drawn ' + fill + ', not highlighted');
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    await page.fill('#search', '');
    await page.dispatchEvent('#search', 'input');
    if ((await page.$$('g.match')).length) fail('clearing the search left frames marked');

    if (problems.length) fail(problems.join('; '));
    console.log('OK ' + target.frames + ' frames at 900 px; zoom, reset and search work; search said "' + said + '"');
  } catch (e) {
    console.error('FAIL: ' + e.message + (problems.length ? ' (also: ' + problems.join('; ') + ')' : ''));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
