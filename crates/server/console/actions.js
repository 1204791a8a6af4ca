// What needs this officer's action, first on login and always counted in the
// header: acknowledgments owed, requests and flash messages to answer,
// follow-ups due, each with its time left and how far its escalation has gone
// (from GET /v1/deadlines). The flash alert (a banner, and a short tone once
// the browser allows sound: after the officer's first click or key). The
// composer for messages, requests (with a deadline) and replies.

import { $, h } from "./dom.js";
import { t, tv } from "./i18n.js";
import { parseUtc, rfc3339 } from "./format.js";

/** What app.js lends: {state, fmtTime, openAck, openReply, openTalk, selectTab, showError, partyName}. */
let ctx = null;
let audio = null;
const alerted = new Set(); // flash deadlines already announced

export function initActions(c) {
  ctx = c;
  // Browsers let a page sound only after a gesture: the first click or key
  // makes (or resumes) the audio context.
  const unlock = () => {
    try {
      audio ??= new AudioContext();
      if (audio.state !== "running") audio.resume();
    } catch {
      audio = null;
    }
  };
  for (const ev of ["pointerdown", "keydown"]) window.addEventListener(ev, unlock, { capture: true });
  $("#action-count").addEventListener("click", () => {
    ctx.selectTab("tab-actions");
    $("#tab-actions").focus();
  });
  $("#flash-dismiss").addEventListener("click", () => {
    $("#flash-banner").hidden = true;
  });
}

/** Deadlines this officer's party owes, earliest first. */
export function owedByUs(state) {
  return (state.deadlines || []).filter((d) => d.party === state.me?.party);
}

/** The message a reply deadline is about, from the events seen. */
export function messageOf(state, line, seq) {
  return state.events.find((e) => e.kind === "message_sent" && e.line === line && e.seq === seq);
}

/** The reply to message `seq` of `line`, if one was sent. */
export function replyTo(state, line, seq) {
  return state.events.find((e) => e.kind === "message_sent" && e.line === line && e.message === "reply" && e.references === seq);
}

/** Two short beeps; false when the browser does not allow sound yet. */
function tone() {
  if (!audio || audio.state !== "running") return false;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  osc.connect(gain).connect(audio.destination);
  const at = audio.currentTime;
  for (const [start, end] of [[0, 0.15], [0.25, 0.4]]) {
    gain.gain.setValueAtTime(0.25, at + start);
    gain.gain.setValueAtTime(0, at + end);
  }
  osc.start(at);
  osc.stop(at + 0.45);
  return true;
}

/** Announces flash messages owed a reply that were not announced yet: banner and tone. */
export function alertFlash(state) {
  const fresh = owedByUs(state).filter((d) => d.flash && d.owed.kind === "reply" && !alerted.has(d.id));
  if (!fresh.length) return;
  for (const d of fresh) alerted.add(d.id);
  const d = fresh[fresh.length - 1];
  const m = messageOf(state, d.line, d.owed.message);
  const banner = $("#flash-banner");
  banner.dataset.flash = d.id;
  $("#flash-text").textContent = t("flash.banner", { party: ctx.partyName(m?.party ?? "?"), line: d.line, text: m?.text ?? "", time: ctx.fmtTime(d.due) });
  const sounded = tone();
  banner.dataset.sounded = String(sounded);
  $("#flash-muted").hidden = sounded;
  const answer = $("#flash-answer");
  answer.onclick = () => {
    banner.hidden = true;
    ctx.openReply(d.line, d.owed.message);
  };
  banner.hidden = false;
}

/**
 * What is owed, in words, for a deadline or an escalation entry (which does not
 * carry `flash`: the message it is about says whether it was a flash).
 */
export function owedText(state, d) {
  const o = d.owed || {};
  if (o.kind === "acknowledgment") return t("action.ack", { activity: o.activity, version: o.version });
  if (o.kind === "follow_up") return t("action.follow_up", { talk: o.talk, follow_up: o.follow_up });
  const m = messageOf(state, d.line, o.message);
  const flash = d.flash ?? m?.priority === "flash";
  return t(flash ? "action.flash" : "action.request", { message: o.message, party: ctx.partyName(m?.party ?? "?"), line: d.line });
}

/** The button that answers it: acknowledge, reply, or the follow-up in its talk. */
function answerButton(state, d) {
  const o = d.owed;
  if (state.me.role === "observer") return null;
  if (o.kind === "acknowledgment") {
    const a = state.activities.find((x) => x.id === o.activity);
    return a ? h("button", { type: "button", class: "action-answer", "data-deadline-id": d.id, onclick: () => ctx.openAck(a) }, t("action.do_ack")) : null;
  }
  if (o.kind === "reply") return h("button", { type: "button", class: "action-answer", "data-deadline-id": d.id, onclick: () => ctx.openReply(d.line, o.message) }, t("action.do_reply"));
  return h("button", { type: "button", class: "action-answer", "data-deadline-id": d.id, onclick: () => ctx.openTalk(o.talk) }, t("action.do_follow_up"));
}

/** The count in the header and the "Action required" panel. */
export function renderActions(state) {
  const owed = owedByUs(state);
  const count = $("#action-count");
  const urgent = owed.some((d) => d.overdue || d.flash);
  count.textContent = t("action.count", { n: owed.length });
  count.dataset.count = String(owed.length);
  count.classList.toggle("urgent", urgent);
  $("#tab-actions").textContent = t("tab.actions", { n: owed.length });
  const list = $("#action-list");
  list.textContent = "";
  if (!owed.length) list.append(h("li", { class: "none" }, t("action.none")));
  for (const d of owed) {
    const m = d.owed.kind === "reply" ? messageOf(state, d.line, d.owed.message) : null;
    const steps = (d.escalation || []).map((s) => tv("step", s));
    const due = Date.parse(d.due);
    list.append(
      h(
        "li",
        { class: `card action ${d.overdue ? "overdue" : ""} ${d.flash ? "flash" : ""}`, "data-deadline-id": d.id, "data-kind": d.owed.kind },
        h("h3", {}, owedText(state, d)),
        m ? h("p", { class: "free-text", dir: "auto" }, m.text) : null,
        h("p", { class: "due" }, t("action.due", { time: ctx.fmtTime(due) }), " · ", h("span", { class: "left", "data-deadline": due, "data-template": "left" }, "")),
        steps.length ? h("p", { class: "escalated" }, t("action.escalated", { steps: steps.join(", ") })) : null,
        answerButton(state, d),
      ),
    );
  }
}

// ---------- the composer: a message, a request with a deadline, a reply ----------

const draft = { kind: "text", priority: "routine", text: "", deadline: "", references: "" };
let lastSent = ""; // what the composer last sent, shown again after a redraw

/** Requests and flash messages of other parties on `line` that this party has not answered. */
export function openQuestions(state, line) {
  const me = state.me.party;
  return state.events.filter(
    (e) => e.kind === "message_sent" && e.line === line && e.party !== me && (e.message === "request" || e.priority === "flash") && !replyTo(state, line, e.seq),
  );
}

/** Starts a reply to message `seq` of the shown line. */
export function startReply(seq) {
  draft.kind = "reply";
  draft.references = String(seq);
}

/** Forgets what was typed (after sending, or on another line). */
export function clearDraft() {
  Object.assign(draft, { kind: "text", text: "", deadline: "", references: "" });
  lastSent = "";
}

/** The composer for line `l`; what is typed survives redraws. */
export function composer(state, l) {
  const text = h("textarea", { id: "m-text", rows: "2", required: true, dir: "auto", oninput: (e) => (draft.text = e.target.value) });
  text.value = draft.text;
  const kind = h("select", { id: "m-kind", onchange: (e) => { draft.kind = e.target.value; show(); } }, ["text", "request", "reply"].map((k) => h("option", { value: k }, tv("message", k))));
  kind.value = draft.kind;
  const prio = h("select", { id: "m-priority", onchange: (e) => (draft.priority = e.target.value) }, ["routine", "urgent", "flash"].map((p) => h("option", { value: p }, tv("priority", p))));
  prio.value = draft.priority;
  if (!draft.deadline) draft.deadline = rfc3339(Math.ceil((Date.now() + 30 * 60000) / 60000) * 60000).slice(0, 16).replace("T", " ");
  const deadline = h("input", { id: "m-deadline", spellcheck: "false", autocomplete: "off", value: draft.deadline, "aria-describedby": "m-deadline-read", oninput: (e) => { draft.deadline = e.target.value; readDeadline(); } });
  const read = h("output", { id: "m-deadline-read", for: "m-deadline" });
  const questions = openQuestions(state, l.id);
  const refs = h(
    "select",
    { id: "m-references", onchange: (e) => (draft.references = e.target.value) },
    questions.map((q) => h("option", { value: String(q.seq) }, t("compose.question", { seq: q.seq, party: ctx.partyName(q.party), text: q.text.slice(0, 60) }))),
  );
  if (draft.references && questions.some((q) => String(q.seq) === draft.references)) refs.value = draft.references;
  else draft.references = refs.value || "";
  const deadlineRow = h("span", { class: "time-input", id: "m-deadline-row" }, deadline, " ", read);
  const refsRow = h("span", { id: "m-references-row" }, questions.length ? refs : h("span", { class: "hint" }, t("compose.no_questions")));
  const labels = { deadline: h("label", { for: "m-deadline" }, t("compose.deadline")), refs: h("label", { for: "m-references" }, t("compose.reply_to")) };
  const result = h("p", { id: "m-result", role: "status", "aria-live": "polite" }, lastSent);
  function readDeadline() {
    const ms = parseUtc(deadline.value);
    read.textContent = ms === null ? t("time.invalid") : `= ${ctx.fmtTime(ms)}`;
    read.classList.toggle("error", ms === null);
  }
  function show() {
    const req = draft.kind === "request";
    const rep = draft.kind === "reply";
    deadlineRow.hidden = labels.deadline.hidden = !req;
    refsRow.hidden = labels.refs.hidden = !rep;
  }
  const form = h(
    "form",
    {
      class: "message-form grid",
      id: "message-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (!text.value.trim()) return;
        const body = { message: draft.kind, priority: prio.value, text: text.value };
        if (draft.kind === "request") {
          const ms = parseUtc(deadline.value);
          body.deadline = ms === null ? deadline.value : rfc3339(ms);
        }
        if (draft.kind === "reply") body.references = Number(refs.value) || null;
        try {
          const res = await state.api.post(`/v1/lines/${encodeURIComponent(l.id)}/messages`, body);
          clearDraft();
          text.value = "";
          lastSent = t("compose.sent", { kind: tv("message", body.message), seq: res.seq ?? "" });
          $("#m-result")?.replaceChildren(lastSent);
        } catch (e) {
          result.textContent = t("error", { detail: ctx.problemText(e) });
        }
      },
    },
    h("label", { for: "m-kind" }, t("compose.kind")),
    kind,
    labels.refs,
    refsRow,
    h("label", { for: "m-text" }, t("line.text")),
    text,
    h("label", { for: "m-priority" }, t("line.priority")),
    prio,
    labels.deadline,
    deadlineRow,
    h("span", {}),
    h("button", { type: "submit", id: "m-send" }, t("line.send")),
    result,
  );
  readDeadline();
  show();
  return form;
}
