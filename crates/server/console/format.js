// What an officer reads: coordinates (decimal degrees, degrees and decimal
// minutes, degrees-minutes-seconds), times in 24-hour UTC and as a DTG, and the
// place of stored F3548 volumes (centre and extent). Pure functions, no DOM;
// words come from i18n.js through the caller.

const EARTH_R = 6371008.8; // mean radius, metres; for a circle's box (display only)
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** The coordinate formats offered, in the selector's order. */
export const COORD_FORMATS = ["dd", "ddm", "dms", "mgrs", "utm"];

/** Formats that name a point on a grid, not an angle: written by the server (POST /v1/positions), never here. */
export const GRID_FORMATS = ["mgrs", "utm"];

const two = (n) => String(n).padStart(2, "0");

/**
 * One coordinate in `format`: "dd" 35.50417°N, "ddm" 35°30.250'N, "dms"
 * 35°30'15"N; longitudes get three degree digits (038°30'00"E). Rounding
 * carries (59.6" becomes the next minute).
 */
export function fmtCoord(value, axis, format = "dd") {
  // A grid reference has no form for one axis alone.
  if (GRID_FORMATS.includes(format)) format = "dd";
  const hemi = axis === "lat" ? (value < 0 ? "S" : "N") : value < 0 ? "W" : "E";
  const a = Math.abs(value);
  const width = axis === "lat" ? 2 : 3;
  if (format === "dms") {
    const s = Math.round(a * 3600);
    return `${String(Math.floor(s / 3600)).padStart(width, "0")}°${two(Math.floor((s % 3600) / 60))}'${two(s % 60)}"${hemi}`;
  }
  if (format === "ddm") {
    const m = Math.round(a * 60000); // thousandths of a minute
    const deg = Math.floor(m / 60000);
    const min = (m % 60000) / 1000;
    return `${String(deg).padStart(width, "0")}°${min.toFixed(3).padStart(6, "0")}'${hemi}`;
  }
  return `${a.toFixed(5)}°${hemi}`;
}

/** An altitude as given in a notice: "FL130", "5000 ft AMSL", "1500 m W84". */
export function fmtAltitude(a) {
  if (a === undefined || a === null) return "–";
  if (typeof a !== "object") return String(a);
  if (a.units === "FL") return `FL${String(a.value).padStart(3, "0")}`;
  return `${a.value} ${a.units === "FT" ? "ft" : "m"} ${a.reference ?? "W84"}`;
}

/**
 * A point as "latitude longitude" in `format`; in a grid format, what
 * `grid(lat, lng)` has for it ({mgrs, utm}), or decimal degrees until it has.
 */
export function fmtPoint(lat, lng, format = "dd", grid = undefined) {
  if (GRID_FORMATS.includes(format)) {
    const g = grid?.(lat, lng);
    if (g?.[format]) return g[format];
    format = "dd";
  }
  return `${fmtCoord(lat, "lat", format)} ${fmtCoord(lng, "lng", format)}`;
}

/** Longitude into [-180, 180). */
function wrap(lng) {
  return ((((lng + 180) % 360) + 360) % 360) - 180;
}

/**
 * The narrowest arc of longitude covering every arc in `arcs` ([west, width],
 * degrees): [west, width], width 360 for the whole globe. An arc may cross the
 * antimeridian (then west + width > 180).
 */
export function coveringArc(arcs) {
  let best = [-180, 360];
  for (const [start] of arcs) {
    let width = 0;
    for (const [w, d] of arcs) width = Math.max(width, ((((w - start) % 360) + 360) % 360) + d);
    if (width < best[1]) best = [wrap(start), width];
  }
  return best;
}

/** The outline of a stored F3548 volume: {kind: "circle", lat, lng, radius} or {kind: "polygon", vertices: [[lat, lng]]}; null if neither. */
export function volumeShape(v) {
  const vol = v?.volume || {};
  if (vol.outline_circle) {
    const c = vol.outline_circle;
    return { kind: "circle", lat: c.center.lat, lng: c.center.lng, radius: c.radius.value };
  }
  if (vol.outline_polygon) return { kind: "polygon", vertices: vol.outline_polygon.vertices.map((p) => [p.lat, p.lng]) };
  return null;
}

/** A shape's latitude band and longitude arcs: {south, north, arcs: [[west, width]]}. */
function shapeExtent(s) {
  if (s.kind === "circle") {
    const dlat = ((s.radius / EARTH_R) * 180) / Math.PI;
    const south = Math.max(-90, s.lat - dlat);
    const north = Math.min(90, s.lat + dlat);
    const cos = Math.cos((s.lat * Math.PI) / 180);
    const dlng = north >= 90 || south <= -90 || cos <= 0 ? 180 : Math.min(180, dlat / cos);
    return { south, north, arcs: [[wrap(s.lng - dlng), 2 * dlng]] };
  }
  const lats = s.vertices.map((p) => p[0]);
  return { south: Math.min(...lats), north: Math.max(...lats), arcs: s.vertices.map((p) => [wrap(p[1]), 0]) };
}

/**
 * The box around shapes: {south, north, west, east} in degrees (west > east
 * when it crosses the antimeridian; west -180, east 180 for all longitudes),
 * and its centre {lat, lng}.
 */
export function shapesBox(shapes) {
  const ext = shapes.map(shapeExtent);
  const south = Math.min(...ext.map((e) => e.south));
  const north = Math.max(...ext.map((e) => e.north));
  const [west, width] = coveringArc(ext.flatMap((e) => e.arcs));
  if (width >= 360) return { south, north, west: -180, east: 180, centre: { lat: (south + north) / 2, lng: 0 } };
  const east = west + width > 180 ? west + width - 360 : west + width;
  const mid = west + width / 2 >= 180 ? west + width / 2 - 360 : west + width / 2;
  return { south, north, west, east, centre: { lat: (south + north) / 2, lng: mid } };
}

/** A volume's time window in ms since the epoch. */
export function volumeTimes(v) {
  return [Date.parse(v?.time_start?.value), Date.parse(v?.time_end?.value)];
}

/** A volume's altitude band [lower, upper], metres above the WGS84 ellipsoid. */
export function volumeBand(v) {
  return [v?.volume?.altitude_lower?.value, v?.volume?.altitude_upper?.value];
}

/**
 * What a read-back shows of some volumes: the shapes, the box and centre, the
 * lowest and highest altitude, the first start and the last end. Null when a
 * volume cannot be read (never NaN on screen).
 */
export function volumesFacts(volumes) {
  const shapes = volumes.map(volumeShape);
  if (!shapes.length || shapes.some((s) => !s)) return null;
  const bands = volumes.map(volumeBand);
  const times = volumes.map(volumeTimes);
  const numbers = [...bands.flat(), ...times.flat()];
  if (numbers.some((n) => typeof n !== "number" || !Number.isFinite(n))) return null;
  return {
    shapes,
    box: shapesBox(shapes),
    lower: Math.min(...bands.map((b) => b[0])),
    upper: Math.max(...bands.map((b) => b[1])),
    start: Math.min(...times.map((t) => t[0])),
    end: Math.max(...times.map((t) => t[1])),
  };
}

/** A number as written in the volume (6500, 6500.5): no grouping, no rounding. */
export function fmtMetres(m) {
  return String(m);
}

/** The parts of an instant in UTC. */
function parts(ms) {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: two(d.getUTCDate()),
    hh: two(d.getUTCHours()),
    mm: two(d.getUTCMinutes()),
    ss: d.getUTCSeconds(),
  };
}

/** The date-time group: 011330ZDEC26 (day, hour, minute, Z, month, two-digit year). */
export function dtg(ms) {
  const p = parts(ms);
  return `${p.day}${p.hh}${p.mm}Z${MONTHS[p.month]}${String(p.year % 100).padStart(2, "0")}`;
}

/**
 * 24-hour UTC through a template of the reader's language: `template` has
 * {day}, {month} (from `months`, twelve names), {year} and {time} (13:30; with
 * `seconds`, 13:30:15 when they are not zero), e.g. "{day} {month} {time}Z".
 */
export function fmtUtc(ms, template, months, seconds = false) {
  const p = parts(ms);
  const time = seconds && p.ss ? `${p.hh}:${p.mm}:${two(p.ss)}` : `${p.hh}:${p.mm}`;
  return template.replace(/\{(\w+)\}/g, (_, k) => String({ day: p.day, month: months[p.month], year: p.year, time }[k] ?? `{${k}}`));
}

/** An instant as an input shows it: "2026-12-01 13:30" (24-hour UTC). */
export function inputUtc(ms) {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** An instant as RFC 3339 in UTC, whole seconds: "2026-12-01T13:30:00Z". */
export function rfc3339(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A time typed by an officer, in UTC, to ms since the epoch (null if it is not
 * one): "2026-12-01 13:30", "2026-12-01T13:30[:15][Z]", or a DTG "011330ZDEC26"
 * (also with a space before the month, lower case, or a four-digit year).
 */
export function parseUtc(text) {
  const s = String(text ?? "").trim().toUpperCase();
  let m = s.match(/^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?$/);
  if (m) {
    const [y, mo, d, hh, mm, ss] = m.slice(1).map((x) => Number(x ?? 0));
    return checked(y, mo - 1, d, hh, mm, ss);
  }
  m = s.match(/^(\d{2})(\d{2})(\d{2})Z ?([A-Z]{3}) ?(\d{2}|\d{4})$/);
  if (m) {
    const month = MONTHS.indexOf(m[4]);
    if (month < 0) return null;
    const y = m[5].length === 2 ? 2000 + Number(m[5]) : Number(m[5]);
    return checked(y, month, Number(m[1]), Number(m[2]), Number(m[3]), 0);
  }
  return null;
}

/** The instant, or null when a field is out of range (31 Feb, 25:00). */
function checked(y, month, d, hh, mm, ss) {
  const ms = Date.UTC(y, month, d, hh, mm, ss);
  const back = new Date(ms);
  const same = back.getUTCFullYear() === y && back.getUTCMonth() === month && back.getUTCDate() === d && back.getUTCHours() === hh && back.getUTCMinutes() === mm;
  return same && ss < 60 ? ms : null;
}
