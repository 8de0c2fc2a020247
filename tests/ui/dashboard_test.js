// Drives the dashboard in headless chromium (puppeteer-core, from NODE_PATH) against a keeld that
// dashboard_test.sh started on an empty database: seeds it through the API, then checks every page against the API's
// own answers, releases a held order as operations and is refused (and says so) as read-only.
'use strict';
const puppeteer = require('puppeteer-core');

const base = process.env.KEEL_BASE;
const keys = { admin: process.env.KEEL_KEY_ADMIN, operations: process.env.KEEL_KEY_OPERATIONS,
               readonly: process.env.KEEL_KEY_READONLY };
const OPEN_STATES = ['received', 'validated', 'on_hold', 'allocated', 'partially_allocated', 'backordered',
                     'released', 'picking', 'packed', 'partially_shipped'];

let failures = 0;
function check(ok, what) {
  if (!ok) {
    failures += 1;
    console.error('FAIL: ' + what);
  }
}
function equal(actual, expected, what) {
  check(actual === expected, `${what}: page shows ${JSON.stringify(actual)}, API says ${JSON.stringify(expected)}`);
}

async function api(key, method, path, body, headers = {}) {
  const init = { method, headers: { Authorization: 'Bearer ' + key, ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(base + '/api/v1' + path, init);
  const json = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

function day(offset) {
  return new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
}

function percent(part, whole) {
  return whole > 0 ? ((100 * part) / whole).toFixed(1) + '%' : '–';
}

// --------------------------------------------------------------------------------------------------- seeding

async function seed() {
  const admin = (method, path, body, headers) => api(keys.admin, method, path, body, headers);
  await admin('POST', '/locations', { code: 'WH1', name: 'Main', country: 'US', region: 'IL' });
  await admin('POST', '/items', { sku: 'SKU-A', name: 'Widget', safety_stock: 2 });
  await admin('POST', '/items', { sku: 'SKU-B', name: 'Gadget', safety_stock: 5 });
  await admin('POST', '/items', { sku: 'SKU-C', name: 'Gizmo' });
  await admin('POST', '/items', { sku: 'SKU-D', name: 'Doohickey', safety_stock: 1 });
  await admin('POST', '/items', { sku: 'SKU-L', name: 'Yoghurt', lot_tracked: true, expiry_tracked: true });
  await admin('POST', '/stock/receipts', { sku: 'SKU-A', location: 'WH1', quantity: 12, unit_cost: '7.50' });
  await admin('POST', '/stock/receipts', { sku: 'SKU-B', location: 'WH1', quantity: 3, unit_cost: '3.00' });
  await admin('POST', '/stock/receipts', { sku: 'SKU-D', location: 'WH1', quantity: 40, unit_cost: '1.00' });
  await admin('POST', '/stock/receipts',
              { sku: 'SKU-L', location: 'WH1', quantity: 6, lot: 'L-1', expiry: day(10), unit_cost: '0.80' });
  const order = async (id, sku, quantity, promise) => {
    const doc = { type: 'order', version: 1, channel: 'web', external_id: id, currency: 'USD',
                  customer: { id: 'C-1', email: 'ann@example.com' },
                  ship_to: { name: 'Ann Lee', line1: '1 Main St', city: 'Springfield', region: 'IL', postal_code: '62701',
                             country: 'US' },
                  lines: [{ sku, quantity, unit_price: '19.99' }], shipping: { amount: '5.00', service: 'ground' },
                  payment: { status: 'authorized' } };
    if (promise) doc.promise_date = promise;
    return (await admin('POST', '/orders', doc, { 'Idempotency-Key': 'seed-' + id })).id;
  };
  const ids = {};
  ids.shipped = await order('W-1', 'SKU-A', 3);
  await admin('POST', `/orders/${ids.shipped}/allocate`);
  const released = await admin('POST', `/orders/${ids.shipped}/shipments`);
  await admin('POST', `/shipments/${released.shipments[0]}/confirm`, { carrier: 'UPS', tracking: '1Z999' });
  ids.late = await order('W-2', 'SKU-A', 2, day(-1));
  await admin('POST', `/orders/${ids.late}/allocate`);
  ids.held = await order('W-3', 'SKU-A', 1, day(3));
  await admin('POST', `/orders/${ids.held}/hold`, { reason: 'fraud review' });
  ids.backordered = await order('W-4', 'SKU-C', 1, day(5));
  await admin('POST', `/orders/${ids.backordered}/allocate`);
  ids.stillHeld = await order('W-5', 'SKU-D', 1);
  await admin('POST', `/orders/${ids.stillHeld}/hold`, { reason: 'address check' });
  ids.toReject = await order('W-6', 'SKU-D', 2);
  await admin('POST', `/orders/${ids.toReject}/hold`, { reason: 'duplicate?' });
  return ids;
}

// ------------------------------------------------------------------------------------------------ the browser

function watch(page, label, expected) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expected.console && m.text().includes(expected.console)) return;
    check(false, `${label}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => check(false, `${label}: uncaught: ${e.message}`));
  page.on('requestfailed', (r) => check(false, `${label}: request failed: ${r.url()} ${r.failure().errorText}`));
  page.on('request', (r) => {
    const url = r.url();
    check(url.startsWith(base + '/') || url.startsWith('data:'), `${label}: a request left keeld: ${url}`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    if (expected.status === r.status() && r.url().includes(expected.url)) return;
    check(false, `${label}: ${r.request().method()} ${r.url()} answered ${r.status()}`);
  });
}

async function login(page, key) {
  await page.goto(base + '/ui', { waitUntil: 'load' });
  check(page.url() === base + '/ui/', `/ui redirects to /ui/ (at ${page.url()})`);
  await page.waitForSelector('#login:not([hidden])');
  await page.type('#key', key);
  await page.click('#login-submit');
  await page.waitForSelector('#view > [data-page="orders"][data-loaded]', { timeout: 15000 });
}

async function open(page, name) {
  await page.evaluate((n) => { location.hash = '#' + n; }, name);
  await page.waitForSelector(`#view > [data-page="${name}"][data-loaded]`, { timeout: 15000 });
  await pageLoaded(page, name);
}

async function pageLoaded(page, name) {
  // KEEL_UI_SCREENSHOTS=DIR keeps a picture of every page, to look at what the checks passed.
  if (process.env.KEEL_UI_SCREENSHOTS) {
    await page.screenshot({ path: `${process.env.KEEL_UI_SCREENSHOTS}/${name}-${Date.now()}.png`, fullPage: true });
  }
  const error = await page.$eval('#view', (v) => (v.querySelector('.message.error') || {}).textContent || '');
  check(error === '', `${name}: the page shows an error: ${error}`);
  const text = await page.$eval('#view', (v) => v.innerText);
  check(!/\b(null|undefined|NaN|Infinity)\b|\[object /.test(text), `${name}: the page shows a JavaScript value: ${text}`);
}

async function metric(page, name) {
  const found = await page.$(`[data-metric="${name}"]`);
  if (!found) {
    check(false, `no [data-metric="${name}"] on the page`);
    return undefined;
  }
  return page.$eval(`[data-metric="${name}"]`, (e) => e.textContent);
}

async function charts(page, name, minimum) {
  const n = await page.$$eval('#view svg.chart', (list) => list.length);
  check(n >= minimum, `${name}: ${n} charts drawn, expected at least ${minimum}`);
}

async function operationsPages(browser, ids) {
  const ops = (path) => api(keys.operations, 'GET', path);
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  watch(page, 'operations', {});
  await login(page, keys.operations);
  await pageLoaded(page, 'orders');

  // Order aging: the open orders of every state, against the promise dates.
  const lists = await Promise.all(OPEN_STATES.map((s) => ops(`/orders?state=${s}&limit=1000`)));
  const openOrders = lists.flatMap((l) => l.orders);
  const today = day(0);
  const late = openOrders.filter((o) => o.promise_date && o.promise_date < today).length;
  const dueToday = openOrders.filter((o) => o.promise_date === today).length;
  const later = openOrders.filter((o) => o.promise_date && o.promise_date > today).length;
  check(openOrders.length === 5 && late === 1, `seeded: 5 open orders, 1 late (API: ${openOrders.length}, ${late})`);
  equal(await metric(page, 'open-orders'), String(openOrders.length), 'open orders');
  equal(await metric(page, 'late-orders'), String(late), 'late orders');
  equal(await metric(page, 'due-today'), String(dueToday), 'due today');
  equal(await metric(page, 'on-track'), String(later), 'promised later');
  equal(await metric(page, 'no-promise'), String(openOrders.length - late - dueToday - later), 'without promise');
  equal(await metric(page, 'on-time-rate'), percent(dueToday + later, late + dueToday + later), 'on-time rate');
  check(await page.$(`tr[data-order="${ids.late}"]`) !== null, 'the late order W-2 is listed');
  await charts(page, 'orders', 1);

  // Inventory health.
  await open(page, 'inventory');
  const health = await ops('/reports/inventory-health');
  const s = health.summary;
  check(s.stockout === 1 && s.below_safety === 1 && s.overstock === 1 && s.expiring_lots === 1,
        `seeded: one item of each health problem (API: ${JSON.stringify(s)})`);
  equal(await metric(page, 'stockouts'), String(s.stockout), 'stockouts');
  equal(await metric(page, 'below-safety'), String(s.below_safety), 'below safety stock');
  equal(await metric(page, 'overstock'), String(s.overstock), 'overstock');
  equal(await metric(page, 'expiring-lots'), String(s.expiring_lots), 'expiring lots');
  equal(await metric(page, 'healthy'), String(s.ok), 'healthy items');
  for (const item of health.items) {
    const status = await page.$eval(`tr[data-sku="${item.sku}"]`, (tr) => tr.dataset.status).catch(() => null);
    equal(status, item.status, `health of ${item.sku}`);
  }
  check(await page.$('tr[data-lot="L-1"]') !== null, 'the expiring lot L-1 is listed');
  await charts(page, 'inventory', 1);

  // Throughput.
  await open(page, 'throughput');
  const flow = await ops('/reports/throughput?days=14');
  for (const stage of ['received', 'allocated', 'released', 'shipped', 'delivered']) {
    const total = flow.series.reduce((n, d) => n + d[stage], 0);
    equal(await metric(page, 'entered-' + stage), String(total), `orders entering ${stage}`);
  }
  check(flow.series.reduce((n, d) => n + d.received, 0) === 6, 'seeded: 6 orders received');
  equal(await metric(page, 'bottleneck'), flow.bottleneck || 'none', 'bottleneck');
  await charts(page, 'throughput', 2);

  // Fill rate; the ledger is not this role's.
  await open(page, 'sales');
  const fill = (await ops('/reports/throughput?days=30')).fill_rate;
  equal(await metric(page, 'unit-fill-rate'), percent(fill.units_filled, fill.units_wanted), 'unit fill rate');
  equal(await metric(page, 'order-fill-rate'), percent(fill.orders_filled_first_time, fill.orders_allocated),
        'order fill rate');
  equal(await metric(page, 'orders-short'), String(fill.orders_short), 'orders short');
  check(await page.$('[data-denied="/ledger/pnl"]') !== null, 'operations is told margin needs another role');

  // The exception queue, and a release.
  await open(page, 'exceptions');
  const queue = await ops('/exceptions');
  equal(await metric(page, 'exceptions'), String(queue.exceptions.length), 'exceptions');
  equal(await metric(page, 'held'), String(queue.exceptions.filter((e) => e.state === 'on_hold').length), 'held');
  equal(await metric(page, 'integration-failures'), String(queue.integrations.length), 'failed integrations');
  for (const e of queue.exceptions) {
    const reasons = await page.$eval(`tr[data-exception="${e.order_id}"]`, (tr) => tr.children[2].textContent)
      .catch(() => null);
    equal(reasons, e.reasons.join(''), `reasons of ${e.reference}`);
  }
  check(await page.$(`[data-release="${ids.held}"]`) !== null, 'operations sees a release button on W-3');
  await page.click(`[data-release="${ids.held}"]`);
  // The message of a completed action ("W-3 released: now validated."), not one that merely contains the word.
  await page.waitForFunction(() => /released: now/.test(document.querySelector('#status')?.textContent || ''),
                             { timeout: 15000 });
  await page.waitForSelector('#view > [data-page="exceptions"][data-loaded]');
  const after = await ops(`/orders/${ids.held}`);
  check(after.state !== 'on_hold', `W-3 released through the dashboard (state now ${after.state})`);
  check(await page.$(`tr[data-exception="${ids.held}"]`) === null, 'W-3 left the queue on the page');

  // A rejection needs its reason; with one, the order is rejected.
  await page.click(`[data-reject="${ids.toReject}"]`);
  await page.waitForFunction(() => /Say why/.test(document.querySelector('#status')?.textContent || ''));
  check((await ops(`/orders/${ids.toReject}`)).state === 'on_hold', 'no rejection without a reason');
  await page.type(`[data-reject-reason="${ids.toReject}"]`, 'duplicate of W-5');
  await page.click(`[data-reject="${ids.toReject}"]`);
  // Not /rejected/: the refusal above ("Say why the order is rejected") matches that before the POST has answered.
  await page.waitForFunction(() => /rejected: now/.test(document.querySelector('#status')?.textContent || ''),
                             { timeout: 15000 });
  await page.waitForSelector('#view > [data-page="exceptions"][data-loaded]');
  const rejected = await ops(`/orders/${ids.toReject}`);
  check(rejected.state === 'rejected', `W-6 rejected through the dashboard (state now ${rejected.state})`);
  await context.close();
}

async function readOnlyPages(browser, ids) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const expected = { status: 403, url: `/exceptions/${ids.stillHeld}/release`, console: '403' };
  let expect403 = false;
  watch(page, 'read-only', new Proxy(expected, { get: (t, k) => (expect403 ? t[k] : undefined) }));
  await login(page, keys.readonly);
  await pageLoaded(page, 'orders');

  await open(page, 'sales');
  const pnl = await api(keys.readonly, 'GET', '/ledger/pnl');
  check(pnl.channels.length > 0, 'seeded: the ledger has a channel (W-1 shipped)');
  for (const c of pnl.channels) equal(await metric(page, 'margin-' + c.channel), c.margin, `margin of ${c.channel}`);
  check(await page.$('[data-denied]') === null, 'read-only may see fill rate and margin');
  await charts(page, 'sales', 2);

  await open(page, 'exceptions');
  check(await page.$('[data-release]') === null, 'read-only sees no release button');
  check(await page.$('[data-reject]') === null, 'read-only sees no reject button');
  check(await page.$('[data-readonly]') !== null, 'read-only is told it cannot act');
  check(await page.$(`tr[data-exception="${ids.stillHeld}"]`) !== null, 'W-5 is in the queue');

  // Were a button shown anyway (an outdated page, a role changed meanwhile), the API's 403 is reported, not lost.
  await page.evaluate(() => session.who.allowed.push('POST /api/v1/exceptions/{id}/release'));
  await page.click('#refresh');
  await page.waitForSelector(`[data-release="${ids.stillHeld}"]`, { timeout: 15000 });
  expect403 = true;
  await page.click(`[data-release="${ids.stillHeld}"]`);
  await page.waitForFunction(() => /Not allowed/.test(document.querySelector('#status')?.textContent || ''),
                             { timeout: 15000 });
  expect403 = false;
  const order = await api(keys.admin, 'GET', `/orders/${ids.stillHeld}`);
  check(order.state === 'on_hold', `W-5 is still on hold after the refused release (${order.state})`);
  await context.close();
}

(async () => {
  const ids = await seed();
  const browser = await puppeteer.launch({ executablePath: process.env.KEEL_CHROMIUM, headless: true,
                                           args: ['--no-sandbox', '--disable-gpu'] });
  try {
    await operationsPages(browser, ids);
    await readOnlyPages(browser, ids);
  } finally {
    await browser.close();
  }
  if (failures > 0) {
    console.error(`dashboard: ${failures} check(s) failed`);
    process.exit(1);
  }
  console.log('dashboard: every page loaded clean and agreed with the API; release allowed and refused as it should');
})().catch((e) => {
  console.error('dashboard test: ' + (e.stack || e));
  process.exit(1);
});
