// The notify form: draw or type one volume, preview its conflicts with a dry
// run, then send it as a new notice or, in amend mode, as the next version of
// one of this party's notices.

import { app } from "./app-context.js";
import { sign } from "./signing.js";
import { $, h } from "./dom.js";
import { fmtAltitude, fmtMetres, inputUtc, parseUtc, rfc3339, volumeShape } from "./format.js";
import { t, tv } from "./i18n.js";

/** A decimal "lat, lng" pair, read here; any other form is the server's to read. */
const DECIMAL_PAIR = /^\s*([-+]?\d+(?:\.\d+)?)\s*,\s*([-+]?\d+(?:\.\d+)?)\s*$/;

/** One position as typed: {lat, lng} for a decimal pair, else {text}. */
function typed(text) {
  const m = DECIMAL_PAIR.exec(text);
  return m ? { lat: Number(m[1]), lng: Number(m[2]) } : { text: text.trim() };
}

/** What the server read a typed position as ({lat, lng, spread_m, mgrs, utm} or {error}); undefined until it answers. */
const readings = new Map();

/** [lat, lng] of a typed position once known (drawn on the map), else null. */
function pointOf(e) {
  if (!e.text) return [e.lat, e.lng];
  const r = readings.get(e.text);
  return r && !r.error ? [r.lat, r.lng] : null;
}

/** A typed position as a F3548 point: decimal degrees as numbers, anything else as `position` text for the server's parser. */
function wirePoint(e) {
  return e.text ? { position: e.text } : { lat: e.lat, lng: e.lng };
}

export function readDraftFromInputs() {
  const d = app.state.draft;
  d.kind = $("#n-shape-circle").checked ? "circle" : "polygon";
  d.entries = $("#n-vertices")
    .value.split(";")
    .map((p) => p.trim())
    .filter(Boolean)
    .map(typed);
  d.centerEntry = $("#n-center").value.trim() ? typed($("#n-center").value) : null;
  d.vertices = d.entries.map(pointOf).filter(Boolean);
  d.center = d.centerEntry ? pointOf(d.centerEntry) : null;
  d.radius = parseFloat($("#n-radius").value) || 0;
}

const pair = ([a, b]) => `${a.toFixed(4)}, ${b.toFixed(4)}`;

export function writeDraftToInputs() {
  const d = app.state.draft;
  $("#n-vertices").value = d.vertices.map(pair).join("; ");
  $("#n-center").value = d.center ? pair(d.center) : "";
}

let readSeq = 0;

/**
 * Under the vertices and the centre: what each typed position was read as
 * (decimal degrees; for an MGRS cell, that its centre is used and the
 * half-diagonal the circle grows by). Text forms are read by the server's
 * parser (POST /v1/positions), the one the notice will go through.
 */
export async function readPositions() {
  const d = app.state.draft;
  const texts = [...d.entries, ...(d.centerEntry ? [d.centerEntry] : [])].filter((e) => e.text && !readings.has(e.text)).map((e) => e.text);
  renderReadouts();
  if (!texts.length || !app.state.api) return;
  const seq = ++readSeq;
  try {
    const res = await app.state.api.post("/v1/positions", { positions: texts });
    res.positions.forEach((r, i) => readings.set(texts[i], r));
  } catch (e) {
    if (seq === readSeq) $("#n-center-read").textContent = t("error", { detail: app.problemText(e) });
    return;
  }
  readDraftFromInputs();
  renderReadouts();
  if (app.state.me) app.renderMap();
}

/** One typed position as read: "= 35.50417°N 038.50000°E", the cell's centre for MGRS, or why it cannot be read. */
function readout(e, circle) {
  if (!e.text) return { text: `= ${app.fmtPoint(e.lat, e.lng)}`, error: false };
  const r = readings.get(e.text);
  if (!r) return { text: t("position.reading"), error: false };
  if (r.error) return { text: r.error.replace(/^\/positions\/\d+: /, ""), error: true };
  let text = `= ${app.fmtPoint(r.lat, r.lng)}`;
  if (r.spread_m > 0)
    text += " " + t(circle ? "position.mgrs_circle" : "position.mgrs_vertex", { spread: r.spread_m.toFixed(1) });
  return { text, error: false };
}

function renderReadouts() {
  const d = app.state.draft;
  const list = $("#n-vertices-read");
  list.textContent = "";
  d.entries.forEach((e, i) => {
    const r = readout(e, false);
    list.append(h("li", { class: r.error ? "error" : null, "data-vertex": String(i) }, `${i + 1}: ${r.text}`));
  });
  const c = d.centerEntry ? readout(d.centerEntry, true) : { text: "", error: false };
  $("#n-center-read").textContent = c.text;
  $("#n-center-read").classList.toggle("error", c.error);
}

/** The altitude fields as the API takes them: metres or feet above W84 or mean sea level, or a flight level. */
function altitude(id) {
  const units = $("#n-alt-units").value;
  const value = Number($(id).value);
  return units === "FL" ? { value, units: "FL" } : { value, reference: $("#n-alt-ref").value, units };
}

export function draftChanged() {
  readDraftFromInputs();
  app.state.preview = null;
  $("#n-send").disabled = true;
  $("#n-preview-result").textContent = "";
  $("#n-circle").hidden = app.state.draft.kind !== "circle";
  $("#n-polygon").hidden = app.state.draft.kind === "circle";
  renderNotifyOptions();
  readPositions();
  if (app.state.me) app.renderMap();
}

export function mapClicked(lat, lng) {
  if ($("#panel-notify").hidden) return;
  // Added as a decimal pair to what is typed, which stays as typed.
  const typedText = `${lat.toFixed(4)}, ${lng.toFixed(4)}`;
  if (app.state.draft.kind === "circle") $("#n-center").value = typedText;
  else $("#n-vertices").value = [$("#n-vertices").value.trim(), typedText].filter(Boolean).join("; ");
  draftChanged();
}

export function isoFromInput(v) {
  // The inputs take 24-hour UTC or a DTG; anything else goes as typed, for the
  // server to refuse naming the field.
  const ms = parseUtc(v);
  return ms === null ? v.trim() || null : rfc3339(ms);
}

export function noticeBody(dryRun) {
  readDraftFromInputs();
  const d = app.state.draft;
  const start = isoFromInput($("#n-start").value);
  const end = isoFromInput($("#n-end").value);
  const volume = { altitude_lower: altitude("#n-lower"), altitude_upper: altitude("#n-upper") };
  if (d.kind === "circle") {
    volume.outline_circle = { center: d.centerEntry ? wirePoint(d.centerEntry) : null, radius: { value: d.radius, units: "M" } };
  } else {
    volume.outline_polygon = { vertices: d.entries.map(wirePoint) };
  }
  const body = {
    category: $("#n-category").value,
    point_of_contact: $("#n-poc").value,
    volumes: [{ volume, time_start: { value: start, format: "RFC3339" }, time_end: { value: end, format: "RFC3339" } }],
    dry_run: dryRun,
  };
  // Only when ticked, so a notice's body is what it always was otherwise.
  if ($("#n-confirm-unusual").checked) body.confirm_unusual = true;
  const am = app.state.amending;
  if (am) body.replaces_version = am.version;
  const path = am ? `/v1/activities/${encodeURIComponent(am.activity)}/amendments` : `/v1/lines/${encodeURIComponent($("#n-line").value)}/notices`;
  return { line: $("#n-line").value, path, body };
}

/** A previewed conflict's sides: the notice being previewed has no id yet ("this notice"). */
function previewSides(c, res) {
  const sides = app.conflictSides(c);
  const unsent = !app.state.amending;
  if (unsent && c.a?.id === res.activity) sides.a = t("notify.this_notice");
  if (unsent && c.b?.id === res.activity) sides.b = t("notify.this_notice");
  return sides;
}

export async function preview() {
  const { line, path, body } = noticeBody(true);
  const out = $("#n-preview-result");
  out.textContent = "";
  $("#n-result").textContent = "";
  try {
    const res = await app.state.api.post(path, body);
    const conflicts = res.conflicts || [];
    app.state.preview = { key: JSON.stringify({ line, body: { ...body, dry_run: false } }), conflicts, declared: res.declared };
    if (!conflicts.length) out.append(h("p", { class: "ok", id: "preview-none" }, t("notify.preview_none")));
    else {
      out.append(h("p", { class: "warning", id: "preview-some" }, t("notify.preview_some", { n: conflicts.length })));
      out.append(
        h(
          "ul",
          { id: "preview-conflicts" },
          conflicts.map((c) =>
            h(
              "li",
              { class: "preview-conflict" },
              t("conflict.between", previewSides(c, res)),
              ": ",
              (c.meetings || [])
                .map((m) =>
                  t("conflict.meeting", {
                    start: app.fmtTime(m.time_start),
                    end: app.fmtTime(m.time_end),
                    lower: app.fmtNum(m.altitude_lower_m),
                    upper: app.fmtNum(m.altitude_upper_m),
                    distance: app.fmtNum(m.horizontal_distance_m),
                  }),
                )
                .join("; "),
            ),
          ),
        ),
      );
    }
    if (res.late) out.append(h("p", { class: "warning" }, t("notify.late")));
    const compared = comparedBands(res.declared?.volumes);
    if (compared) out.append(h("p", { id: "preview-altitudes" }, compared));
    $("#n-send").disabled = false;
    app.renderMap();
    out.scrollIntoView({ block: "nearest" });
  } catch (e) {
    out.append(h("p", { class: "error", role: "alert", id: "preview-error" }, t("error", { detail: app.problemText(e) })));
    unusualRefused(e);
  }
}

/** A refusal the sender may override: show the confirmation box beside the server's reason. */
function unusualRefused(e) {
  const unusual = JSON.stringify(e.problem || {}).includes("confirm_unusual");
  $("#n-confirm-unusual-row").classList.toggle("attention", unusual);
  if (unusual) $("#n-confirm-unusual").focus();
}

/** The altitudes as the server will compare them (W84 metres), beside those given, from a dry run's declared volumes. */
function comparedBands(volumes) {
  if (!volumes?.length) return "";
  return volumes
    .map((v) => {
      const vol = v.volume || {};
      const band = t("place.altitudes", { lower: fmtMetres(vol.altitude_lower?.value), upper: fmtMetres(vol.altitude_upper?.value) });
      const given = v.given ? ` (${t("readback.given", { lower: fmtAltitude(v.given.altitude_lower), upper: fmtAltitude(v.given.altitude_upper) })})` : "";
      return t("notify.compared", { band }) + given;
    })
    .join("; ");
}

export async function send(ev) {
  ev.preventDefault();
  const { line, path, body } = noticeBody(false);
  if (!app.state.preview || app.state.preview.key !== JSON.stringify({ line, body })) {
    $("#n-result").textContent = t("notify.need_preview");
    $("#n-send").disabled = true;
    return;
  }
  try {
    const res = await app.state.api.post(path, body, await signature(line, body));
    let text = t(app.state.amending ? "amend.sent" : "notify.sent", { activity: res.activity, version: res.version, hash: res.content_sha256 });
    if (app.state.amending) stopAmend();
    if (res.conflicts?.length) text += " " + t("notify.sent_conflicts", { n: res.conflicts.length });
    $("#n-result").textContent = text;
    $("#n-result").scrollIntoView({ block: "nearest" });
    $("#n-result").dataset.activity = res.activity;
    app.state.preview = null;
    app.state.draft.vertices = [];
    app.state.draft.center = null;
    writeDraftToInputs();
    readDraftFromInputs();
    renderReadouts();
    $("#n-confirm-unusual").checked = false;
    $("#n-confirm-unusual-row").classList.remove("attention");
    $("#n-send").disabled = true;
    $("#n-preview-result").textContent = "";
    await app.refresh();
  } catch (e) {
    $("#n-result").textContent = t("error", { detail: app.problemText(e) });
    unusualRefused(e);
  }
}

/** The signature of the notice or amendment previewed, when this browser
 * holds a key: what the dry run said it records, checked against what was
 * asked (line, party, category, contact, number of volumes). */
async function signature(line, body) {
  const d = app.state.preview?.declared;
  const am = app.state.amending;
  if (!app.state.key || !d) return undefined;
  const same = d.line === line && d.party === app.state.me.party && d.category === body.category &&
    d.point_of_contact === body.point_of_contact && d.volumes?.length === body.volumes.length;
  if (!same) throw new Error(t("key.mismatch"));
  const action = am ? `amend ${am.activity} version ${am.version + 1}` : "notify";
  return sign(app.state, { scope: `line ${line}`, action, declared: d });
}

/** The notify form, filled from notice `a`'s first volume, sends an amendment of it. */
export function startAmend(a) {
  const c = a.current?.content || {};
  const v = c.volumes?.[0];
  const shape = volumeShape(v);
  if (!shape) return;
  app.state.amending = { activity: a.id, version: a.version, line: a.line };
  app.selectTab("tab-notify");
  $("#n-line").value = a.line;
  $("#n-category").value = c.category;
  $("#n-poc").value = c.point_of_contact || "";
  $(shape.kind === "circle" ? "#n-shape-circle" : "#n-shape-polygon").checked = true;
  app.state.draft.kind = shape.kind;
  app.state.draft.vertices = shape.kind === "polygon" ? shape.vertices.slice() : [];
  app.state.draft.center = shape.kind === "circle" ? [shape.lat, shape.lng] : null;
  if (shape.kind === "circle") $("#n-radius").value = String(shape.radius);
  // The form takes what was given (feet, mean sea level, a flight level) when the notice kept it.
  const given = v.given || {};
  // A flight level may have been given as text ("FL130").
  const asObject = (a) => (typeof a === "string" && /^FL\d+$/i.test(a) ? { value: Number(a.slice(2)), units: "FL" } : a);
  const lower = asObject(given.altitude_lower || v.volume.altitude_lower);
  const upper = asObject(given.altitude_upper || v.volume.altitude_upper);
  $("#n-alt-units").value = lower.units || "M";
  $("#n-alt-ref").value = lower.reference || "W84";
  $("#n-lower").value = String(lower.value);
  $("#n-upper").value = String(upper.value);
  $("#n-start").value = inputUtc(Date.parse(v.time_start.value));
  $("#n-end").value = inputUtc(Date.parse(v.time_end.value));
  for (const id of ["n-start", "n-end"]) timeReadout(id);
  writeDraftToInputs();
  draftChanged();
  renderAmending();
  $("#n-lower").focus();
}

export function stopAmend() {
  app.state.amending = null;
  renderAmending();
  draftChanged();
}

export function renderAmending() {
  const am = app.state.amending;
  $("#amending").hidden = !am;
  $("#n-line").disabled = !!am;
  $("#amending-text").textContent = am ? t("amend.active", { activity: am.activity, version: am.version, line: app.lineOf(am.line)?.name ?? am.line }) : "";
  $("#n-send").textContent = t(am ? "amend.send" : "notify.send");
}

export function renderNotifyOptions() {
  const lineSel = $("#n-line");
  const keep = lineSel.value;
  lineSel.textContent = "";
  for (const l of app.state.lines.filter((l) => l.parties.includes(app.state.me.party))) lineSel.append(h("option", { value: l.id }, l.name));
  if (keep) lineSel.value = keep;
  const cat = $("#n-category");
  const keepCat = cat.value;
  cat.textContent = "";
  for (const c of ["air", "maritime", "ground", "launch", "movement"]) cat.append(h("option", { value: c }, tv("category", c)));
  if (keepCat) cat.value = keepCat;
  const circle = $("#n-shape-circle").checked;
  $("#n-hint").textContent = t(circle ? "notify.draw_hint_circle" : "notify.draw_hint_polygon");
  // Flight levels only on a line whose rules allow them; the reference means nothing for them.
  const rules = app.lineOf($("#n-line").value)?.rules;
  const fl = $("#n-alt-units").querySelector("option[value='FL']");
  fl.disabled = rules?.flight_level_margin_m == null;
  if (fl.disabled && $("#n-alt-units").value === "FL") $("#n-alt-units").value = "M";
  $("#n-alt-ref").disabled = $("#n-alt-units").value === "FL";
}

/** Under a time input: what it was read as, or that it is not a time. */
export function timeReadout(id) {
  const input = $(`#${id}`);
  const out = $(`#${id}-read`);
  if (!input || !out) return;
  const ms = parseUtc(input.value);
  out.textContent = ms === null ? (input.value.trim() ? t("time.invalid") : "") : `= ${app.fmtTimeLong(ms)}`;
  out.classList.toggle("error", ms === null);
}
