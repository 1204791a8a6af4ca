// The console: log in with an operator token, load what the party may see,
// follow the live stream, and render the map, the lines, the status board and
// the notify form. All data comes from the public API under /v1.

import { Api, ApiError } from "./api.js";
import { MapView, volumeWindow } from "./map.js";
import { LANGUAGES, initialLanguage, language, setLanguage, t, translatePage, tv } from "./i18n.js";
import { $, h } from "./dom.js";
import { differences, focusFirstEmpty, partName, talkForm } from "./talk-form.js";
import { COORD_FORMATS, dtg, fmtCoord, fmtMetres, fmtPoint, fmtUtc, inputUtc, parseUtc, rfc3339, volumesFacts } from "./format.js";

const state = {
  api: null,
  me: null,
  lines: [],
  activities: [], // details: {id, line, party, version, state, content_sha256, current, acknowledgments}
  conflicts: [],
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

function fmtSeconds(s) {
  return fmtDuration(s * 1000);
}

function partyName(id) {
  return id;
}

// ---------- loading ----------

async function refresh() {
  const api = state.api;
  if (!api) return;
  const [lines, acts, conflicts, sites] = await Promise.all([
    api.get("/v1/lines"),
    api.get("/v1/activities"),
    api.get("/v1/conflicts"),
    api.get("/v1/sites"),
  ]);
  const details = await Promise.all(acts.activities.map((a) => api.get(`/v1/activities/${encodeURIComponent(a.id)}`)));
  state.lines = lines.lines;
  state.activities = details;
  state.conflicts = conflicts.conflicts;
  state.sites = sites.sites;
  await loadTalks();
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
  renderMe();
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
  const fmt = state.coords;
  const field = (name, label, text, attrs = {}) => [
    h("dt", {}, label),
    h("dd", { id: prefix ? `${prefix}-${name}` : null, "data-field": name, ...attrs }, text),
  ];
  const time = (name, label, ms) => field(name, label, fmtTimeLong(ms), { title: otherTimeForm(ms), "data-utc": rfc3339(ms) });
  const rows = (f, p) => {
    const one = f.shapes.length === 1 ? f.shapes[0] : null;
    const circle = one?.kind === "circle";
    const centre = circle ? fmtPoint(one.lat, one.lng, fmt) : fmtPoint(f.box.centre.lat, f.box.centre.lng, fmt);
    const b = f.box;
    const extent = circle
      ? t("place.radius", { radius: fmtMetres(one.radius) })
      : t("place.box", { south: fmtCoord(b.south, "lat", fmt), north: fmtCoord(b.north, "lat", fmt), west: fmtCoord(b.west, "lng", fmt), east: fmtCoord(b.east, "lng", fmt) });
    const shape = !one ? t("place.volumes", { n: f.shapes.length }) : circle ? t("place.circle") : t("place.polygon", { n: one.vertices.length });
    const sub = (name) => (p ? `${p}-${name}` : name);
    return [
      field(sub("shape"), t("readback.shape"), shape),
      field(sub("centre"), t("readback.centre"), centre),
      field(sub("extent"), t("readback.extent"), extent),
      field(sub("altitudes"), t("readback.altitudes"), t("place.altitudes", { lower: fmtMetres(f.lower), upper: fmtMetres(f.upper) })),
      time(sub("start"), t("readback.start"), f.start),
      time(sub("end"), t("readback.end"), f.end),
    ];
  };
  const out = rows(facts, null);
  if (volumes.length > 1)
    volumes.forEach((v, i) => {
      out.push(h("dt", { class: "readback-volume" }, t("readback.volume", { n: i + 1 })), h("dd", { class: "readback-volume" }, ""));
      out.push(rows(volumesFacts([v]), `v${i + 1}`));
    });
  return out.flat(2);
}

function mapLabel(kind, f) {
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

/** Entries of the journal about one line, in order: messages and structured entries. */
function lineEntries(lineId) {
  const onLine = new Set(state.activities.filter((a) => a.line === lineId).map((a) => a.id));
  return state.events.filter((e) => {
    if (e.line === lineId) return true;
    if (e.kind === "acknowledged") return onLine.has(e.activity);
    if (e.kind === "conflict_found") return onLine.has(e.a?.id) || onLine.has(e.b?.id);
    return false;
  });
}

function entryText(e) {
  const params = { ...e, party: partyName(e.party), status: tv("status", e.status) };
  if (e.kind === "conflict_found") Object.assign(params, conflictSides(e));
  const key = `entry.${e.kind}`;
  const text = t(key, params);
  return text === key ? t("entry.other", { kind: e.kind }) : text;
}

function renderEntry(e) {
  const head = h("div", { class: "entry-head" }, h("span", { class: "entry-kind" }, entryText(e)), " ", h("time", { datetime: e.logged_at }, fmtTime(e.logged_at)));
  const li = h("li", { class: `entry entry-${e.kind}`, "data-cursor": e.cursor });
  li.append(head);
  if (e.kind === "message_sent") {
    li.classList.add(`priority-${e.priority}`);
    head.append(" ", h("span", { class: `badge priority-${e.priority}` }, `${tv("message", e.message)} · ${tv("priority", e.priority)}`));
    // Free text is shown as written, in its own language.
    li.append(h("p", { class: "free-text", dir: "auto" }, e.text));
    if (e.deadline) li.append(h("p", { class: "deadline", "data-deadline": Date.parse(e.deadline), "data-template": "message" }, ""));
  }
  return li;
}

function ackState(a, party, line) {
  const ack = (a.acknowledgments || []).filter((k) => k.party === party && k.version === a.version).pop();
  if (ack) return h("li", { class: "ack received", "data-party": party }, t("ack.received", { party: partyName(party), version: ack.version, time: fmtTime(ack.logged_at) }));
  const due = Date.parse(a.current?.logged_at) + (line?.rules?.ack_deadline_s || 0) * 1000;
  return h("li", { class: "ack pending", "data-party": party, "data-deadline": due, "data-template": "ack" }, "");
}

function renderLines() {
  // A message being typed survives the redraw a live event causes.
  const draftText = $("#m-text")?.value ?? "";
  const draftPriority = $("#m-priority")?.value;
  const list = $("#line-list");
  list.textContent = "";
  if (!state.lines.length) list.append(h("li", {}, t("lines.none")));
  for (const l of state.lines) {
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "line-button",
            "data-line": l.id,
            "aria-pressed": String(l.id === state.selectedLine),
            "aria-label": t("line.open", { line: l.name }),
            onclick: () => {
              // A draft message belongs to the line it was typed for.
              if (state.selectedLine !== l.id && $("#m-text")) $("#m-text").value = "";
              state.selectedLine = l.id;
              renderLines();
            },
          },
          `${l.name} (${tv("status", l.status)})`,
        ),
      ),
    );
  }
  const detail = $("#line-detail");
  detail.textContent = "";
  const l = lineOf(state.selectedLine);
  if (!l) return;
  const r = l.rules || {};
  detail.append(
    h("h3", {}, l.name),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("line.parties")),
      h("dd", {}, l.parties.map(partyName).join(", ")),
      h("dt", {}, t("line.status")),
      h("dd", {}, tv("status", l.status)),
      h("dt", {}, t("line.rules")),
      h(
        "dd",
        {},
        t("line.rules_text", {
          lead: fmtSeconds(r.notice_lead_time_s || 0),
          ack: fmtSeconds(r.ack_deadline_s || 0),
          check: fmtSeconds(r.line_check_interval_s || 0),
          h: fmtNum(r.horizontal_m || 0),
          v: fmtNum(r.vertical_m || 0),
          t: fmtNum(r.time_s || 0),
        }),
      ),
    ),
  );
  // Notices with each party's acknowledgment state.
  const notices = state.activities.filter((a) => a.line === l.id);
  const nl = h("ul", { class: "cards", id: "notice-list" });
  if (!notices.length) nl.append(h("li", {}, t("line.no_notices")));
  for (const a of notices) {
    const others = l.parties.filter((p) => p !== a.party);
    const card = h(
      "li",
      { class: `card notice ${a.party === state.me.party ? "own" : "other"}`, "data-activity": a.id },
      h("h4", {}, noticeSummary(a)),
      h("dl", { class: "facts notice-facts" }, readback(activityVolumes(a), null)),
      h("p", {}, `${t("notice.state")}: ${tv("state", a.state)} · ${t("notice.poc")}: `, h("span", { class: "free-text", dir: "auto" }, a.current?.content?.point_of_contact || "")),
      h("p", { class: "hash" }, `SHA-256 ${a.content_sha256}`),
      h("h5", {}, t("notice.ack_state")),
      h("ul", { class: "acks" }, others.map((p) => ackState(a, p, l))),
    );
    const mine = state.me.party;
    const acked = (a.acknowledgments || []).some((k) => k.party === mine && k.version === a.version);
    if (a.party !== mine && l.parties.includes(mine) && !acked && state.me.role !== "observer" && a.state !== "cancelled") {
      card.append(h("button", { type: "button", class: "ack-button", "data-activity": a.id, onclick: () => openAck(a) }, t("ack.button", { activity: a.id })));
    }
    nl.append(card);
  }
  detail.append(h("h4", {}, t("line.notices")), nl);
  // The conversation: messages (free text as written) and structured entries.
  const entries = lineEntries(l.id);
  const conv = h("ol", { class: "conversation", id: "conversation" });
  if (!entries.length) conv.append(h("li", {}, t("line.no_messages")));
  for (const e of entries) conv.append(renderEntry(e));
  detail.append(h("h4", {}, t("line.conversation")), conv);
  if (state.me.role !== "observer" && l.parties.includes(state.me.party)) {
    const text = h("textarea", { id: "m-text", rows: "2", required: true, dir: "auto" });
    const prio = h("select", { id: "m-priority" }, ["routine", "urgent", "flash"].map((p) => h("option", { value: p }, tv("priority", p))));
    const form = h(
      "form",
      {
        class: "message-form",
        onsubmit: async (ev) => {
          ev.preventDefault();
          if (!text.value.trim()) return;
          try {
            await state.api.post(`/v1/lines/${encodeURIComponent(l.id)}/messages`, { text: text.value, priority: prio.value });
            text.value = "";
          } catch (e) {
            showError(e);
          }
        },
      },
      h("label", { for: "m-text" }, t("line.text")),
      text,
      h("label", { for: "m-priority" }, t("line.priority")),
      prio,
      h("button", { type: "submit" }, t("line.send")),
    );
    detail.append(form);
    text.value = draftText;
    if (draftPriority) prio.value = draftPriority;
  }
  tick();
}

/** Deadlines count down every second. */
function tick() {
  const now = Date.now();
  for (const e of document.querySelectorAll("[data-deadline]")) {
    const due = Number(e.dataset.deadline);
    const left = due - now;
    if (e.dataset.template === "ack") {
      const party = partyName(e.dataset.party);
      e.textContent = left >= 0 ? t("ack.pending", { party, left: t("time.in", { d: fmtDuration(left) }) }) : t("ack.overdue", { party, left: fmtDuration(left) });
      e.classList.toggle("overdue", left < 0);
    } else {
      e.textContent = t("message.deadline", { time: fmtTime(due), left: left >= 0 ? t("time.in", { d: fmtDuration(left) }) : t("time.ago", { d: fmtDuration(left) }) });
    }
  }
}

function renderBoard() {
  const body = $("#board tbody");
  body.textContent = "";
  for (const l of state.lines) {
    const op = l.operation;
    const parties = op?.parties?.length ? op.parties : l.parties.map((p) => ({ party: p }));
    parties.forEach((p, i) => {
      const row = h("tr", { "data-line": l.id });
      if (i === 0) {
        const span = String(parties.length);
        row.append(
          h("th", { scope: "row", rowspan: span }, l.name),
          h("td", { rowspan: span }, tv("status", l.status)),
          h("td", { rowspan: span, class: `operation ${op ? op.state : "unchecked"}` }, op ? tv("operation", op.state) : t("board.unchecked")),
        );
      }
      row.append(
        h("td", {}, partyName(p.party)),
        h("td", {}, p.last_check_at ? fmtTime(p.last_check_at) : t("board.unchecked")),
        h("td", {}, p.round_trip_ms != null ? `${fmtNum(p.round_trip_ms)} ms` : "–"),
        h("td", {}, p.misses_24h != null ? `${fmtNum(p.misses_24h)} / ${fmtNum(p.missed_in_a_row ?? 0)}` : "–"),
      );
      body.append(row);
    });
  }
}

// ---------- talks ----------

async function loadTalks() {
  const api = state.api;
  const [talks, relations] = await Promise.all([api.get("/v1/talks"), api.get("/v1/talks/relations")]);
  state.talks = talks.talks;
  state.relations = relations.relations;
  if (state.talk) state.talk = await api.get(`/v1/talks/${encodeURIComponent(state.talk.id)}`);
}

async function openTalk(id) {
  state.talk = await state.api.get(`/v1/talks/${encodeURIComponent(id)}`);
  $("#talk-result").textContent = "";
  renderTalks();
  $("#talk-detail h3")?.focus();
}

async function confirmTalk(talk, version) {
  const out = $("#talk-result");
  try {
    const res = await state.api.post(`/v1/talks/${encodeURIComponent(talk.id)}/confirmation`, { version: version.version, content_sha256: version.content_sha256 });
    out.textContent = t("talk.confirmed_msg", { version: res.version, state: tv("talkstate", res.state) });
    await loadTalks();
    renderTalks();
    renderRelations();
  } catch (e) {
    out.textContent = t("error", { detail: problemText(e) });
  }
}

/** Opens the form for a record: a new talk, or this party's version of `talk`. */
function openTalkForm(talk) {
  const area = $("#talk-form-area");
  const me = state.me.party;
  const others = [...new Set([...state.relations.map((r) => r.party), ...(talk?.parties ?? [])])].filter((p) => p !== me);
  const lines = state.lines.filter((l) => l.parties.includes(me));
  const close = () => {
    area.textContent = "";
  };
  area.textContent = "";
  $("#talk-result").textContent = "";
  area.append(
    talkForm({
      me,
      others,
      lines,
      record: talk?.record,
      title: talk ? t("talkform.version_title", { talk: talk.id }) : t("talkform.new_title"),
      submitLabel: talk ? t("talkform.send_version") : t("talkform.send_new"),
      onSubmit: async (record) => {
        const res = talk
          ? await state.api.post(`/v1/talks/${encodeURIComponent(talk.id)}/versions`, record)
          : await state.api.post("/v1/talks", record);
        close();
        await loadTalks();
        await openTalk(res.talk);
        $("#talk-result").textContent = t("talk.recorded_msg", { talk: res.talk, version: res.version });
      },
      onCancel: () => {
        close();
        (talk ? document.querySelector(".propose-version") : $("#talk-new"))?.focus();
      },
    }),
  );
  focusFirstEmpty(area);
}

async function closeFollowUp(talk, followUp, note) {
  const out = $("#talk-result");
  try {
    await state.api.post(`/v1/talks/${encodeURIComponent(talk)}/follow-ups/${followUp}/closure`, { note });
    state.closing = null;
    await loadTalks();
    renderTalks();
    renderRelations();
    out.textContent = t("talk.closed_msg", { talk, id: followUp });
  } catch (e) {
    out.textContent = t("error", { detail: problemText(e) });
  }
}

/** Where the versions of a talk's record differ, side by side. */
function versionDifferences(k) {
  const diffs = differences(k.versions.map((v) => v.record));
  if (!diffs.length) return null;
  const head = h("tr", {}, h("th", { scope: "col" }, t("talk.part")), k.versions.map((v) => h("th", { scope: "col" }, t("talk.version_of", { version: v.version, party: partyName(v.party) }))));
  const show = (pointer, v) => (v === undefined ? "—" : pointer.endsWith("/outcome") ? tv("outcome", v) : String(v));
  const body = h("tbody", {}, diffs.map((d) => h("tr", { "data-pointer": d.pointer }, h("th", { scope: "row" }, partName(d.pointer)), d.values.map((v) => h("td", { dir: "auto" }, show(d.pointer, v))))));
  return h("table", { class: "differences", id: "talk-differences" }, h("caption", {}, t("talk.differences")), h("thead", {}, head), body);
}

function renderTalks() {
  $("#talk-new").hidden = !state.me || state.me.role === "observer" || state.me.party === "host";
  const list = $("#talk-list");
  list.textContent = "";
  if (!state.talks.length) list.append(h("li", {}, t("talks.none")));
  for (const k of state.talks) {
    list.append(
      h(
        "li",
        { class: `card talk ${k.state}`, "data-talk": k.id },
        h("h3", {}, `${k.id} · `, h("span", { class: `talk-state ${k.state}` }, tv("talkstate", k.state))),
        h("p", {}, t("talk.summary", { date: k.date, parties: k.parties.join(", "), level: k.level, items: k.agenda_items, open: k.open_follow_ups })),
        h("button", { type: "button", class: "show-talk", "data-talk": k.id, onclick: () => openTalk(k.id).catch(showError) }, t("talk.show")),
      ),
    );
  }
  const detail = $("#talk-detail");
  detail.textContent = "";
  const k = state.talk;
  if (!k) return;
  const r = k.record;
  const mine = state.me.party;
  const place = [r.venue, r.line].filter(Boolean).join(" · ");
  detail.append(
    h("h3", { tabindex: "-1" }, `${k.id} · ${k.date} · `, h("span", { class: `talk-state ${k.state}` }, tv("talkstate", k.state))),
    h("p", {}, t("talk.where", { place, level: r.level })),
  );
  if (r.participants?.length) detail.append(h("p", {}, t("talk.participants", { list: r.participants.map((p) => `${p.role} (${partyName(p.party)})`).join("; ") })));
  if (k.awaiting?.length) detail.append(h("p", {}, t("talk.awaiting", { parties: k.awaiting.map(partyName).join(", ") })));
  const table = h("table", { class: "agenda" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("talk.item")), h("th", { scope: "col" }, t("talk.outcome")), h("th", { scope: "col" }, t("talk.positions")))));
  const body = h("tbody");
  for (const a of r.agenda) {
    const positions = Object.entries(a.positions || {}).map(([p, text]) => h("p", { dir: "auto" }, `${partyName(p)}: `, text));
    body.append(h("tr", {}, h("td", { dir: "auto" }, a.item), h("td", {}, tv("outcome", a.outcome)), h("td", {}, positions)));
  }
  table.append(body);
  detail.append(h("h4", {}, t("talk.agenda")), table);
  detail.append(h("h4", {}, t("talk.versions")));
  const versions = h("ul", { class: "versions" });
  for (const v of k.versions) {
    const li = h("li", {}, t("talk.version_line", { version: v.version, party: partyName(v.party), by: (v.stood_by || []).map(partyName).join(", ") || "–", hash: v.content_sha256.slice(0, 12) }));
    const canConfirm = k.state !== "confirmed" && k.parties.includes(mine) && state.me.role !== "observer" && !(v.stood_by || []).includes(mine);
    if (canConfirm) li.append(" ", h("button", { type: "button", class: "confirm-talk", "data-version": String(v.version), onclick: () => confirmTalk(k, v) }, t("talk.confirm", { version: v.version })));
    versions.append(li);
  }
  detail.append(versions);
  const officer = k.parties.includes(mine) && state.me.role !== "observer";
  if (k.versions.length > 1) detail.append(versionDifferences(k) ?? "");
  if (officer && k.state !== "confirmed")
    detail.append(h("button", { type: "button", class: "propose-version", "data-talk": k.id, onclick: () => openTalkForm(k) }, t("talk.propose")));
  if (k.follow_ups?.length) {
    detail.append(h("h4", {}, t("talk.follow_ups")));
    const ul = h("ul", {});
    for (const f of k.follow_ups) {
      const li = h("li", { class: `fu ${f.state}`, "data-follow-up": String(f.id) }, t("talk.follow_up", { id: f.id, action: f.action, owner: partyName(f.owner), due: fmtTime(f.due), state: tv("fustate", f.state) }));
      if (f.closure?.note) li.append(h("p", { class: "free-text", dir: "auto" }, t("talk.closure_note", { note: f.closure.note })));
      const closing = state.closing?.talk === k.id && state.closing.followUp === f.id;
      if (officer && f.owner === mine && f.state !== "closed" && !closing)
        li.append(" ", h("button", { type: "button", class: "close-follow-up", "data-follow-up": String(f.id), onclick: () => {
          state.closing = { talk: k.id, followUp: f.id, note: "" };
          renderTalks();
          $(`#fu-note-${f.id}`)?.focus();
        } }, t("talk.close")));
      if (closing) {
        const note = h("input", { id: `fu-note-${f.id}`, value: state.closing.note, dir: "auto", required: true, oninput: (e) => (state.closing.note = e.target.value) });
        li.append(
          h("form", { class: "closure-form", onsubmit: (e) => { e.preventDefault(); closeFollowUp(k.id, f.id, state.closing.note); } },
            h("label", { for: note.id }, t("talk.close_note")), note,
            h("button", { type: "submit", id: `fu-close-${f.id}` }, t("talk.close_submit")),
            h("button", { type: "button", onclick: () => { state.closing = null; renderTalks(); } }, t("talkform.cancel"))),
        );
      }
      ul.append(li);
    }
    detail.append(ul);
  }
}

function renderRelations() {
  const body = $("#relations tbody");
  body.textContent = "";
  for (const r of state.relations) {
    body.append(
      h(
        "tr",
        { "data-party": r.party, class: r.flagged ? "flagged" : null },
        h("th", { scope: "row" }, partyName(r.party)),
        h("td", {}, r.last_talk ?? t("relations.never")),
        h("td", {}, r.days_since_last_talk != null ? fmtNum(r.days_since_last_talk) : "–"),
        h("td", {}, fmtNum(r.talks_last_365_days)),
        h("td", {}, fmtNum(r.open_follow_ups)),
        h("td", { class: r.flagged ? "flagged" : null }, r.flagged ? t("relations.flagged", { days: r.flag_after_days }) : ""),
      ),
    );
  }
}

function renderNotifyOptions() {
  const lineSel = $("#n-line");
  const keep = lineSel.value;
  lineSel.textContent = "";
  for (const l of state.lines.filter((l) => l.parties.includes(state.me.party))) lineSel.append(h("option", { value: l.id }, l.name));
  if (keep) lineSel.value = keep;
  const cat = $("#n-category");
  const keepCat = cat.value;
  cat.textContent = "";
  for (const c of ["air", "maritime", "ground", "launch", "movement"]) cat.append(h("option", { value: c }, tv("category", c)));
  if (keepCat) cat.value = keepCat;
  const circle = $("#n-shape-circle").checked;
  $("#n-hint").textContent = t(circle ? "notify.draw_hint_circle" : "notify.draw_hint_polygon");
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
  renderRelations();
  renderTalks();
  renderNotifyOptions();
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

/** Under a time input: what it was read as, or that it is not a time. */
function timeReadout(id) {
  const input = $(`#${id}`);
  const out = $(`#${id}-read`);
  if (!input || !out) return;
  const ms = parseUtc(input.value);
  out.textContent = ms === null ? (input.value.trim() ? t("time.invalid") : "") : `= ${fmtTimeLong(ms)}`;
  out.classList.toggle("error", ms === null);
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
    await state.api.post(`/v1/activities/${encodeURIComponent(a.id)}/acknowledgments`, { version: a.version, content_sha256: a.content_sha256 });
    $("#ack-dialog").close();
    $("#ack-result").textContent = t("ack.done", { activity: a.id, version: a.version });
    acking = null;
    await refresh();
  } catch (e) {
    $("#ack-error").textContent = t("error", { detail: e.message });
  }
}

// ---------- notify ----------

function readDraftFromInputs() {
  const d = state.draft;
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

function writeDraftToInputs() {
  const d = state.draft;
  $("#n-vertices").value = d.vertices.map(([a, b]) => `${a.toFixed(4)},${b.toFixed(4)}`).join("; ");
  $("#n-lat").value = d.center ? d.center[0].toFixed(4) : "";
  $("#n-lng").value = d.center ? d.center[1].toFixed(4) : "";
}

function draftChanged() {
  readDraftFromInputs();
  state.preview = null;
  $("#n-send").disabled = true;
  $("#n-preview-result").textContent = "";
  $("#n-circle").hidden = state.draft.kind !== "circle";
  $("#n-polygon").hidden = state.draft.kind === "circle";
  renderNotifyOptions();
  if (state.me) renderMap();
}

function mapClicked(lat, lng) {
  if ($("#panel-notify").hidden) return;
  const d = state.draft;
  if (d.kind === "circle") d.center = [lat, lng];
  else d.vertices.push([lat, lng]);
  writeDraftToInputs();
  draftChanged();
}

function isoFromInput(v) {
  // The inputs take 24-hour UTC or a DTG; anything else goes as typed, for the
  // server to refuse naming the field.
  const ms = parseUtc(v);
  return ms === null ? v.trim() || null : rfc3339(ms);
}

function noticeBody(dryRun) {
  readDraftFromInputs();
  const d = state.draft;
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
  return {
    line: $("#n-line").value,
    body: {
      category: $("#n-category").value,
      point_of_contact: $("#n-poc").value,
      volumes: [{ volume, time_start: { value: start, format: "RFC3339" }, time_end: { value: end, format: "RFC3339" } }],
      dry_run: dryRun,
    },
  };
}

function problemText(e) {
  const p = e.problem;
  if (p?.errors?.length) return p.errors.map((x) => `${x.pointer || ""}: ${x.detail || x.message || ""}`).join("; ");
  return e.message;
}

async function preview() {
  const { line, body } = noticeBody(true);
  const out = $("#n-preview-result");
  out.textContent = "";
  $("#n-result").textContent = "";
  try {
    const res = await state.api.post(`/v1/lines/${encodeURIComponent(line)}/notices`, body);
    const conflicts = res.conflicts || [];
    state.preview = { key: JSON.stringify({ line, body: { ...body, dry_run: false } }), conflicts };
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
              t("conflict.between", conflictSides(c)),
              ": ",
              (c.meetings || [])
                .map((m) =>
                  t("conflict.meeting", {
                    start: fmtTime(m.time_start),
                    end: fmtTime(m.time_end),
                    lower: fmtNum(m.altitude_lower_m),
                    upper: fmtNum(m.altitude_upper_m),
                    distance: fmtNum(m.horizontal_distance_m),
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
    renderMap();
    out.scrollIntoView({ block: "nearest" });
  } catch (e) {
    out.append(h("p", { class: "error", role: "alert" }, t("error", { detail: problemText(e) })));
  }
}

async function send(ev) {
  ev.preventDefault();
  const { line, body } = noticeBody(false);
  if (!state.preview || state.preview.key !== JSON.stringify({ line, body })) {
    $("#n-result").textContent = t("notify.need_preview");
    $("#n-send").disabled = true;
    return;
  }
  try {
    const res = await state.api.post(`/v1/lines/${encodeURIComponent(line)}/notices`, body);
    let text = t("notify.sent", { activity: res.activity, version: res.version, hash: res.content_sha256 });
    if (res.conflicts?.length) text += " " + t("notify.sent_conflicts", { n: res.conflicts.length });
    $("#n-result").textContent = text;
    $("#n-result").scrollIntoView({ block: "nearest" });
    $("#n-result").dataset.activity = res.activity;
    state.preview = null;
    state.draft.vertices = [];
    state.draft.center = null;
    writeDraftToInputs();
    $("#n-send").disabled = true;
    $("#n-preview-result").textContent = "";
    await refresh();
  } catch (e) {
    $("#n-result").textContent = t("error", { detail: problemText(e) });
  }
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

  map = new MapView($("#map"), { onClick: mapClicked, label: mapLabel });
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
  selectTab("tab-conflicts");

  for (const id of ["#n-vertices", "#n-lat", "#n-lng", "#n-radius", "#n-shape-polygon", "#n-shape-circle"]) $(id).addEventListener("input", draftChanged);
  for (const id of ["#n-line", "#n-category", "#n-poc", "#n-lower", "#n-upper", "#n-start", "#n-end"])
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

init();
