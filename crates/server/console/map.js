// The map: an SVG in Web Mercator, with the Natural Earth basemap (TopoJSON,
// decoded here), pan (drag, arrow keys), zoom (wheel, + and -), the layers
// (activities, protected sites, conflicts' meeting areas, the draft notice),
// labels, a graticule with its degrees at the edges, a scale bar, the
// coordinates under the cursor (through `onMove`) and a time filter. No
// library: the projection is a few lines.

const SVG = "http://www.w3.org/2000/svg";
const WORLD = 1024; // world width in SVG units at scale 1
const MAX_LAT = 85.05112878;
const EARTH_R = 6371008.8; // mean radius, metres, for drawing circles only
const EQUATOR_M = 40075016.686; // the equator's length, metres (Web Mercator's scale)
/** Graticule spacings offered, degrees. */
const GRID_STEPS = [30, 10, 5, 2, 1, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01];

/** Longitude, latitude (degrees) to world coordinates. */
export function project(lng, lat) {
  const phi = (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180;
  return [((lng + 180) / 360) * WORLD, ((1 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / Math.PI) / 2) * WORLD];
}

/** World coordinates back to [lng, lat]. */
export function unproject(x, y) {
  const lng = (x / WORLD) * 360 - 180;
  const n = Math.PI - (2 * Math.PI * y) / WORLD;
  return [lng, (180 / Math.PI) * Math.atan(Math.sinh(n))];
}

/** A circle as a ring of [lng, lat] (spherical destination; for display only). */
export function circleRing(lat, lng, radiusM, steps = 72) {
  const d = radiusM / EARTH_R;
  const p1 = (lat * Math.PI) / 180;
  const l1 = (lng * Math.PI) / 180;
  const ring = [];
  for (let i = 0; i < steps; i++) {
    const b = (2 * Math.PI * i) / steps;
    const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
    const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    ring.push([(l2 * 180) / Math.PI, (p2 * 180) / Math.PI]);
  }
  return ring;
}

/** The outline of an F3548 Volume4D as a ring of [lng, lat]. */
export function volumeRing(v) {
  const vol = v.volume || {};
  if (vol.outline_polygon) return vol.outline_polygon.vertices.map((p) => [p.lng, p.lat]);
  if (vol.outline_circle) {
    const c = vol.outline_circle;
    return circleRing(c.center.lat, c.center.lng, c.radius.value);
  }
  return [];
}

/** A volume's time window in ms since the epoch. */
export function volumeWindow(v) {
  return [Date.parse(v.time_start?.value), Date.parse(v.time_end?.value)];
}

function ringPath(ring) {
  if (!ring.length) return "";
  // Keep a ring continuous across the antimeridian.
  let prev = ring[0][0];
  const pts = ring.map(([lng, lat]) => {
    while (lng - prev > 180) lng -= 360;
    while (lng - prev < -180) lng += 360;
    prev = lng;
    return project(lng, lat);
  });
  return "M" + pts.map((p) => `${p[0].toFixed(3)},${p[1].toFixed(3)}`).join("L") + "Z";
}

/** Decodes a TopoJSON topology's object into SVG path data, one per geometry. */
export function topoPaths(topo, objectName) {
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  const arcs = topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty];
    });
  });
  const ring = (indices) => {
    const pts = [];
    for (const i of indices) {
      const a = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
      pts.push(...(pts.length ? a.slice(1) : a));
    }
    return pts;
  };
  const out = [];
  for (const g of topo.objects[objectName].geometries) {
    const polys = g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : [];
    const d = polys
      .flatMap((rings) => rings.map((r) => "M" + ring(r).map(([lng, lat]) => project(lng, lat).map((c) => c.toFixed(2)).join(",")).join("L") + "Z"))
      .join("");
    if (d) out.push({ id: g.id, name: g.properties?.name, d });
  }
  return out;
}

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

export class MapView {
  constructor(svg, { onClick, onMove, label, coordLabel }) {
    this.svg = svg;
    this.onClick = onClick;
    this.onMove = onMove;
    this.label = label;
    // A coordinate for the graticule's edges: (value, "lat" | "lng") to text.
    this.coordLabel = coordLabel;
    this.k = 1;
    this.tx = 0;
    this.ty = 0;
    this.time = null;
    this.layers = { activities: [], sites: [], conflicts: [], draft: null, preview: [] };
    this.world = el("g", { class: "world" }, svg);
    this.gBase = el("g", { class: "basemap", "aria-hidden": "true" }, this.world);
    this.gGrid = el("g", { class: "graticule", "aria-hidden": "true" }, this.world);
    this.gSites = el("g", { class: "sites" }, this.world);
    this.gActivities = el("g", { class: "activities" }, this.world);
    this.gConflicts = el("g", { class: "conflicts" }, this.world);
    this.gDraft = el("g", { class: "draft" }, this.world);
    this.gLabels = el("g", { class: "labels", "aria-hidden": "true" }, this.world);
    // Drawn in screen space over the world: the graticule's degrees, the scale bar.
    this.overlay = el("g", { class: "overlay", "aria-hidden": "true" }, svg);
    this.bindInput();
    // The edges move when the page's layout does (a banner, a narrower window).
    new ResizeObserver(() => this.drawGrid()).observe(svg);
  }

  size() {
    const r = this.svg.getBoundingClientRect();
    return [r.width || 800, r.height || 500];
  }

  setBasemap(topo) {
    this.gBase.textContent = "";
    el("rect", { class: "sea", x: -WORLD, y: -WORLD, width: WORLD * 3, height: WORLD * 3 }, this.gBase);
    for (const c of topoPaths(topo, "countries")) el("path", { class: "country", d: c.d }, this.gBase);
  }

  applyTransform() {
    this.world.setAttribute("transform", `translate(${this.tx.toFixed(2)} ${this.ty.toFixed(2)}) scale(${this.k})`);
    this.svg.style.setProperty("--k", String(this.k));
    this.drawGrid();
  }

  /** The graticule for the view, its degrees at the edges, and the scale bar. */
  drawGrid() {
    const [w, h] = this.size();
    const [west, north] = this.at(this.svg.getBoundingClientRect().left, this.svg.getBoundingClientRect().top);
    const [east, south] = [west + (w / (WORLD * this.k)) * 360, unproject(0, (h - this.ty) / this.k)[1]];
    const top = Math.min(MAX_LAT, north);
    const bottom = Math.max(-MAX_LAT, south);
    // Each way, the finest spacing whose degrees still fit at the edge: a
    // longitude label every 110 px at most, a latitude one every 40 px.
    const spacing = (span, room) => GRID_STEPS.filter((s) => span / s <= room).pop() ?? GRID_STEPS[0];
    const lngStep = spacing(Math.max(east - west, 1e-6), w / 110);
    const latStep = spacing(Math.max(top - bottom, 1e-6), h / 40);
    this.gGrid.textContent = "";
    this.overlay.textContent = "";
    this.gridStep = [latStep, lngStep];
    const lines = [];
    let step = lngStep;
    for (let lng = Math.ceil(west / step) * step; lng <= east && lines.length < 60; lng += step) {
      const [x0, y0] = project(lng, top);
      const [, y1] = project(lng, bottom);
      el("line", { class: "grid", x1: x0, x2: x0, y1: y0, y2: y1 }, this.gGrid);
      lines.push(["lng", lng, x0 * this.k + this.tx]);
    }
    step = latStep;
    for (let lat = Math.ceil(bottom / step) * step; lat <= top && lines.length < 120; lat += step) {
      const [x0, y0] = project(west, lat);
      const [x1] = project(east, lat);
      el("line", { class: "grid", x1: x0, x2: x1, y1: y0, y2: y0 }, this.gGrid);
      lines.push(["lat", lat, y0 * this.k + this.ty]);
    }
    for (const [axis, value, at] of lines) {
      const v = Number(value.toFixed(4));
      const text = this.coordLabel ? this.coordLabel(v, axis) : String(v);
      // Clear of the corner where both edges meet, and of the scale bar.
      if (axis === "lng" && at > 70 && at < w - 40) el("text", { class: "grid-label", x: at + 3, y: 14, "data-lng": String(v) }, this.overlay).textContent = text;
      else if (axis === "lat" && at > 28 && at < h - 40) el("text", { class: "grid-label", x: 4, y: at - 3, "data-lat": String(v) }, this.overlay).textContent = text;
    }
    this.drawScale(w, h);
    this.declutter();
  }

  /** Hides labels that would overlap one shown before them (own first, then others, then sites). */
  declutter() {
    const placed = [];
    for (const t of this.gLabels.querySelectorAll("text")) {
      const x = Number(t.getAttribute("x")) * this.k + this.tx;
      const y = Number(t.getAttribute("y")) * this.k + this.ty;
      const half = (t.textContent.length * 7) / 2;
      const box = [x - half, y - 15, x + half, y];
      const clash = placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3]);
      t.classList.toggle("crowded", clash);
      if (!clash) placed.push(box);
    }
  }

  /** A scale bar of a round distance, about 100 px, true at the view's centre latitude. */
  drawScale(w, h) {
    const lat = unproject((w / 2 - this.tx) / this.k, (h / 2 - this.ty) / this.k)[1];
    const metresPerPx = (EQUATOR_M * Math.cos((lat * Math.PI) / 180)) / (WORLD * this.k);
    const target = metresPerPx * 120;
    const pow = 10 ** Math.floor(Math.log10(target));
    const metres = [5, 2, 1].map((m) => m * pow).find((m) => m <= target) ?? pow;
    const px = metres / metresPerPx;
    const g = el("g", { class: "scale", transform: `translate(12 ${h - 14})`, "data-metres": String(metres) }, this.overlay);
    el("rect", { class: "scale-back", x: -4, y: -18, width: px + 8, height: 24 }, g);
    el("path", { class: "scale-bar", d: `M0,-6V0H${px.toFixed(1)}V-6` }, g);
    el("text", { class: "scale-label", x: 0, y: -8 }, g).textContent = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
    this.scale = { metres, px };
  }

  /** Zooms by `factor` around the screen point (cx, cy). */
  zoom(factor, cx, cy) {
    const [w, h] = this.size();
    cx ??= w / 2;
    cy ??= h / 2;
    const k = Math.max(0.5, Math.min(1 << 16, this.k * factor));
    const f = k / this.k;
    this.tx = cx - (cx - this.tx) * f;
    this.ty = cy - (cy - this.ty) * f;
    this.k = k;
    this.applyTransform();
  }

  pan(dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.applyTransform();
  }

  /** Shows the box [west, south, east, north] (degrees) with a margin. */
  fit([west, south, east, north]) {
    const [w, h] = this.size();
    const [x0, y1] = project(west, south);
    const [x1, y0] = project(east, north);
    const bw = Math.max(x1 - x0, 1e-3);
    const bh = Math.max(y1 - y0, 1e-3);
    this.k = Math.max(0.5, Math.min(1 << 16, 0.85 * Math.min(w / bw, h / bh)));
    this.tx = w / 2 - ((x0 + x1) / 2) * this.k;
    this.ty = h / 2 - ((y0 + y1) / 2) * this.k;
    this.applyTransform();
  }

  /** The [lng, lat] under a screen point. */
  at(clientX, clientY) {
    const r = this.svg.getBoundingClientRect();
    return unproject((clientX - r.left - this.tx) / this.k, (clientY - r.top - this.ty) / this.k);
  }

  bindInput() {
    const svg = this.svg;
    let drag = null;
    svg.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
    });
    svg.addEventListener("pointermove", (e) => {
      if (this.onMove) {
        const [lng, lat] = this.at(e.clientX, e.clientY);
        this.onMove(lat, ((((lng + 180) % 360) + 360) % 360) - 180);
      }
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      if (!drag.moved) svg.setPointerCapture?.(drag.id);
      drag.moved = true;
      drag.x = e.clientX;
      drag.y = e.clientY;
      this.pan(dx, dy);
    });
    svg.addEventListener("pointerup", (e) => {
      const d = drag;
      drag = null;
      if (d && !d.moved) {
        const [lng, lat] = this.at(e.clientX, e.clientY);
        this.onClick?.(lat, lng);
      }
    });
    svg.addEventListener("pointercancel", () => (drag = null));
    svg.addEventListener("pointerleave", () => this.onMove?.(null, null));
    svg.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const r = svg.getBoundingClientRect();
        this.zoom(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left, e.clientY - r.top);
      },
      { passive: false },
    );
    svg.addEventListener("keydown", (e) => {
      const step = 60;
      const keys = {
        ArrowLeft: () => this.pan(step, 0),
        ArrowRight: () => this.pan(-step, 0),
        ArrowUp: () => this.pan(0, step),
        ArrowDown: () => this.pan(0, -step),
        "+": () => this.zoom(1.5),
        "=": () => this.zoom(1.5),
        "-": () => this.zoom(1 / 1.5),
        _: () => this.zoom(1 / 1.5),
      };
      if (keys[e.key]) {
        e.preventDefault();
        keys[e.key]();
      }
    });
  }

  /** Replaces the data layers; `time` (ms) or null for all times. */
  setLayers(layers) {
    Object.assign(this.layers, layers);
    this.render();
  }

  setTime(time) {
    this.time = time;
    this.render();
  }

  activeAt(start, end) {
    return this.time === null || (start <= this.time && this.time < end);
  }

  /** The box [west, south, east, north] around every shown feature, or null. */
  bounds() {
    let b = null;
    const add = (lng, lat) => {
      b = b ? [Math.min(b[0], lng), Math.min(b[1], lat), Math.max(b[2], lng), Math.max(b[3], lat)] : [lng, lat, lng, lat];
    };
    for (const f of [...this.layers.activities, ...this.layers.sites])
      for (const v of f.volumes) for (const [lng, lat] of volumeRing(v)) add(lng, lat);
    for (const c of this.layers.conflicts) for (const m of c.meetings) add(m.area.west, m.area.south), add(m.area.east, m.area.north);
    return b;
  }

  render() {
    const L = this.layers;
    this.gSites.textContent = "";
    for (const s of L.sites) {
      for (const v of s.volumes) {
        const [a, b] = volumeWindow(v);
        if (!this.activeAt(a, b)) continue;
        const p = el("path", { class: "site", d: ringPath(volumeRing(v)), "data-site": s.id }, this.gSites);
        el("title", {}, p).textContent = this.label("site", s);
      }
    }
    this.gActivities.textContent = "";
    for (const act of L.activities) {
      for (const v of act.volumes) {
        const [a, b] = volumeWindow(v);
        if (!this.activeAt(a, b)) continue;
        const p = el(
          "path",
          { class: `activity ${act.own ? "own" : "other"}`, d: ringPath(volumeRing(v)), "data-activity": act.id, "data-party": act.party },
          this.gActivities,
        );
        el("title", {}, p).textContent = this.label("activity", act);
      }
    }
    // Labels: each shown activity and site, at the middle of its first volume's box.
    this.gLabels.textContent = "";
    const labelAt = (f, kind, cls) => {
      const v = f.volumes.find((x) => {
        const [a, b] = volumeWindow(x);
        return this.activeAt(a, b);
      });
      const ring = v ? volumeRing(v) : [];
      if (!ring.length) return;
      const xs = ring.map((p) => p[0]);
      const ys = ring.map((p) => p[1]);
      const [x, y] = project((Math.min(...xs) + Math.max(...xs)) / 2, Math.max(...ys));
      el("text", { class: `map-label ${cls}`, x, y, "data-label": f.id }, this.gLabels).textContent = this.label(kind, f);
    };
    for (const a of L.activities.filter((x) => x.own)) labelAt(a, "activity-label", "own");
    for (const a of L.activities.filter((x) => !x.own)) labelAt(a, "activity-label", "other");
    for (const s of L.sites) labelAt(s, "site-label", "site");
    this.gConflicts.textContent = "";
    const drawConflicts = (list, extra) => {
      for (const c of list) {
        for (const m of c.meetings) {
          if (!this.activeAt(Date.parse(m.time_start), Date.parse(m.time_end))) continue;
          const area = m.area;
          const east = area.east < area.west ? area.east + 360 : area.east;
          const [x0, y0] = project(area.west, area.north);
          const [x1, y1] = project(east, area.south);
          const r = el(
            "rect",
            {
              class: `conflict-area highlighted ${extra}`,
              x: x0,
              y: y0,
              width: Math.max(x1 - x0, 0),
              height: Math.max(y1 - y0, 0),
              "data-conflict": c.id,
            },
            this.gConflicts,
          );
          el("title", {}, r).textContent = this.label("conflict", c);
          // A marker that stays visible at any zoom.
          el("circle", { class: `conflict-marker ${extra}`, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, r: 1, "data-conflict": c.id }, this.gConflicts);
        }
      }
    };
    drawConflicts(L.conflicts, "");
    drawConflicts(L.preview, "preview");
    this.gDraft.textContent = "";
    const d = L.draft;
    if (d) {
      const ring = d.kind === "circle" ? (d.center ? circleRing(d.center[0], d.center[1], d.radius || 1) : []) : d.vertices.map(([lat, lng]) => [lng, lat]);
      if (ring.length >= 3 || (d.kind === "circle" && ring.length)) el("path", { class: "draft-shape", d: ringPath(ring) }, this.gDraft);
      const pts = d.kind === "circle" ? (d.center ? [d.center] : []) : d.vertices;
      for (const [lat, lng] of pts) {
        const [x, y] = project(lng, lat);
        el("circle", { class: "draft-vertex", cx: x, cy: y, r: 1 }, this.gDraft);
      }
    }
    this.applyTransform();
  }
}
