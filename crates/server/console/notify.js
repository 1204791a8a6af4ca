// The notify form: draw or type one volume, preview its conflicts with a dry
// run, then send it as a new notice or, in amend mode, as the next version of
// one of this party's notices.

import { app } from "./app-context.js";
import { sign } from "./signing.js";
import { $, h } from "./dom.js";
import { inputUtc, parseUtc, rfc3339, volumeShape } from "./format.js";
import { t, tv } from "./i18n.js";

export function readDraftFromInputs() {
  const d = app.state.draft;
  d.kind = $("#n-shape-circle").checked ? "circle" : "polygon";
  d.vertices = $("#n-vertices")
    .value.split(";")
    .map((p) => p.split(",").map((x) => Number(x.trim())))
    .filter((p) => p.length === 2 && p.every((x) => Number.isFinite(x)) && $("#n-vertices").value.trim() !== "");
  const lat = parseFloat($("#n-lat").value);
  const lng = parseFloat($("#n-lng").value);
  d.center = Number.isFinite(lat) && Number.isFinite(lng) ? [lat, lng] : null;
  d.radius = parseFloat($("#n-radius").value) || 0;
}

export function writeDraftToInputs() {
  const d = app.state.draft;
  $("#n-vertices").value = d.vertices.map(([a, b]) => `${a.toFixed(4)},${b.toFixed(4)}`).join("; ");
  $("#n-lat").value = d.center ? d.center[0].toFixed(4) : "";
  $("#n-lng").value = d.center ? d.center[1].toFixed(4) : "";
}

export function draftChanged() {
  readDraftFromInputs();
  app.state.preview = null;
  $("#n-send").disabled = true;
  $("#n-preview-result").textContent = "";
  $("#n-circle").hidden = app.state.draft.kind !== "circle";
  $("#n-polygon").hidden = app.state.draft.kind === "circle";
  renderNotifyOptions();
  if (app.state.me) app.renderMap();
}

export function mapClicked(lat, lng) {
  if ($("#panel-notify").hidden) return;
  const d = app.state.draft;
  if (d.kind === "circle") d.center = [lat, lng];
  else d.vertices.push([lat, lng]);
  writeDraftToInputs();
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
  const volume = {
    altitude_lower: { value: Number($("#n-lower").value), reference: "W84", units: "M" },
    altitude_upper: { value: Number($("#n-upper").value), reference: "W84", units: "M" },
  };
  if (d.kind === "circle") {
    volume.outline_circle = { center: { lat: d.center?.[0], lng: d.center?.[1] }, radius: { value: d.radius, units: "M" } };
  } else {
    volume.outline_polygon = { vertices: d.vertices.map(([lat, lng]) => ({ lat, lng })) };
  }
  const body = {
    category: $("#n-category").value,
    point_of_contact: $("#n-poc").value,
    volumes: [{ volume, time_start: { value: start, format: "RFC3339" }, time_end: { value: end, format: "RFC3339" } }],
    dry_run: dryRun,
  };
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
    $("#n-send").disabled = false;
    app.renderMap();
    out.scrollIntoView({ block: "nearest" });
  } catch (e) {
    out.append(h("p", { class: "error", role: "alert" }, t("error", { detail: app.problemText(e) })));
  }
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
    $("#n-send").disabled = true;
    $("#n-preview-result").textContent = "";
    await app.refresh();
  } catch (e) {
    $("#n-result").textContent = t("error", { detail: app.problemText(e) });
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
  $("#n-lower").value = String(v.volume.altitude_lower.value);
  $("#n-upper").value = String(v.volume.altitude_upper.value);
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
