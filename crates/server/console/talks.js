// The talks tab and the relations table: the register of talks between
// parties, a talk's versions side by side, confirming a version, recording a
// new round or this party's own version (talk-form.js), closing follow-ups.

import { app } from "./app-context.js";
import { differences, focusFirstEmpty, partName, talkForm } from "./talk-form.js";
import { $, h } from "./dom.js";
import { t, tv } from "./i18n.js";
import { confirmClaim, sign } from "./signing.js";

export async function loadTalks() {
  const api = app.state.api;
  const [talks, relations] = await Promise.all([api.get("/v1/talks"), api.get("/v1/talks/relations")]);
  app.state.talks = talks.talks;
  app.state.relations = relations.relations;
  if (app.state.talk) app.state.talk = await api.get(`/v1/talks/${encodeURIComponent(app.state.talk.id)}`);
}

export async function openTalk(id) {
  app.state.talk = await app.state.api.get(`/v1/talks/${encodeURIComponent(id)}`);
  $("#talk-result").textContent = "";
  renderTalks();
  $("#talk-detail h3")?.focus();
}

export async function confirmTalk(talk, version) {
  const out = $("#talk-result");
  try {
    const signed = await sign(app.state, confirmClaim(talk.id, version, app.state.me.party));
    const res = await app.state.api.post(`/v1/talks/${encodeURIComponent(talk.id)}/confirmation`, { version: version.version, content_sha256: version.content_sha256 }, signed);
    out.textContent = t("talk.confirmed_msg", { version: res.version, state: tv("talkstate", res.state) });
    await loadTalks();
    renderTalks();
    renderRelations();
  } catch (e) {
    out.textContent = t("error", { detail: app.problemText(e) });
  }
}

/** Opens the form for a record: a new talk, or this party's version of `talk`. */
export function openTalkForm(talk) {
  const area = $("#talk-form-area");
  const me = app.state.me.party;
  const others = [...new Set([...app.state.relations.map((r) => r.party), ...(talk?.parties ?? [])])].filter((p) => p !== me);
  const lines = app.state.lines.filter((l) => l.parties.includes(me));
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
          ? await app.state.api.post(`/v1/talks/${encodeURIComponent(talk.id)}/versions`, record)
          : await app.state.api.post("/v1/talks", record);
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

export async function closeFollowUp(talk, followUp, note) {
  const out = $("#talk-result");
  try {
    await app.state.api.post(`/v1/talks/${encodeURIComponent(talk)}/follow-ups/${followUp}/closure`, { note });
    app.state.closing = null;
    await loadTalks();
    renderTalks();
    renderRelations();
    out.textContent = t("talk.closed_msg", { talk, id: followUp });
  } catch (e) {
    out.textContent = t("error", { detail: app.problemText(e) });
  }
}

/** Where the versions of a talk's record differ, side by side. */
export function versionDifferences(k) {
  const diffs = differences(k.versions.map((v) => v.record));
  if (!diffs.length) return null;
  const head = h("tr", {}, h("th", { scope: "col" }, t("talk.part")), k.versions.map((v) => h("th", { scope: "col" }, t("talk.version_of", { version: v.version, party: app.partyName(v.party) }))));
  const show = (pointer, v) => (v === undefined ? "—" : pointer.endsWith("/outcome") ? tv("outcome", v) : String(v));
  const body = h("tbody", {}, diffs.map((d) => h("tr", { "data-pointer": d.pointer }, h("th", { scope: "row" }, partName(d.pointer)), d.values.map((v) => h("td", { dir: "auto" }, show(d.pointer, v))))));
  return h("table", { class: "differences", id: "talk-differences" }, h("caption", {}, t("talk.differences")), h("thead", {}, head), body);
}

export function renderTalks() {
  $("#talk-new").hidden = !app.state.me || app.state.me.role === "observer" || app.state.me.party === "host";
  const list = $("#talk-list");
  list.textContent = "";
  if (!app.state.talks.length) list.append(h("li", {}, t("talks.none")));
  for (const k of app.state.talks) {
    list.append(
      h(
        "li",
        { class: `card talk ${k.state}`, "data-talk": k.id },
        h("h3", {}, `${k.id} · `, h("span", { class: `talk-app.state ${k.state}` }, tv("talkstate", k.state))),
        h("p", {}, t("talk.summary", { date: k.date, parties: k.parties.join(", "), level: k.level, items: k.agenda_items, open: k.open_follow_ups })),
        h("button", { type: "button", class: "show-talk", "data-talk": k.id, onclick: () => openTalk(k.id).catch(app.showError) }, t("talk.show")),
      ),
    );
  }
  const detail = $("#talk-detail");
  detail.textContent = "";
  const k = app.state.talk;
  if (!k) return;
  const r = k.record;
  const mine = app.state.me.party;
  const place = [r.venue, r.line].filter(Boolean).join(" · ");
  detail.append(
    h("h3", { tabindex: "-1" }, `${k.id} · ${k.date} · `, h("span", { class: `talk-app.state ${k.state}` }, tv("talkstate", k.state))),
    h("p", {}, t("talk.where", { place, level: r.level })),
  );
  if (r.participants?.length) detail.append(h("p", {}, t("talk.participants", { list: r.participants.map((p) => `${p.role} (${app.partyName(p.party)})`).join("; ") })));
  if (k.awaiting?.length) detail.append(h("p", {}, t("talk.awaiting", { parties: k.awaiting.map(app.partyName).join(", ") })));
  const table = h("table", { class: "agenda" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("talk.item")), h("th", { scope: "col" }, t("talk.outcome")), h("th", { scope: "col" }, t("talk.positions")))));
  const body = h("tbody");
  for (const a of r.agenda) {
    const positions = Object.entries(a.positions || {}).map(([p, text]) => h("p", { dir: "auto" }, `${app.partyName(p)}: `, text));
    body.append(h("tr", {}, h("td", { dir: "auto" }, a.item), h("td", {}, tv("outcome", a.outcome)), h("td", {}, positions)));
  }
  table.append(body);
  detail.append(h("h4", {}, t("talk.agenda")), table);
  detail.append(h("h4", {}, t("talk.versions")));
  const versions = h("ul", { class: "versions" });
  for (const v of k.versions) {
    const li = h("li", {}, t("talk.version_line", { version: v.version, party: app.partyName(v.party), by: (v.stood_by || []).map(app.partyName).join(", ") || "–", hash: v.content_sha256.slice(0, 12) }));
    const canConfirm = k.state !== "confirmed" && k.parties.includes(mine) && app.state.me.role !== "observer" && !(v.stood_by || []).includes(mine);
    if (canConfirm) li.append(" ", h("button", { type: "button", class: "confirm-talk", "data-version": String(v.version), onclick: () => confirmTalk(k, v) }, t("talk.confirm", { version: v.version })));
    versions.append(li);
  }
  detail.append(versions);
  const officer = k.parties.includes(mine) && app.state.me.role !== "observer";
  if (k.versions.length > 1) detail.append(versionDifferences(k) ?? "");
  if (officer && k.state !== "confirmed")
    detail.append(h("button", { type: "button", class: "propose-version", "data-talk": k.id, onclick: () => openTalkForm(k) }, t("talk.propose")));
  if (k.follow_ups?.length) {
    detail.append(h("h4", {}, t("talk.follow_ups")));
    const ul = h("ul", {});
    for (const f of k.follow_ups) {
      const li = h("li", { class: `fu ${f.state}`, "data-follow-up": String(f.id) }, t("talk.follow_up", { id: f.id, action: f.action, owner: app.partyName(f.owner), due: app.fmtTime(f.due), state: tv("fustate", f.state) }));
      if (f.closure?.note) li.append(h("p", { class: "free-text", dir: "auto" }, t("talk.closure_note", { note: f.closure.note })));
      const closing = app.state.closing?.talk === k.id && app.state.closing.followUp === f.id;
      if (officer && f.owner === mine && f.state !== "closed" && !closing)
        li.append(" ", h("button", { type: "button", class: "close-follow-up", "data-follow-up": String(f.id), onclick: () => {
          app.state.closing = { talk: k.id, followUp: f.id, note: "" };
          renderTalks();
          $(`#fu-note-${f.id}`)?.focus();
        } }, t("talk.close")));
      if (closing) {
        const note = h("input", { id: `fu-note-${f.id}`, value: app.state.closing.note, dir: "auto", required: true, oninput: (e) => (app.state.closing.note = e.target.value) });
        li.append(
          h("form", { class: "closure-form", onsubmit: (e) => { e.preventDefault(); closeFollowUp(k.id, f.id, app.state.closing.note); } },
            h("label", { for: note.id }, t("talk.close_note")), note,
            h("button", { type: "submit", id: `fu-close-${f.id}` }, t("talk.close_submit")),
            h("button", { type: "button", onclick: () => { app.state.closing = null; renderTalks(); } }, t("talkform.cancel"))),
        );
      }
      ul.append(li);
    }
    detail.append(ul);
  }
}

export function renderRelations() {
  const body = $("#relations tbody");
  body.textContent = "";
  for (const r of app.state.relations) {
    body.append(
      h(
        "tr",
        { "data-party": r.party, class: r.flagged ? "flagged" : null },
        h("th", { scope: "row" }, app.partyName(r.party)),
        h("td", {}, r.last_talk ?? t("relations.never")),
        h("td", {}, r.days_since_last_talk != null ? app.fmtNum(r.days_since_last_talk) : "–"),
        h("td", {}, app.fmtNum(r.talks_last_365_days)),
        h("td", {}, app.fmtNum(r.open_follow_ups)),
        h("td", { class: r.flagged ? "flagged" : null }, r.flagged ? t("relations.flagged", { days: r.flag_after_days }) : ""),
      ),
    );
  }
}
