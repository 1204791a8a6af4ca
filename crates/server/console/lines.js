// The lines tab: a line's facts and rules, its notices with each party's
// acknowledgment (amend and cancel on the party's own), the conversation in
// the reader's language (requests count down until answered), the composer;
// the status board; the countdowns, every second.

import { app } from "./app-context.js";
import { madeBy } from "./party.js";
import { clearDraft, composer, owedText as owedIn, replyTo, startReply } from "./actions.js";
import { $, h } from "./dom.js";
import { startAmend } from "./notify.js";
import { t, tv } from "./i18n.js";
import { cancelClaim, sign } from "./signing.js";

/** Entries of the journal about one line, in order: messages and structured entries. */
export function lineEntries(lineId) {
  const onLine = new Set(app.state.activities.filter((a) => a.line === lineId).map((a) => a.id));
  return app.state.events.filter((e) => {
    if (e.line === lineId) return true;
    if (e.kind === "acknowledged") return onLine.has(e.activity);
    if (e.kind === "conflict_found") return onLine.has(e.a?.id) || onLine.has(e.b?.id);
    return false;
  });
}

/** What is owed, in words (for escalations, the brief). */
export function owedText(d) {
  return owedIn(app.state, d);
}

/** A journal entry in the reader's language; never its raw kind. */
export function entryText(e) {
  const params = { ...e, party: app.partyName(e.party), status: tv("status", e.status) };
  if (e.kind === "conflict_found") Object.assign(params, app.conflictSides(e));
  if (e.kind === "deadline_escalated") Object.assign(params, { step: tv("step", e.step), owed: owedText(e), due: app.fmtTime(e.due) });
  if (e.kind === "notice_undelivered") params.since = app.fmtTime(e.since);
  if (e.kind === "peer_refused") params.about = e.about ?? e.line;
  // What was done to a party says who did it: the host or the party.
  if (["operator_created", "operator_revoked", "party_settings_changed"].includes(e.kind)) params.by = madeBy(e.by);
  if (e.kind === "operator_created" && e.recovery) return t("entry.operator_recovery", params);
  if (e.kind === "party_settings_changed") return t(e.host_may_add_operators ? "entry.party_unlocked" : "entry.party_locked", params);
  // A notice's later versions say what they did: cancelled, or amended.
  const change = e.kind !== "notice" ? null : e.state === "cancelled" ? "cancelled" : e.version > 1 ? "amended" : null;
  const key = change ? `entry.notice_${change}` : `entry.${e.kind}`;
  const text = t(key, params);
  return text === key ? t("entry.other") : text;
}

export function renderEntry(e) {
  const head = h("div", { class: "entry-head" }, h("span", { class: "entry-kind" }, entryText(e)), " ", h("time", { datetime: e.logged_at }, app.fmtTime(e.logged_at)));
  const li = h("li", { class: `entry entry-${e.kind}`, "data-cursor": e.cursor });
  li.append(head);
  if (e.kind === "message_sent") {
    li.classList.add(`priority-${e.priority}`);
    head.append(" ", h("span", { class: `badge priority-${e.priority}` }, `${tv("message", e.message)} · ${tv("priority", e.priority)}`));
    // Free text is shown as written, in its own language.
    li.append(h("p", { class: "free-text", dir: "auto" }, e.text));
    if (e.references) li.append(h("p", { class: "hint" }, t("message.references", { seq: e.references })));
    // A request or flash message counts down until it is answered, then says by whom.
    const reply = e.message === "request" || e.priority === "flash" ? replyTo(app.state, e.line, e.seq) : null;
    const due = e.deadline ? Date.parse(e.deadline) : Date.parse(app.state.deadlines.find((d) => d.owed?.kind === "reply" && d.line === e.line && d.owed.message === e.seq)?.due);
    if (reply) li.append(h("p", { class: "answered", "data-seq": String(e.seq) }, t("message.answered", { party: app.partyName(reply.party), time: app.fmtTime(reply.logged_at) })));
    else if (Number.isFinite(due)) li.append(h("p", { class: "deadline", "data-seq": String(e.seq), "data-deadline": due, "data-template": "message" }, ""));
  }
  return li;
}

export function ackState(a, party, line) {
  const ack = (a.acknowledgments || []).filter((k) => k.party === party && k.version === a.version).pop();
  if (ack) return h("li", { class: "ack received", "data-party": party }, t("ack.received", { party: app.partyName(party), version: ack.version, time: app.fmtTime(ack.logged_at) }));
  const due = Date.parse(a.current?.logged_at) + (line?.rules?.ack_deadline_s || 0) * 1000;
  return h("li", { class: "ack pending", "data-party": party, "data-deadline": due, "data-template": "ack" }, "");
}

export function renderLines() {
  const list = $("#line-list");
  list.textContent = "";
  if (!app.state.lines.length) list.append(h("li", {}, t("lines.none")));
  for (const l of app.state.lines) {
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
            "aria-pressed": String(l.id === app.state.selectedLine),
            "aria-label": t("line.open", { line: l.name }),
            onclick: () => {
              // A draft message belongs to the line it was typed for.
              if (app.state.selectedLine !== l.id) clearDraft();
              app.state.selectedLine = l.id;
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
  const l = app.lineOf(app.state.selectedLine);
  if (!l) return;
  const r = l.rules || {};
  detail.append(
    h("h3", {}, l.name),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("line.parties")),
      h("dd", {}, l.parties.map(app.partyName).join(", ")),
      h("dt", {}, t("line.status")),
      h("dd", {}, tv("status", l.status)),
      h("dt", {}, t("line.rules")),
      h(
        "dd",
        {},
        t("line.rules_text", {
          lead: app.fmtSeconds(r.notice_lead_time_s || 0),
          ack: app.fmtSeconds(r.ack_deadline_s || 0),
          check: app.fmtSeconds(r.line_check_interval_s || 0),
          h: app.fmtNum(r.horizontal_m || 0),
          v: app.fmtNum(r.vertical_m || 0),
          t: app.fmtNum(r.time_s || 0),
        }),
      ),
    ),
  );
  // Notices with each party's acknowledgment app.state.
  const notices = app.state.activities.filter((a) => a.line === l.id);
  const nl = h("ul", { class: "cards", id: "notice-list" });
  if (!notices.length) nl.append(h("li", {}, t("line.no_notices")));
  for (const a of notices) {
    const others = l.parties.filter((p) => p !== a.party);
    const card = h(
      "li",
      { class: `card notice ${a.party === app.state.me.party ? "own" : "other"}`, "data-activity": a.id },
      h("h4", {}, app.noticeSummary(a)),
      h("dl", { class: "facts notice-facts" }, app.readback(app.activityVolumes(a), null)),
      h("p", { class: "notice-state" }, `${t("notice.state")}: ${tv("state", a.state)} · ${t("notice.poc")}: `, h("span", { class: "free-text", dir: "auto" }, a.current?.content?.point_of_contact || "")),
      h("p", { class: "hash" }, `SHA-256 ${a.content_sha256}`),
      h("h5", {}, t("notice.ack_state")),
      h("ul", { class: "acks" }, others.map((p) => ackState(a, p, l))),
    );
    const mine = app.state.me.party;
    const acked = (a.acknowledgments || []).some((k) => k.party === mine && k.version === a.version);
    if (a.party !== mine && l.parties.includes(mine) && !acked && app.state.me.role !== "observer" && a.state !== "cancelled") {
      card.append(h("button", { type: "button", class: "ack-button", "data-activity": a.id, onclick: () => app.openAck(a) }, t("ack.button", { activity: a.id })));
    }
    if (a.party === mine && app.state.me.role !== "observer" && a.state !== "cancelled") card.append(ownNoticeButtons(a));
    nl.append(card);
  }
  detail.append(h("h4", {}, t("line.notices")), nl);
  // The conversation: messages (free text as written) and structured entries.
  const entries = lineEntries(l.id);
  const conv = h("ol", { class: "conversation", id: "conversation" });
  if (!entries.length) conv.append(h("li", {}, t("line.no_messages")));
  for (const e of entries) conv.append(renderEntry(e));
  detail.append(h("h4", {}, t("line.conversation")), conv);
  // The composer: what is typed survives the redraw a live event causes.
  if (app.state.me.role !== "observer" && l.parties.includes(app.state.me.party)) detail.append(composer(app.state, l));
  tick();
}

/** Amend and cancel, on this party's own notices; cancelling asks once more, in place. */
export function ownNoticeButtons(a) {
  const box = h("p", { class: "buttons own-notice", "data-activity": a.id });
  const amend = h("button", { type: "button", class: "amend-button", "data-activity": a.id, onclick: () => startAmend(a) }, t("amend.button"));
  const cancel = h("button", {
    type: "button",
    class: "cancel-button",
    "data-activity": a.id,
    onclick: () => {
      box.replaceChildren(
        h("span", { class: "warning" }, t("cancel.ask", { activity: a.id, version: a.version })),
        " ",
        h("button", { type: "button", class: "cancel-confirm", "data-activity": a.id, onclick: () => cancelNotice(a) }, t("cancel.confirm")),
        h("button", { type: "button", class: "cancel-keep", onclick: () => renderLines() }, t("cancel.keep")),
      );
      box.querySelector(".cancel-confirm").focus();
    },
  }, t("cancel.button"));
  box.append(amend, cancel);
  return box;
}

export async function cancelNotice(a) {
  try {
    const signed = await sign(app.state, cancelClaim(a));
    await app.state.api.post(`/v1/activities/${encodeURIComponent(a.id)}/cancellation`, { replaces_version: a.version }, signed);
    $("#ack-result").textContent = t("cancel.done", { activity: a.id });
    await app.refresh();
  } catch (e) {
    $("#ack-result").textContent = t("error", { detail: app.problemText(e) });
  }
}

/** Opens the line of message `seq` with the composer set to reply to it. */
export function openReply(line, seq) {
  app.state.selectedLine = line;
  startReply(seq);
  app.selectTab("tab-lines");
  renderLines();
  $("#m-text")?.focus();
}

/** Deadlines count down every second. */
export function tick() {
  const now = Date.now();
  for (const e of document.querySelectorAll("[data-deadline]")) {
    const due = Number(e.dataset.deadline);
    const left = due - now;
    if (e.dataset.template === "left") {
      e.textContent = left >= 0 ? t("action.left", { d: app.fmtDuration(left) }) : t("action.overdue_by", { d: app.fmtDuration(left) });
      e.classList.toggle("overdue", left < 0);
    } else if (e.dataset.template === "ack") {
      const party = app.partyName(e.dataset.party);
      e.textContent = left >= 0 ? t("ack.pending", { party, left: t("time.in", { d: app.fmtDuration(left) }) }) : t("ack.overdue", { party, left: app.fmtDuration(left) });
      e.classList.toggle("overdue", left < 0);
    } else {
      e.textContent = t("message.deadline", { time: app.fmtTime(due), left: left >= 0 ? t("time.in", { d: app.fmtDuration(left) }) : t("time.ago", { d: app.fmtDuration(left) }) });
    }
  }
}

export function renderBoard() {
  const body = $("#board tbody");
  body.textContent = "";
  for (const l of app.state.lines) {
    const op = l.operation;
    const parties = op?.parties?.length ? op.parties : l.parties.map((p) => ({ party: p }));
    parties.forEach((p, i) => {
      const row = h("tr", { "data-line": l.id });
      if (i === 0) {
        const span = String(parties.length);
        row.append(
          h("th", { scope: "row", rowspan: span }, l.name),
          h("td", { rowspan: span }, tv("status", l.status)),
          h("td", { rowspan: span, class: `operation ${op ? op.state : "unchecked"}` }, op ? tv("operation", op.state) : t("board.unchecked"),
            // On a federated line, the node that has not taken this node's entries in.
            ...(op?.nodes ?? []).filter((n) => !n.reachable).map((n) =>
              h("p", { class: "hint node-behind" }, t("operation.node_behind", { node: n.node, since: app.fmtTime(n.behind_since) })))),
        );
      }
      row.append(
        h("td", {}, app.partyName(p.party)),
        h("td", {}, p.last_check_at ? app.fmtTime(p.last_check_at) : t("board.unchecked")),
        h("td", {}, p.round_trip_ms != null ? `${app.fmtNum(p.round_trip_ms)} ms` : "–"),
        h("td", {}, p.misses_24h != null ? `${app.fmtNum(p.misses_24h)} / ${app.fmtNum(p.missed_in_a_row ?? 0)}` : "–"),
      );
      body.append(row);
    });
  }
}
