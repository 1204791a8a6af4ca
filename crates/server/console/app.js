// The console: log in with an operator token, load what the party may see,
// follow the live stream, and render the map, the lines, the status board and
// the notify form. All data comes from the public API under /v1.

import { Api, ApiError } from "./api.js";
import { MapView, volumeWindow } from "./map.js";
import { LANGUAGES, initialLanguage, language, setLanguage, t, translatePage, tv } from "./i18n.js";
import { $, h } from "./dom.js";
import { COORD_FORMATS, GRID_FORMATS, dtg, fmtAltitude, fmtCoord, fmtMetres, fmtPoint, fmtUtc, inputUtc, rfc3339, volumeBand, volumesFacts } from "./format.js";
import { alertFlash, initActions, renderActions } from "./actions.js";
import { band, drawTimeline } from "./timeline.js";
import { renderBrief } from "./brief.js";
import { loadParty, renderParty } from "./party.js";
import { app } from "./app-context.js";
import { loadOwnKey, makeOwnKey, renderKey, sign } from "./signing.js";
import { loadTalks, openTalk, openTalkForm, renderTalks, renderRelations } from "./talks.js";
import { writeDraftToInputs, draftChanged, mapClicked, preview, send, stopAmend, renderNotifyOptions, timeReadout } from "./notify.js";
import { owedText, renderLines, openReply, tick, renderBoard } from "./lines.js";

const state = {
  api: null,
  me: null,
  lines: [],
  activities: [], // details: {id, line, party, version, state, content_sha256, current, acknowledgments}
  conflicts: [],
  deadlines: [], // open deadlines on the party's lines and talks (GET /v1/deadlines)
  amending: null, // {activity, version, line}: the notify form amends this notice
  sites: [],
  talks: [], // the party's talks (list view)
  relations: [], // talks between the party and each other party
  talk: null, // the talk shown in detail
  closing: null, // {talk, followUp, note}: a follow-up being closed
  events: [], // every live event seen, in cursor order
  cursor: 0,
  stop: null,
  selectedLine: null,
  preview: null, // {key, conflicts}
  draft: { kind: "polygon", vertices: [], center: null, radius: 5000 },
  timeRange: null,
  // The officer's choices, kept in this browser: coordinates as dd, ddm or
  // dms; times as 24-hour UTC ("utc") or date-time groups ("dtg").
  coords: COORD_FORMATS.includes(localStorage.getItem("parley.coords")) ? localStorage.getItem("parley.coords") : "dd",
  times: localStorage.getItem("parley.times") === "dtg" ? "dtg" : "utc",
};

let map = null;

// ---------- formatting ----------

/** ms since the epoch from an RFC 3339 string or a number; NaN if neither. */
function msOf(time) {
  return typeof time === "number" ? time : Date.parse(time);
}

/** A time in 24-hour UTC ("01 Dec 13:30Z"), or as a DTG when the officer chose it. */
function fmtTime(time) {
  const ms = msOf(time);
  if (!Number.isFinite(ms)) return String(time ?? "–");
  return state.times === "dtg" ? dtg(ms) : fmtUtc(ms, t("time.short"), t("time.months").split(","));
}

/** A time with its year ("01 Dec 2026 13:30Z"), or as a DTG; for read-backs. */
function fmtTimeLong(ms) {
  return state.times === "dtg" ? dtg(ms) : fmtUtc(ms, t("time.long"), t("time.months").split(","), true);
}

/** The other form of a time, for its title: the DTG, or 24-hour UTC with the year. */
function otherTimeForm(ms) {
  return state.times === "dtg" ? fmtUtc(ms, t("time.long"), t("time.months").split(","), true) : dtg(ms);
}

function fmtNum(n, digits = 0) {
  return new Intl.NumberFormat(language(), { maximumFractionDigits: digits }).format(n);
}

function fmtDuration(ms) {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

/** A rule's length of time for a person: "15 min", "1 h", "1 h 30 min", "45 s". */
function fmtSeconds(s) {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [];
  if (h) parts.push(t("unit.h", { n: fmtNum(h) }));
  if (m) parts.push(t("unit.min", { n: m }));
  if (s % 60 || !parts.length) parts.push(t("unit.s", { n: s % 60 }));
  return parts.join(" ");
}

function partyName(id) {
  return id;
}

// ---------- loading ----------

async function refresh() {
  const api = state.api;
  if (!api) return;
  const [lines, acts, conflicts, sites, deadlines] = await Promise.all([
    api.get("/v1/lines"),
    api.get("/v1/activities"),
    api.get("/v1/conflicts"),
    api.get("/v1/sites"),
    api.get("/v1/deadlines"),
  ]);
  const details = await Promise.all(acts.activities.map((a) => api.get(`/v1/activities/${encodeURIComponent(a.id)}`)));
  state.lines = lines.lines;
  state.activities = details;
  state.conflicts = conflicts.conflicts;
  state.sites = sites.sites;
  state.deadlines = deadlines.deadlines;
  await loadTalks();
  await loadParty(api);
  if (!state.selectedLine && state.lines.length) state.selectedLine = state.lines[0].id;
  renderData();
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh().catch(showError), 150);
}

let conversationTimer = null;
function scheduleConversation() {
  clearTimeout(conversationTimer);
  conversationTimer = setTimeout(() => {
    const key = focusKey();
    renderLines();
    if (key) document.querySelector(key)?.focus();
  }, 100);
}

function showError(e) {
  const where = $("#live");
  where.textContent = t("error", { detail: e.message || String(e) });
  if (e instanceof ApiError && e.status === 401) logout();
}

// ---------- login ----------

async function login(token) {
  const api = new Api(token.trim());
  const me = await api.get("/v1/me");
  sessionStorage.setItem("parley.token", token.trim());
  state.api = api;
  state.me = me;
  $("#login-view").hidden = true;
  $("#console-view").hidden = false;
  $("#logout").hidden = false;
  $("#action-count").hidden = false;
  // What needs action comes first (before loading, so a tab the officer opens
  // meanwhile stays open).
  selectTab("tab-actions");
  renderMe();
  await loadOwnKey(state, t).catch((e) => showError(e));
  // The stream replays the history first (for the conversations); only what
  // is logged after the first load calls for another.
  const loadedAt = (await (await fetch("/v1/health")).json()).journal ?? 0;
  await refresh();
  const b = map.bounds();
  if (b) map.fit(b);
  state.stop = api.follow(
    state.cursor,
    (ev) => {
      if (ev.id <= state.cursor) return;
      state.cursor = ev.id;
      state.events.push(ev.data);
      answerLineCheck(ev.data);
      if (ev.id > loadedAt) scheduleRefresh();
      else scheduleConversation();
    },
    (s) => {
      const live = $("#live");
      live.dataset.state = s;
      live.textContent = t(`live.${s}`);
    },
  );
}

// While an operator watches, the console answers its party's line checks (any
// operator may); one already answered by a colleague, or missed, is refused by
// the server, harmlessly.
function answerLineCheck(e) {
  if (e.kind !== "line_check_sent" || e.party !== state.me?.party) return;
  if (Date.parse(e.due) <= Date.now()) return;
  state.api?.post(`/v1/line-checks/${encodeURIComponent(e.check)}/answer`, {}).catch(() => {});
}

function logout() {
  state.stop?.();
  sessionStorage.removeItem("parley.token");
  location.reload();
}

// ---------- rendering ----------

function renderMe() {
  const me = state.me;
  $("#me").textContent = me ? t("me", { operator: me.operator, party: partyName(me.party), role: tv("role", me.role) }) : "";
  renderKey(state, t);
}

function lineOf(id) {
  return state.lines.find((l) => l.id === id);
}

function activityVolumes(a) {
  return a.current?.content?.volumes || [];
}

function noticeSummary(a) {
  const vols = activityVolumes(a);
  const facts = volumesFacts(vols);
  return t("notice.summary", {
    activity: a.id,
    version: a.version,
    party: partyName(a.party),
    category: tv("category", a.current?.content?.category),
    volumes: vols.length,
    start: facts ? fmtTime(facts.start) : "–",
    end: facts ? fmtTime(facts.end) : "–",
  });
}

/**
 * The read-back of volumes, from what the server stored (always F3548): shape,
 * centre, extent, altitudes, start and end, each a <dt>/<dd> pair whose <dd>
 * has `data-field` and, with `prefix`, the id `${prefix}-${field}`. Several
 * volumes: the notice as a whole, then each volume (ids `${prefix}-v1-...`).
 */
function readback(volumes, prefix) {
  const facts = volumesFacts(volumes);
  if (!facts) return [h("dt", {}, t("readback.shape")), h("dd", { id: prefix ? `${prefix}-shape` : null, "data-field": "shape", class: "error" }, t("readback.unreadable"))];
  const field = (name, label, text, attrs = {}) => [
    h("dt", {}, label),
    h("dd", { id: prefix ? `${prefix}-${name}` : null, "data-field": name, ...attrs }, text),
  ];
  const time = (name, label, ms) => field(name, label, fmtTimeLong(ms), { title: otherTimeForm(ms), "data-utc": rfc3339(ms) });
  const rows = (f, p, vols) => {
    const one = f.shapes.length === 1 ? f.shapes[0] : null;
    const circle = one?.kind === "circle";
    const centre = circle ? pointText(one.lat, one.lng) : pointText(f.box.centre.lat, f.box.centre.lng);
    const extent = circle ? t("place.radius", { radius: fmtMetres(one.radius) }) : boxText(f.box);
    const shape = !one ? t("place.volumes", { n: f.shapes.length }) : circle ? t("place.circle") : t("place.polygon", { n: one.vertices.length });
    const sub = (name) => (p ? `${p}-${name}` : name);
    return [
      field(sub("shape"), t("readback.shape"), shape),
      field(sub("centre"), t("readback.centre"), centre),
      field(sub("extent"), t("readback.extent"), extent),
      field(sub("altitudes"), t("readback.altitudes"), t("place.altitudes", { lower: fmtMetres(f.lower), upper: fmtMetres(f.upper) })),
      // Altitudes given in feet, above mean sea level or as flight levels: as given, beside the band compared above.
      vols.some((v) => v.given)
        ? field(sub("given"), t("readback.altitudes_given"), vols.map((v) => (v.given ? `${fmtAltitude(v.given.altitude_lower)}–${fmtAltitude(v.given.altitude_upper)}` : t("place.altitudes", { lower: fmtMetres(volumeBand(v)[0]), upper: fmtMetres(volumeBand(v)[1]) }))).join("; "))
        : [],
      time(sub("start"), t("readback.start"), f.start),
      time(sub("end"), t("readback.end"), f.end),
    ];
  };
  const out = rows(facts, null, volumes);
  if (volumes.length > 1)
    volumes.forEach((v, i) => {
      out.push(h("dt", { class: "readback-volume" }, t("readback.volume", { n: i + 1 })), h("dd", { class: "readback-volume" }, ""));
      out.push(rows(volumesFacts([v]), `v${i + 1}`, [v]));
    });
  return out.flat(2);
}

function mapLabel(kind, f) {
  if (kind === "activity-label") return `${f.id} (${partyName(f.party)})`;
  if (kind === "site-label") return f.name;
  if (kind === "activity") return `${t("layer.activity", { id: f.id, party: partyName(f.party) })} — ${noticeSummary(f.detail)}`;
  if (kind === "site") return t("layer.site", { name: f.name });
  return `${t("layer.conflict", { id: f.id })}: ${t("conflict.between", conflictSides(f))}`;
}

function conflictSides(c) {
  const side = (s) => (s.kind === "site" ? `${s.id} (${partyName(s.party)})` : `${s.id} v${s.version} (${partyName(s.party)})`);
  return { a: side(c.a), b: side(c.b) };
}

function renderMap() {
  const me = state.me;
  const activities = state.activities
    .filter((a) => a.state !== "cancelled")
    .map((a) => ({ id: a.id, party: a.party, own: a.party === me.party, volumes: activityVolumes(a), detail: a }));
  const sites = state.sites.map((s) => ({ id: s.id || s.site, name: s.name, party: s.party, volumes: s.volumes || [] }));
  const conflicts = state.conflicts.filter((c) => c.state !== "resolved").map((c) => ({ ...c, id: c.id || c.conflict }));
  const d = state.draft;
  map.setLayers({
    activities,
    sites,
    conflicts,
    preview: (state.preview?.conflicts || []).map((c) => ({ ...c, id: `preview-${c.id || c.conflict}` })),
    draft: d.kind === "circle" ? { kind: "circle", center: d.center, radius: d.radius } : { kind: "polygon", vertices: d.vertices },
  });
  // The time slider spans every window shown.
  let lo = Infinity;
  let hi = -Infinity;
  for (const f of [...activities, ...sites])
    for (const v of f.volumes) {
      const [a, b] = volumeWindow(v);
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  state.timeRange = Number.isFinite(lo) ? [lo, hi] : null;
  renderTime();
}

function sliderTime() {
  const r = state.timeRange;
  if (!r || $("#time-all").checked) return null;
  return r[0] + ((r[1] - r[0]) * Number($("#time").value)) / 1000;
}

function renderTime() {
  const all = $("#time-all").checked;
  $("#time").disabled = all || !state.timeRange;
  const at = sliderTime();
  $("#time-value").textContent = at === null ? "" : t("time.at", { time: fmtTime(at) });
  $("#time").setAttribute("aria-valuetext", at === null ? t("time.all") : $("#time-value").textContent);
  if (map.time !== at) map.setTime(at);
}

function renderConflicts() {
  const list = $("#conflict-list");
  list.textContent = "";
  const conflicts = state.conflicts;
  if (!conflicts.length) list.append(h("li", {}, t("conflicts.none")));
  for (const c of conflicts) {
    const id = c.id || c.conflict;
    list.append(
      h(
        "li",
        { class: "card conflict", "data-conflict": id },
        h("h3", {}, `${id} · ${tv("state", c.state)}`),
        h("p", {}, t("conflict.between", conflictSides(c))),
        h(
          "ul",
          {},
          (c.meetings || []).map((m) =>
            h(
              "li",
              {},
              t("conflict.meeting", {
                start: fmtTime(m.time_start),
                end: fmtTime(m.time_end),
                lower: fmtNum(m.altitude_lower_m),
                upper: fmtNum(m.altitude_upper_m),
                distance: fmtNum(m.horizontal_distance_m),
              }),
              m.area ? h("span", { class: "where", "data-field": "where" }, ` ${whereText(m.area)}`) : null,
            ),
          ),
        ),
        h(
          "button",
          {
            type: "button",
            class: "show-conflict",
            onclick: () => {
              const a = c.meetings?.[0]?.area;
              if (a) map.fit([a.west - 0.3, a.south - 0.3, a.east + 0.3, a.north + 0.3]);
              $("#map").focus();
            },
          },
          t("conflict.show"),
        ),
      ),
    );
  }
}

/** Where two meet: the meeting area's centre and its extent, in the officer's format. */
function whereText(area) {
  const east = area.east < area.west ? area.east + 360 : area.east;
  const lng = (area.west + east) / 2;
  return t("conflict.where", { centre: pointText((area.south + area.north) / 2, lng > 180 ? lng - 360 : lng), box: boxText(area) });
}

// Points in MGRS and UTM as the server writes them (POST /v1/positions, the
// parser's own conversion): asked once each, in one request a render, and
// the views drawn again when they come.
const grids = new Map();
let gridAsk = null;

function gridOf(lat, lng) {
  const key = `${lat},${lng}`;
  if (grids.has(key)) return grids.get(key);
  grids.set(key, null);
  if (!gridAsk) {
    gridAsk = [];
    queueMicrotask(askGrids);
  }
  gridAsk.push([key, lat, lng]);
  return null;
}

async function askGrids() {
  const ask = gridAsk;
  gridAsk = null;
  try {
    for (let i = 0; i < ask.length; i += 200) {
      const part = ask.slice(i, i + 200);
      const res = await state.api.post("/v1/positions", { positions: part.map(([, lat, lng]) => ({ lat, lng })) });
      res.positions.forEach((p, j) => grids.set(part[j][0], p));
    }
  } catch {
    // Asked again at the next render; decimal degrees meanwhile.
    for (const [key] of ask) if (!grids.get(key)) grids.delete(key);
    return;
  }
  renderAll();
}

/** A point in the officer's format. */
function pointText(lat, lng) {
  return fmtPoint(lat, lng, state.coords, state.api ? gridOf : undefined);
}

/** A box in the officer's format: its edges, or in a grid format its south-west and north-east corners. */
function boxText(b) {
  const fmt = state.coords;
  if (GRID_FORMATS.includes(fmt)) return t("place.corners", { sw: pointText(b.south, b.west), ne: pointText(b.north, b.east) });
  return t("place.box", { south: fmtCoord(b.south, "lat", fmt), north: fmtCoord(b.north, "lat", fmt), west: fmtCoord(b.west, "lng", fmt), east: fmtCoord(b.east, "lng", fmt) });
}

// ---------- timeline ----------

/** The timeline of the chosen line (the line open in the Lines tab by default). */
function renderTimelineView() {
  const sel = $("#timeline-line");
  const keep = sel.value || state.selectedLine;
  sel.textContent = "";
  for (const l of state.lines) sel.append(h("option", { value: l.id }, l.name));
  if (keep) sel.value = keep;
  const me = state.me.party;
  const acts = state.activities.filter((a) => a.line === sel.value && a.state !== "cancelled");
  const rows = acts.map((a) => {
    const volumes = activityVolumes(a);
    const [lower, upper] = band(volumes);
    return { id: a.id, party: a.party, own: a.party === me, volumes, label: t("timeline.row", { activity: a.id, party: partyName(a.party), lower, upper }) };
  });
  const conflicts = state.conflicts.filter((c) => c.state !== "resolved" && !String(c.state).startsWith("resolved")).map((c) => ({ ...c, id: c.id || c.conflict }));
  const span = $("#timeline-hours");
  const hours = span.value || "24";
  span.textContent = "";
  for (const n of ["12", "24", "72", "all"]) span.append(h("option", { value: n }, n === "all" ? t("timeline.all") : t("timeline.next", { n })));
  span.value = hours;
  drawTimeline($("#timeline"), {
    rows,
    conflicts,
    now: Date.now(),
    hours: hours === "all" ? null : Number(hours),
    tick: (ms) => (state.times === "dtg" ? dtg(ms) : fmtUtc(ms, "{time}Z", [])),
    title: (kind, x) =>
      kind === "bar"
        ? t("timeline.bar", { activity: x.row.id, party: partyName(x.row.party), start: fmtTime(x.volume.time_start.value), end: fmtTime(x.volume.time_end.value), lower: x.volume.volume.altitude_lower.value, upper: x.volume.volume.altitude_upper.value })
        : `${t("layer.conflict", { id: x.conflict.id })}: ${fmtTime(x.meeting.time_start)} – ${fmtTime(x.meeting.time_end)}`,
  });
}

/** A selector that finds the focused element again after a redraw, if any. */
function focusKey() {
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  if (a.id) return `#${CSS.escape(a.id)}`;
  const cls = a.classList[0];
  for (const k of ["activity", "conflict", "line", "talk", "version"]) {
    if (a.dataset[k] && cls) return `.${CSS.escape(cls)}[data-${k}="${CSS.escape(a.dataset[k])}"]`;
  }
  return null;
}

function renderData() {
  // Live updates redraw the panels; keyboard focus stays where it was.
  const key = focusKey();
  renderMap();
  renderConflicts();
  renderLines();
  renderBoard();
  renderParty();
  renderRelations();
  renderTalks();
  renderNotifyOptions();
  renderActions(state);
  renderTimelineView();
  renderBrief({ state, fmtTime, partyName, conflictSides, owedText });
  alertFlash(state);
  tick();
  if (key && document.activeElement !== document.querySelector(key)) document.querySelector(key)?.focus();
}

/** The coordinate and time format selectors, in the reader's language. */
function renderFormatOptions() {
  const coords = $("#coord-format");
  coords.textContent = "";
  for (const f of COORD_FORMATS) coords.append(h("option", { value: f }, t(`coords.${f}`)));
  coords.value = state.coords;
  const times = $("#time-format");
  times.textContent = "";
  for (const f of ["utc", "dtg"]) times.append(h("option", { value: f }, t(`times.${f}`)));
  times.value = state.times;
  for (const id of ["n-start", "n-end"]) timeReadout(id);
}

function renderAll() {
  translatePage();
  renderFormatOptions();
  if ($("#ack-dialog").open && acking) renderAckReadback(acking);
  renderMe();
  if (state.me) renderData();
  const live = $("#live");
  if (live.dataset.state) live.textContent = t(`live.${live.dataset.state}`);
}

// ---------- acknowledge ----------

let acking = null;

function openAck(a) {
  acking = a;
  renderAckReadback(a);
  $("#ack-error").textContent = "";
  $("#ack-dialog").showModal();
  $("#ack-confirm").focus();
}

/** The dialog's read-back, again after the language or a format changes. */
function renderAckReadback(a) {
  const dl = $("#ack-readback");
  dl.textContent = "";
  dl.append(
    h("dt", {}, t("ack.activity")),
    h("dd", { id: "ack-activity" }, a.id),
    h("dt", {}, t("ack.version")),
    h("dd", { id: "ack-version" }, String(a.version)),
    h("dt", {}, t("ack.hash")),
    h("dd", { id: "ack-hash", class: "hash" }, a.content_sha256),
    h("dt", {}, t("ack.summary")),
    h("dd", { id: "ack-summary" }, noticeSummary(a)),
    ...readback(activityVolumes(a), "ack"),
  );
}

async function confirmAck() {
  const a = acking;
  if (!a) return;
  try {
    const declared = { activity: a.id, version: a.version, party: state.me.party, content_sha256: a.content_sha256 };
    const signed = await sign(state, { scope: `line ${a.line}`, action: `acknowledge ${a.id} version ${a.version}`, declared });
    const res = await state.api.post(`/v1/activities/${encodeURIComponent(a.id)}/acknowledgments`, { version: a.version, content_sha256: a.content_sha256 }, signed);
    $("#ack-dialog").close();
    // A colleague of this party may have acknowledged it meanwhile: nothing new is recorded.
    $("#ack-result").textContent = t(res?.already_acknowledged ? "ack.already" : "ack.done", { activity: a.id, version: a.version });
    acking = null;
    await refresh();
  } catch (e) {
    $("#ack-error").textContent = t("error", { detail: e.message });
  }
}

function problemText(e) {
  const p = e.problem;
  if (p?.errors?.length) return p.errors.map((x) => `${x.pointer || ""}: ${x.detail || x.message || ""}`).join("; ");
  return e.message;
}

// ---------- wiring ----------

function selectTab(id) {
  // A tab opens at its top, not where the previous one was scrolled to.
  if (document.getElementById(id)?.getAttribute("aria-selected") !== "true") $(".side").scrollTop = 0;
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.id === id;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !on;
  }
}

function init() {
  const lang = initialLanguage();
  setLanguage(lang);
  const sel = $("#lang");
  for (const [code, name] of LANGUAGES) sel.append(h("option", { value: code, lang: code }, name));
  sel.value = lang;
  sel.addEventListener("change", () => {
    setLanguage(sel.value);
    renderAll();
  });
  translatePage();

  map = new MapView($("#map"), {
    onClick: mapClicked,
    label: mapLabel,
    // The graticule's round degrees, without trailing zeros (36.5°N, 038°30'N).
    coordLabel: (v, axis) => fmtCoord(v, axis, state.coords).replace(/(\.\d*?)0+(?=[°'])/, "$1").replace(/\.(?=[°'])/, ""),
    // Decimal degrees under the cursor in a grid format: not a request a mouse move.
    onMove: (lat, lng) => ($("#cursor-coords").textContent = lat === null ? "–" : fmtPoint(lat, lng, state.coords)),
  });
  fetch("/console/data/countries-50m.json")
    .then((r) => r.json())
    .then((topo) => map.setBasemap(topo))
    .catch(() => {});
  map.fit([-20, -50, 60, 70]);

  $("#zoom-in").addEventListener("click", () => map.zoom(1.5));
  $("#zoom-out").addEventListener("click", () => map.zoom(1 / 1.5));
  $("#zoom-fit").addEventListener("click", () => {
    const b = map.bounds();
    if (b) map.fit(b);
  });
  $("#time").addEventListener("input", renderTime);
  $("#time-all").addEventListener("change", renderTime);

  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(tab.id));
    tab.addEventListener("keydown", (e) => {
      const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!d) return;
      const next = tabs[(i + d + tabs.length) % tabs.length];
      selectTab(next.id);
      next.focus();
    });
  });
  selectTab("tab-actions");
  initActions({ state, fmtTime, openAck, openReply, openTalk: (id) => { selectTab("tab-talks"); openTalk(id).catch(showError); }, selectTab, showError, partyName, problemText });
  $("#brief-print").addEventListener("click", () => window.print());
  for (const id of ["#timeline-line", "#timeline-hours"]) $(id).addEventListener("change", renderTimelineView);
  $("#amend-stop").addEventListener("click", stopAmend);

  for (const id of ["#n-vertices", "#n-center", "#n-radius", "#n-shape-polygon", "#n-shape-circle", "#n-line", "#n-alt-units"]) $(id).addEventListener("input", draftChanged);
  for (const id of ["#n-line", "#n-category", "#n-poc", "#n-lower", "#n-upper", "#n-alt-units", "#n-alt-ref", "#n-start", "#n-end", "#n-confirm-unusual"])
    $(id).addEventListener("input", () => {
      $("#n-send").disabled = true;
    });
  $("#n-clear").addEventListener("click", () => {
    state.draft.vertices = [];
    state.draft.center = null;
    writeDraftToInputs();
    draftChanged();
  });
  $("#n-preview").addEventListener("click", preview);
  $("#talk-new").addEventListener("click", () => openTalkForm(null));
  $("#notify-form").addEventListener("submit", send);
  const start = Math.ceil(Date.now() / 3600000) * 3600000 + 2 * 3600000;
  $("#n-start").value = inputUtc(start);
  $("#n-end").value = inputUtc(start + 2 * 3600000);
  for (const id of ["n-start", "n-end"]) $(`#${id}`).addEventListener("input", () => timeReadout(id));
  for (const [id, key] of [["coord-format", "coords"], ["time-format", "times"]])
    $(`#${id}`).addEventListener("change", (e) => {
      state[key] = e.target.value;
      localStorage.setItem(`parley.${key}`, e.target.value);
      renderAll();
    });
  renderFormatOptions();
  draftChanged();

  $("#ack-confirm").addEventListener("click", confirmAck);
  $("#ack-cancel").addEventListener("click", () => $("#ack-dialog").close());
  $("#logout").addEventListener("click", logout);
  $("#key-make").addEventListener("click", () => makeOwnKey(state, t).catch((e) => showError(e)));
  setInterval(tick, 1000);

  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("#login-error").textContent = "";
    try {
      await login($("#token").value);
    } catch (err) {
      $("#login-error").textContent = t("login.failed", { detail: err.message });
    }
  });
  const saved = sessionStorage.getItem("parley.token");
  if (saved) login(saved).catch(() => sessionStorage.removeItem("parley.token"));
  else $("#token").focus();
}

Object.assign(app, { state, fmtPoint: pointText, fmtTime, fmtTimeLong, fmtNum, fmtDuration, fmtSeconds, partyName, refresh, showError, lineOf, activityVolumes, noticeSummary, readback, conflictSides, renderMap, openAck, problemText, selectTab });
init();
