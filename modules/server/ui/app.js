// The operations dashboard: five pages read from keeld's REST API (/api/v1) with the API key the user gives,
// kept in sessionStorage and sent as a Bearer token. What the key's role may do comes from GET /api/v1/whoami,
// so a page never offers an action (or calls a route) the server would refuse; a 403 that still happens is shown.
'use strict';

const KEY_STORAGE = 'keel.apiKey';
const OPEN_STATES = ['received', 'validated', 'on_hold', 'allocated', 'partially_allocated', 'backordered',
                     'released', 'picking', 'packed', 'partially_shipped'];
const AGE_BUCKETS = [
  { name: '< 1 day', max: 1, cls: 's1' },
  { name: '1–2 days', max: 2, cls: 's0' },
  { name: '2–3 days', max: 3, cls: 's2' },
  { name: '3–7 days', max: 7, cls: 's3' },
  { name: '> 7 days', max: Infinity, cls: 'sbad' },
];
const PAGES = { orders: pageOrders, exceptions: pageExceptions, inventory: pageInventory,
                throughput: pageThroughput, sales: pageSales };

const session = { who: null };

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json', Authorization: 'Bearer ' + sessionStorage.getItem(KEY_STORAGE) };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch('/api/v1' + path, init);
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    throw new ApiError(response.status, 'bad_response', `${method} ${path}: not JSON (${response.status})`);
  }
  if (!response.ok) {
    throw new ApiError(response.status, (json && json.code) || 'http_' + response.status,
                       (json && json.message) || response.statusText);
  }
  return json;
}

/// True when the key's role may call METHOD PATTERN (as the server's route table says).
function can(method, pattern) {
  return !!session.who && session.who.allowed.includes(`${method} /api/v1${pattern}`);
}

/// Every page of a list route (limit 1000), following next_offset.
async function allPages(path, field) {
  const out = [];
  const join = path.includes('?') ? '&' : '?';
  for (let offset = 0; ; ) {
    const page = await api('GET', `${path}${join}limit=1000&offset=${offset}`);
    out.push(...page[field]);
    if (page.next_offset === undefined) return out;
    offset = page.next_offset;
  }
}

// ------------------------------------------------------------------------------------------- small DOM helpers

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return node;
}

/// Appends the children that are not null (a section a role or the data leaves out).
function add(parent, ...children) {
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) parent.append(child);
  }
}

function kpi(metric, label, value, tone) {
  return h('div', { class: 'kpi' + (tone ? ' ' + tone : '') },
           h('div', { class: 'value', 'data-metric': metric }, value), h('div', { class: 'label' }, label));
}

function panel(title, ...children) {
  return h('div', { class: 'panel' }, h('h3', {}, title), ...children);
}

function table(headers, rows, numeric = []) {
  if (rows.length === 0) return h('p', { class: 'empty' }, 'Nothing here.');
  return h('table', {},
           h('thead', {}, h('tr', {}, headers.map((t, i) => h('th', { class: numeric.includes(i) ? 'num' : null }, t)))),
           h('tbody', {}, rows.map((cells) => {
             const attrs = cells.attrs || {};
             return h('tr', attrs, cells.map((c, i) => h('td', { class: numeric.includes(i) ? 'num' : null }, c)));
           })));
}

function percent(part, whole) {
  return whole > 0 ? ((100 * part) / whole).toFixed(1) + '%' : '–';
}

function ageText(seconds) {
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min';
  if (seconds < 86400) return Math.floor(seconds / 3600) + ' h';
  return Math.floor(seconds / 86400) + ' d';
}

function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

function denied(what, pattern) {
  const roles = 'admin, ' + (pattern.startsWith('/ledger') ? 'finance' : 'operations') + ' or read-only';
  return h('p', { class: 'notice', 'data-denied': pattern },
           `${what} needs a key with another role (${roles}); this key's role is ${session.who.role}.`);
}

function setStatus(text, isError) {
  const status = document.getElementById('status');
  status.replaceChildren();
  if (text) status.appendChild(h('p', { class: isError ? 'message error' : 'message' }, text));
}

// ------------------------------------------------------------------------------------------------------ pages

async function pageOrders(view) {
  if (!can('GET', '/orders')) return view.appendChild(denied('Order aging', '/orders'));
  const lists = await Promise.all(OPEN_STATES.map((s) => allPages(`/orders?state=${s}`, 'orders')));
  const now = Date.now();
  const today = todayUtc();
  let late = 0, dueToday = 0, onTrack = 0, noPromise = 0;
  const lateOrders = [];
  const rows = [];
  OPEN_STATES.forEach((state, i) => {
    const counts = AGE_BUCKETS.map(() => 0);
    for (const order of lists[i]) {
      const days = (now - Date.parse(order.created_at)) / 86400000;
      counts[AGE_BUCKETS.findIndex((b) => days < b.max)] += 1;
      if (!order.promise_date) noPromise += 1;
      else if (order.promise_date < today) {
        late += 1;
        lateOrders.push(order);
      } else if (order.promise_date === today) dueToday += 1;
      else onTrack += 1;
    }
    if (lists[i].length > 0) {
      rows.push({ label: state.replace('_', ' '),
                  segments: AGE_BUCKETS.map((b, j) => ({ value: counts[j], cls: b.cls, name: b.name })) });
    }
  });
  const open = lists.reduce((sum, l) => sum + l.length, 0);
  const promised = late + dueToday + onTrack;
  add(view,
    h('h2', {}, 'Order aging and service levels'),
    h('div', { class: 'kpis' },
      kpi('open-orders', 'open orders', open),
      kpi('late-orders', 'past their promise date', late, late > 0 ? 'bad' : 'good'),
      kpi('due-today', 'promised for today', dueToday, dueToday > 0 ? 'warn' : null),
      kpi('on-track', 'promised later', onTrack, 'good'),
      kpi('no-promise', 'without a promise date', noPromise),
      kpi('on-time-rate', 'of promised orders not late', percent(promised - late, promised),
          late > 0 ? 'warn' : 'good')),
    panel('Open orders by state and age (since created)',
          rows.length ? Charts.hbars(rows, { label: 'open orders by state and age', legend: AGE_BUCKETS }) :
                        h('p', { class: 'empty' }, 'No open orders.')),
    panel('Late orders (oldest promise first)',
          table(['Order', 'State', 'Promised', 'Days late', 'Total'],
                lateOrders.sort((a, b) => a.promise_date.localeCompare(b.promise_date)).map((o) => {
                  const row = [`${o.channel}/${o.external_id}`, o.state, o.promise_date,
                               Math.round((Date.parse(today) - Date.parse(o.promise_date)) / 86400000),
                               `${o.total} ${o.currency}`];
                  row.attrs = { 'data-order': o.id };
                  return row;
                }), [3, 4])));
}

async function pageExceptions(view) {
  if (!can('GET', '/exceptions')) return view.appendChild(denied('The exception queue', '/exceptions'));
  const queue = await api('GET', '/exceptions');
  const mayRelease = can('POST', '/exceptions/{id}/release');
  const mayReject = can('POST', '/exceptions/{id}/reject');
  const reasons = new Map();
  for (const e of queue.exceptions) for (const r of e.reasons) reasons.set(r, (reasons.get(r) || 0) + 1);
  const held = queue.exceptions.filter((e) => e.state === 'on_hold').length;

  const act = async (button, verb, order, body) => {
    button.disabled = true;
    try {
      const result = await api('POST', `/exceptions/${encodeURIComponent(order.order_id)}/${verb}`, body);
      setStatus(`${order.reference} ${verb === 'release' ? 'released' : 'rejected'}: now ${result.state}.`);
      await show();
    } catch (e) {
      button.disabled = false;
      if (e.status === 403) {
        setStatus(`Not allowed: this key's role (${session.who.role}) may not ${verb} orders. ${e.message}`, true);
      } else {
        setStatus(`Could not ${verb} ${order.reference}: ${e.message}`, true);
      }
    }
  };
  const actions = (order) => {
    if (order.state !== 'on_hold' || (!mayRelease && !mayReject)) return '';
    const reason = h('input', { type: 'text', placeholder: 'reason to reject', 'aria-label': 'reason to reject',
                                'data-reject-reason': order.order_id });
    const cell = h('div', { class: 'actions' });
    if (mayRelease) {
      cell.appendChild(h('button', { type: 'button', class: 'primary', 'data-release': order.order_id,
                                     onclick: (ev) => act(ev.currentTarget, 'release', order) }, 'Release'));
    }
    if (mayReject) {
      cell.append(reason, h('button', {
        type: 'button', class: 'danger', 'data-reject': order.order_id,
        onclick: (ev) => {
          if (!reason.value.trim()) return setStatus('Say why the order is rejected (the reason is kept).', true);
          return act(ev.currentTarget, 'reject', order, { reason: reason.value.trim() });
        } }, 'Reject'));
    }
    return cell;
  };
  add(view,
    h('h2', {}, 'Exception queue'),
    h('div', { class: 'kpis' },
      kpi('exceptions', 'orders in the queue', queue.exceptions.length, queue.exceptions.length ? 'warn' : 'good'),
      kpi('held', 'on hold', held, held ? 'warn' : 'good'),
      kpi('integration-failures', 'failed integrations', queue.integrations.length,
          queue.integrations.length ? 'bad' : 'good')),
    mayRelease || mayReject ? null :
      h('p', { class: 'notice', 'data-readonly': '' },
        `This key's role (${session.who.role}) can see the queue but not release or reject orders.`),
    panel('Orders', table(['Order', 'State', 'Reasons', 'Age', ''], queue.exceptions.map((e) => {
      const row = [e.reference, e.state, e.reasons.map((r) => h('span', { class: 'tag warn' }, r)),
                   ageText(e.age_seconds), actions(e)];
      row.attrs = { 'data-exception': e.order_id };
      return row;
    }))),
    reasons.size ? panel('Hold and exception reasons',
                         Charts.hbars([...reasons].sort((a, b) => b[1] - a[1]).map(([label, value]) =>
                           ({ label: label.length > 24 ? label.slice(0, 23) + '…' : label,
                              segments: [{ value, cls: 's2' }] })), { label: 'exception reasons', labelWidth: 170 }))
                 : null,
    panel('Failed integrations', table(['Source', 'Code', 'Message', 'Reference', 'Age'],
                                       queue.integrations.map((e) => [e.source, e.code, e.message, e.reference,
                                                                      ageText(e.age_seconds)]))));
}

async function pageInventory(view) {
  if (!can('GET', '/reports/inventory-health')) {
    return view.appendChild(denied('Inventory health', '/reports/inventory-health'));
  }
  const report = await api('GET', '/reports/inventory-health');
  const s = report.summary;
  const tone = { stockout: 'bad', below_safety: 'warn', overstock: 's4' };
  add(view,
    h('h2', {}, 'Inventory health'),
    h('div', { class: 'kpis' },
      kpi('stockouts', 'stockouts (no free stock)', s.stockout, s.stockout ? 'bad' : 'good'),
      kpi('below-safety', 'below safety stock', s.below_safety, s.below_safety ? 'warn' : 'good'),
      kpi('expiring-lots', `lots expiring within ${report.expiring_days} days`, s.expiring_lots,
          s.expiring_lots ? 'warn' : 'good'),
      kpi('overstock', `overstock (> ${report.overstock_factor}× safety stock)`, s.overstock),
      kpi('healthy', 'items in good shape', s.ok, 'good')),
    panel('Items by health',
          Charts.hbars([
            { label: 'stockout', segments: [{ value: s.stockout, cls: 'sbad' }] },
            { label: 'below safety stock', segments: [{ value: s.below_safety, cls: 's2' }] },
            { label: 'overstock', segments: [{ value: s.overstock, cls: 's4' }] },
            { label: 'ok', segments: [{ value: s.ok, cls: 'sgood' }] },
          ], { label: 'items by health' })),
    h('div', { class: 'grid2' },
      panel('Items that need attention',
            table(['SKU', 'Name', 'Health', 'On hand', 'Allocated', 'Safety', 'Available'],
                  report.items.map((i) => {
                    const row = [i.sku, i.name, h('span', { class: 'tag ' + (tone[i.status] === 'bad' ? 'bad' : 'warn') },
                                                  i.status.replace('_', ' ')),
                                 i.on_hand, i.allocated, i.safety_stock, i.available];
                    row.attrs = { 'data-sku': i.sku, 'data-status': i.status };
                    return row;
                  }), [3, 4, 5, 6])),
      panel('Expiring and expired lots',
            table(['SKU', 'Lot', 'Location', 'Expires', 'Days left', 'Quantity'],
                  report.expiring.map((l) => {
                    const row = [l.sku, l.lot, l.location, l.expiry,
                                 l.expired ? h('span', { class: 'tag bad' }, 'expired') : l.days_left, l.quantity];
                    row.attrs = { 'data-lot': l.lot };
                    return row;
                  }), [4, 5]))));
}

const FLOW = [
  { stage: 'received', cls: 's5' }, { stage: 'allocated', cls: 's0' }, { stage: 'released', cls: 's4' },
  { stage: 'shipped', cls: 's1' }, { stage: 'delivered', cls: 'sgood' },
];

async function pageThroughput(view) {
  if (!can('GET', '/reports/throughput')) return view.appendChild(denied('Throughput', '/reports/throughput'));
  const report = await api('GET', '/reports/throughput?days=14');
  const dates = report.series.map((d) => d.date);
  const totals = Object.fromEntries(report.stages.map((s) => [s, report.series.reduce((n, d) => n + d[s], 0)]));
  const waiting = report.stages.filter((s) => report.wip[s]);
  add(view,
    h('h2', {}, 'Fulfillment throughput'),
    h('div', { class: 'kpis' },
      ...FLOW.map((f) => kpi('entered-' + f.stage, `${f.stage} in ${report.days} days`, totals[f.stage])),
      kpi('bottleneck', 'stage with most orders waiting', report.bottleneck || 'none', report.bottleneck ? 'warn' : 'good')),
    panel(`Orders entering each stage per day (UTC, since ${report.since})`,
          Charts.lines(dates, FLOW.map((f) => ({ name: f.stage, cls: f.cls, values: report.series.map((d) => d[f.stage]) })),
                       { label: 'orders per stage per day' })),
    panel('Orders waiting in each stage now (the longest bar is the bottleneck)',
          Charts.hbars(waiting.map((s) => ({
            label: s, highlight: s === report.bottleneck,
            segments: [{ value: report.wip[s].orders, cls: s === report.bottleneck ? 'sbad' : 's0' }] })),
                       { label: 'orders waiting per stage' }),
          table(['Stage', 'Waiting', 'Oldest'], waiting.filter((s) => report.wip[s].orders > 0).map((s) => {
            const row = [s, report.wip[s].orders, ageText(report.wip[s].oldest_age_seconds)];
            row.attrs = { 'data-stage': s };
            return row;
          }), [1, 2])));
}

async function pageSales(view) {
  view.appendChild(h('h2', {}, 'Fill rate and margin by channel'));
  if (can('GET', '/reports/throughput')) {
    const report = await api('GET', '/reports/throughput?days=30');
    const f = report.fill_rate;
    add(view,
      h('div', { class: 'kpis' },
        kpi('unit-fill-rate', `units filled of units ordered (${report.days} days)`,
            percent(f.units_filled, f.units_wanted)),
        kpi('order-fill-rate', 'orders allocated in full at once', percent(f.orders_filled_first_time, f.orders_allocated)),
        kpi('orders-short', 'orders that waited for stock', f.orders_short, f.orders_short ? 'warn' : 'good')),
      panel(`Fill rate of orders created since ${report.since}`,
            Charts.hbars([
              { label: 'units', segments: [{ value: f.units_filled, cls: 'sgood', name: 'filled' },
                                           { value: f.units_wanted - f.units_filled, cls: 'sbad', name: 'not yet' }] },
              { label: 'orders', segments: [{ value: f.orders_filled_first_time, cls: 'sgood', name: 'in full' },
                                            { value: f.orders_short, cls: 's2', name: 'short' }] },
            ], { label: 'fill rate', legend: [{ name: 'filled', cls: 'sgood' }, { name: 'short', cls: 's2' },
                                              { name: 'not filled yet', cls: 'sbad' }] })));
  } else {
    view.appendChild(denied('Fill rate', '/reports/throughput'));
  }
  if (!can('GET', '/ledger/pnl')) return view.appendChild(denied('Margin by channel', '/ledger/pnl'));
  const pnl = await api('GET', '/ledger/pnl');
  const number = (text) => Number(text);
  add(view,
    panel(`Net sales and margin by channel (${pnl.currency}, ledger)`,
          pnl.channels.length ? Charts.hbars(pnl.channels.flatMap((c) => [
            { label: c.channel + ' net sales', segments: [{ value: Math.max(0, number(c.net_sales)), cls: 's0' }] },
            { label: c.channel + ' margin', segments: [{ value: Math.max(0, number(c.margin)), cls: number(c.margin) < 0 ? 'sbad' : 'sgood' }] },
          ]), { label: 'net sales and margin by channel', labelWidth: 190, format: (v) => v.toFixed(2) })
                              : h('p', { class: 'empty' }, 'No postings yet.'),
          table(['Channel', 'Revenue', 'Net sales', 'COGS', 'Fees', 'Margin', 'Margin %'],
                pnl.channels.map((c) => {
                  const row = [c.channel, c.revenue, c.net_sales, c.cogs, c.fees,
                               h('span', { 'data-metric': 'margin-' + c.channel }, c.margin),
                               percent(number(c.margin), number(c.net_sales))];
                  row.attrs = { 'data-channel': c.channel };
                  return row;
                }), [1, 2, 3, 4, 5, 6])));
}

// ------------------------------------------------------------------------------------------- routing, login

async function show() {
  const page = PAGES[location.hash.slice(1)] ? location.hash.slice(1) : 'orders';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === page);
  const view = document.getElementById('view');
  const fresh = h('div', { 'data-page': page, 'data-loading': '' });
  view.replaceChildren(fresh);
  try {
    await PAGES[page](fresh);
  } catch (e) {
    if (e.status === 401) return signOut('The key is no longer accepted (revoked?): enter a key.');
    fresh.appendChild(h('p', { class: 'message error' },
                        e.status === 403 ? `Not allowed for this key's role (${session.who.role}): ${e.message}`
                                         : `Could not load: ${e.message}`));
  }
  fresh.removeAttribute('data-loading');
  fresh.setAttribute('data-loaded', '');
}

function signOut(why) {
  sessionStorage.removeItem(KEY_STORAGE);
  session.who = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  document.getElementById('view').replaceChildren();
  setStatus('');
  document.getElementById('login').hidden = false;
  document.getElementById('login-error').textContent = why || '';
}

async function start() {
  try {
    session.who = await api('GET', '/whoami');
  } catch (e) {
    return signOut(e.status === 401 ? 'That key is not accepted.' : `keeld did not answer: ${e.message}`);
  }
  document.getElementById('login').hidden = true;
  document.getElementById('nav').hidden = false;
  document.getElementById('who').hidden = false;
  document.getElementById('who-text').textContent = `${session.who.name} (${session.who.role})`;
  await show();
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, document.getElementById('key').value.trim());
    document.getElementById('key').value = '';
    start();
  });
  document.getElementById('signout').addEventListener('click', () => signOut());
  document.getElementById('refresh').addEventListener('click', () => {
    setStatus('');
    show();
  });
  window.addEventListener('hashchange', () => {
    setStatus('');
    if (session.who) show();
  });
  if (sessionStorage.getItem(KEY_STORAGE)) start();
  else signOut();
});
