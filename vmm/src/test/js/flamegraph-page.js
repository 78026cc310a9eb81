// Loads a report page written by `lbrvmm report --html` in jsdom with its script running, and
// clicks and types as a user would: a frame click zooms to it, "Reset zoom" zooms out, the search
// box highlights matching frames and says their share. Exits 1 with the reason on any failure,
// including an error on the page's console. Usage: node flamegraph-page.js PAGE.html
const { JSDOM, VirtualConsole } = require('jsdom');
const fs = require('fs');

const errors = [];
const vc = new VirtualConsole();
vc.on('error', (e) => errors.push(String(e)));
vc.on('jsdomError', (e) => errors.push(String(e)));
const dom = new JSDOM(fs.readFileSync(process.argv[2], 'utf8'), { runScripts: 'dangerously', virtualConsole: vc });
const doc = dom.window.document;

function fail(why) {
  console.error('FAIL: ' + why);
  process.exit(1);
}
function width(g) { return +g.querySelector('rect').getAttribute('width'); }
function shown(g) { return g.style.display !== 'none'; }

const frames = Array.from(doc.querySelectorAll('g.frame'));
if (frames.length < 3) fail('the flame graph has ' + frames.length + ' frames');
const root = frames.find((g) => g.dataset.l === '0');
// a frame one level up that does not already span the whole width
const child = frames.find((g) => g.dataset.l === '2' && +g.dataset.w < 1100) || frames.find((g) => +g.dataset.w < 1100);
if (!child) fail('no narrow frame to zoom into');
const before = width(child);
const x0 = +child.dataset.x, w0 = +child.dataset.w, l0 = +child.dataset.l;
const inner = frames.find((g) => +g.dataset.l === l0 + 1 && +g.dataset.x >= x0 && +g.dataset.x + +g.dataset.w <= x0 + w0 + 1e-6);
const beside = frames.filter((g) => +g.dataset.l >= l0 && (+g.dataset.x + +g.dataset.w <= x0 + 1e-6 || +g.dataset.x >= x0 + w0 - 1e-6));
child.dispatchEvent(new dom.window.MouseEvent('click', { bubbles: true }));
if (Math.abs(width(child) - 1199.5) > 0.01) fail('a clicked frame should fill the width; it is ' + width(child) + ' wide (was ' + before + ')');
if (inner && Math.abs(width(inner) + 0.5 - (+inner.dataset.w) * 1200 / w0) > 0.05) fail('a frame inside the zoomed one did not scale');
if (beside.some(shown)) fail('frames beside the zoomed one are still shown');
doc.getElementById('reset').dispatchEvent(new dom.window.MouseEvent('click', { bubbles: true }));
if (!frames.every(shown)) fail('reset zoom left frames hidden');
if (Math.abs(width(child) - before) > 0.01) fail('reset zoom did not restore the frame width');

const box = doc.getElementById('search');
const name = child.dataset.name;
box.value = name;
box.dispatchEvent(new dom.window.Event('input', { bubbles: true }));
const matched = frames.filter((g) => g.classList.contains('match'));
if (matched.length === 0 || !matched.every((g) => g.dataset.name.includes(name))) fail('search for ' + name + ' marked ' + matched.length);
const said = doc.getElementById('matched').textContent;
if (!/^[0-9]+ frames? match, [0-9.]+% of samples$/.test(said)) fail('the search says "' + said + '"');
box.value = '';
box.dispatchEvent(new dom.window.Event('input', { bubbles: true }));
if (frames.some((g) => g.classList.contains('match'))) fail('clearing the search left frames marked');
if (errors.length) fail('console errors: ' + errors.join('; '));
console.log('OK ' + frames.length + ' frames; zoom, reset and search work; search said "' + said + '"');
