// Small inline-SVG charts for the dashboard: stacked horizontal bars and a line chart. No library, no network:
// the dashboard must work offline. Colours come from CSS classes (s0..s5, sbad, sgood) so the page's
// Content-Security-Policy can forbid inline styles.
'use strict';

const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function svg(width, height, label) {
    return el('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  }

  // A legend: [{name, cls}].
  function legend(items) {
    const div = document.createElement('div');
    div.className = 'legend';
    for (const item of items) {
      const span = document.createElement('span');
      const box = el('svg', { width: 10, height: 10, viewBox: '0 0 10 10', 'aria-hidden': 'true' });
      box.appendChild(el('rect', { width: 10, height: 10, class: item.cls }));
      span.appendChild(box);
      span.appendChild(document.createTextNode(item.name));
      div.appendChild(span);
    }
    return div;
  }

  // Stacked horizontal bars: rows [{label, segments: [{value, cls, name}], highlight}]; the total is written at
  // the end of each bar. Returns a container element.
  function hbars(rows, options = {}) {
    const width = 640, labelWidth = options.labelWidth || 150, rowHeight = 24, gap = 6;
    const height = Math.max(rows.length, 1) * (rowHeight + gap) + 4;
    const max = Math.max(1, ...rows.map((r) => r.segments.reduce((sum, s) => sum + s.value, 0)));
    const plot = width - labelWidth - 50;
    const chart = svg(width, height, options.label || 'bar chart');
    rows.forEach((row, i) => {
      const y = i * (rowHeight + gap) + 2;
      chart.appendChild(el('text', { x: labelWidth - 6, y: y + rowHeight / 2 + 4, 'text-anchor': 'end',
                                     class: row.highlight ? '' : 'muted', 'font-weight': row.highlight ? 700 : 400 },
                           row.label));
      let x = labelWidth;
      let total = 0;
      for (const s of row.segments) {
        const w = (s.value / max) * plot;
        if (s.value > 0) {
          const rect = el('rect', { x: x.toFixed(1), y, width: Math.max(w, 1).toFixed(1), height: rowHeight, class: s.cls });
          rect.appendChild(el('title', {}, `${row.label}${s.name ? ' · ' + s.name : ''}: ${s.value}`));
          chart.appendChild(rect);
        }
        x += w;
        total += s.value;
      }
      chart.appendChild(el('text', { x: x + 5, y: y + rowHeight / 2 + 4 }, options.format ? options.format(total) : total));
    });
    const box = document.createElement('div');
    box.appendChild(chart);
    if (options.legend) box.appendChild(legend(options.legend));
    return box;
  }

  // A line chart: x labels (dates) and series [{name, values, cls}].
  function lines(xLabels, series, options = {}) {
    const width = 640, height = 240, left = 36, right = 24, top = 10, bottom = 30;
    const max = Math.max(1, ...series.flatMap((s) => s.values));
    const ticks = niceTicks(max);
    const top_value = ticks[ticks.length - 1];
    const plotW = width - left - right, plotH = height - top - bottom;
    const x = (i) => left + (xLabels.length <= 1 ? plotW / 2 : (i * plotW) / (xLabels.length - 1));
    const y = (v) => top + plotH - (v / top_value) * plotH;
    const chart = svg(width, height, options.label || 'line chart');
    for (const t of ticks) {
      chart.appendChild(el('line', { x1: left, x2: width - right, y1: y(t), y2: y(t), class: t === 0 ? 'axis' : 'grid' }));
      chart.appendChild(el('text', { x: left - 4, y: y(t) + 4, 'text-anchor': 'end', class: 'muted' }, t));
    }
    const every = Math.max(1, Math.ceil(xLabels.length / 7));
    xLabels.forEach((label, i) => {
      if (i % every === 0 || i === xLabels.length - 1) {
        chart.appendChild(el('text', { x: x(i), y: height - 10, 'text-anchor': 'middle', class: 'muted' }, label.slice(5)));
      }
    });
    for (const s of series) {
      const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const line = el('polyline', { points, class: s.cls });
      line.appendChild(el('title', {}, s.name));
      chart.appendChild(line);
      s.values.forEach((v, i) => {
        const dot = el('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, class: s.cls });
        dot.appendChild(el('title', {}, `${s.name} ${xLabels[i]}: ${v}`));
        chart.appendChild(dot);
      });
    }
    const box = document.createElement('div');
    box.appendChild(chart);
    box.appendChild(legend(series.map((s) => ({ name: s.name, cls: s.cls }))));
    return box;
  }

  function niceTicks(max) {
    const raw = max / 4;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw));
    const out = [];
    for (let t = 0; t <= max + step - 1e-9; t += step) out.push(Math.round(t));
    if (out.length < 2) out.push(step);
    return out;
  }

  return { hbars, lines, legend };
})();
