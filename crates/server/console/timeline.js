// The timeline of one line's activities beside the map: a row per activity
// (who, at what altitudes), a bar per volume for when it is active, the
// conflicts' meetings marked on both rows, hour ticks in 24-hour UTC and a
// "now" line. SVG, no library; words come from the caller.

import { volumeBand, volumeTimes } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const ROW = 22; // px a row
const AXIS = 22; // px for the hour axis
const HOUR = 3_600_000;

function el(name, attrs = {}, parent = null, text = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

/** The lowest and highest altitude of some volumes, metres. */
export function band(volumes) {
  const b = volumes.map(volumeBand);
  return [Math.min(...b.map((x) => x[0])), Math.max(...b.map((x) => x[1]))];
}

/**
 * Draws `rows` ({id, party, own, volumes, label}) and `conflicts` ({id,
 * a: {id}, b: {id}, meetings: [{time_start, time_end}]}) into `svg`, from
 * `now` − 1 h to `now` + `hours` (every window when `hours` is null), with
 * `now` marked; `tick(ms)` labels an hour, `title` names a bar or mark. Bars
 * and marks are cut to the span; one wholly outside it is not drawn.
 */
export function drawTimeline(svg, { rows, conflicts, now, hours, tick, title }) {
  svg.textContent = "";
  const width = Math.max(svg.getBoundingClientRect().width || 600, 400);
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows)
    for (const v of r.volumes) {
      const [a, b] = volumeTimes(v);
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  // Room for the longest row label (about 6.5 px a character at 11 px), at most 45% of the width.
  const LABEL = Math.min(width * 0.45, Math.max(120, ...rows.map((r) => r.label.length * 6.5 + 10)));
  const height = AXIS + Math.max(rows.length, 1) * ROW + 4;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", String(height));
  if (!Number.isFinite(lo)) return { start: null, end: null };
  if (hours) [lo, hi] = [now - HOUR, now + hours * HOUR];
  lo = Math.floor(Math.min(lo, now) / HOUR) * HOUR;
  hi = Math.ceil(hi / HOUR) * HOUR;
  // A window [a, b) cut to the span, or null when it lies outside.
  const cut = (a, b) => (b <= lo || a >= hi ? null : [Math.max(a, lo), Math.min(b, hi)]);
  const span = Math.max(hi - lo, HOUR);
  const x = (ms) => LABEL + ((ms - lo) / span) * (width - LABEL - 8);
  // Hour ticks: every hour, or every few hours when they would crowd.
  const step = Math.max(1, Math.ceil((span / HOUR) / Math.max(1, (width - LABEL) / 60))) * HOUR;
  const axis = el("g", { class: "tl-axis" }, svg);
  for (let ms = lo; ms <= hi; ms += step) {
    el("line", { x1: x(ms), x2: x(ms), y1: AXIS - 4, y2: height, class: "tl-grid" }, axis);
    if (x(ms) < width - 44) el("text", { x: x(ms) + 2, y: AXIS - 8, class: "tl-tick" }, axis, tick(ms));
  }
  rows.forEach((r, i) => {
    const y = AXIS + i * ROW;
    const g = el("g", { class: `tl-row ${r.own ? "own" : "other"}`, "data-activity": r.id }, svg);
    el("text", { x: 4, y: y + ROW * 0.7, class: "tl-label" }, g, r.label);
    r.volumes.forEach((v, n) => {
      const shown = cut(...volumeTimes(v));
      if (!shown) return;
      const [a, b] = shown;
      const bar = el("rect", { x: x(a), y: y + 4, width: Math.max(x(b) - x(a), 2), height: ROW - 8, class: `tl-bar ${r.own ? "own" : "other"}`, "data-volume": String(n) }, g);
      el("title", {}, bar, title("bar", { row: r, volume: v }));
    });
  });
  // Conflicts: a mark on each side's row over the time they meet.
  for (const c of conflicts) {
    for (const side of [c.a, c.b]) {
      const i = rows.findIndex((r) => r.id === side?.id);
      if (i < 0) continue;
      const y = AXIS + i * ROW;
      for (const m of c.meetings || []) {
        const shown = cut(Date.parse(m.time_start), Date.parse(m.time_end));
        if (!shown) continue;
        const [a, b] = shown;
        const mark = el("rect", { x: x(a), y: y + 1, width: Math.max(x(b) - x(a), 3), height: ROW - 2, class: "tl-conflict", "data-conflict": c.id }, svg);
        el("title", {}, mark, title("conflict", { conflict: c, meeting: m }));
      }
    }
  }
  if (now >= lo && now <= hi) el("line", { x1: x(now), x2: x(now), y1: AXIS - 4, y2: height, class: "tl-now" }, svg);
  return { start: lo, end: hi };
}
