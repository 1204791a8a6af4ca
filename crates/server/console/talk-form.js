// The form for the record of a talk (a new talk, or a party's own version of
// one), and the comparison of versions. Every field carries the JSON pointer of
// the part of the record it edits (`data-pointer`), so the server's validation
// errors land on the field they name.

import { h } from "./dom.js";
import { t, tv } from "./i18n.js";
import { inputUtc, parseUtc, rfc3339 } from "./format.js";

const OUTCOMES = ["agreed", "positions_differ", "to_continue"];

/** An id for the field at `pointer` ("/agenda/0/item" -> "tf-agenda-0-item"). */
function fieldId(pointer) {
  return "tf" + pointer.replace(/[^A-Za-z0-9]/g, "-");
}

/** "2026-11-20T09:30:00Z" -> "2026-11-20 09:30" for a time input (24-hour UTC). */
function toTimeInput(iso) {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? inputUtc(ms) : iso || "";
}

/** The reverse: 24-hour UTC or a DTG to RFC 3339; anything else as typed (the server names it). */
function fromTimeInput(value) {
  const ms = parseUtc(value);
  return ms === null ? value.trim() : rfc3339(ms);
}

function emptyRecord(me) {
  return {
    parties: [me],
    date: new Date().toISOString().slice(0, 10),
    level: "",
    participants: [{ party: me, role: "" }],
    venue: "",
    line: "",
    agenda: [{ item: "", outcome: "agreed", positions: {} }],
    follow_ups: [],
  };
}

/**
 * The form. `me` is the operator's party (always a party to the talk), `others`
 * the parties it may name, `lines` its lines; `record` prefills it (a version to
 * answer), else it starts empty. `onSubmit(record)` sends the record and throws
 * an ApiError when the server refuses it; `onCancel()` closes the form. Once the
 * form is in the page, `focusFirstEmpty(form)` puts the cursor where typing starts.
 */
export function talkForm({ me, others, lines, record, title, submitLabel, onSubmit, onCancel }) {
  const model = structuredClone(record ?? emptyRecord(me));
  model.venue ??= "";
  model.line ??= "";
  for (const a of model.agenda) a.positions ??= {};
  const form = h("form", { class: "talk-form", novalidate: true });
  const summary = h("div", { class: "error", role: "alert", id: "talk-form-errors", tabindex: "-1" });

  const field = (pointer, label, control) => {
    control.id = fieldId(pointer);
    control.dataset.pointer = pointer;
    return [h("label", { for: control.id }, label), control];
  };
  const text = (pointer, label, get, set, attrs = {}) =>
    field(pointer, label, h("input", { value: get() ?? "", oninput: (e) => set(e.target.value), ...attrs }));
  const select = (pointer, label, options, get, set) => {
    const s = h("select", { onchange: (e) => set(e.target.value) });
    for (const [value, name] of options) s.append(h("option", { value }, name));
    s.value = get() ?? "";
    return field(pointer, label, s);
  };
  const partyOptions = () => model.parties.map((p) => [p, p]);
  const remove = (list, i) =>
    h("button", { type: "button", class: "remove", onclick: () => { list.splice(i, 1); render(); } }, t("talkform.remove"));

  function render(focusPointer) {
    form.textContent = "";
    form.append(h("h3", {}, title), summary);

    const parties = h("fieldset", { "data-pointer": "/parties", id: fieldId("/parties") }, h("legend", {}, t("talkform.parties")));
    for (const p of [me, ...others]) {
      const box = h("input", {
        type: "checkbox", value: p, checked: model.parties.includes(p), disabled: p === me, class: "talk-party",
        onchange: (e) => {
          model.parties = e.target.checked ? [...model.parties, p] : model.parties.filter((x) => x !== p);
          render();
        },
      });
      parties.append(h("label", { class: "check" }, box, ` ${p}`));
    }
    form.append(parties);

    form.append(
      h("div", { class: "grid" },
        field("/date", t("talkform.date"), h("input", { type: "date", value: model.date, oninput: (e) => (model.date = e.target.value) })),
        text("/level", t("talkform.level"), () => model.level, (v) => (model.level = v)),
        h("p", { class: "hint wide", id: "tf-place-hint" }, t("talkform.place_hint")),
        text("/venue", t("talkform.venue"), () => model.venue, (v) => (model.venue = v)),
        select("/line", t("talkform.line"), [["", t("talkform.no_line")], ...lines.map((l) => [l.id, l.name])], () => model.line, (v) => (model.line = v)),
      ),
    );

    const people = h("fieldset", { "data-pointer": "/participants", id: fieldId("/participants") }, h("legend", {}, t("talkform.participants")));
    model.participants.forEach((p, i) => {
      people.append(
        h("div", { class: "grid row" },
          select(`/participants/${i}/party`, t("talkform.party"), partyOptions(), () => p.party, (v) => (p.party = v)),
          text(`/participants/${i}/role`, t("talkform.role"), () => p.role, (v) => (p.role = v)),
          remove(model.participants, i),
        ),
      );
    });
    people.append(h("button", { type: "button", id: "tf-add-participant", onclick: () => {
      model.participants.push({ party: me, role: "" });
      render(`/participants/${model.participants.length - 1}/role`);
    } }, t("talkform.add_participant")));
    form.append(people);

    const agenda = h("fieldset", { "data-pointer": "/agenda", id: fieldId("/agenda") }, h("legend", {}, t("talkform.agenda")));
    model.agenda.forEach((a, i) => {
      const item = h("fieldset", { class: "agenda-item", "data-pointer": `/agenda/${i}`, id: fieldId(`/agenda/${i}`) },
        h("legend", {}, t("talkform.item_n", { n: i + 1 })));
      const grid = h("div", { class: "grid" },
        text(`/agenda/${i}/item`, t("talkform.item"), () => a.item, (v) => (a.item = v)),
        select(`/agenda/${i}/outcome`, t("talkform.outcome"), OUTCOMES.map((o) => [o, tv("outcome", o)]), () => a.outcome, (v) => (a.outcome = v)),
      );
      for (const p of model.parties) {
        grid.append(...field(`/agenda/${i}/positions/${p}`, t("talkform.position", { party: p }),
          h("textarea", { rows: "2", dir: "auto", oninput: (e) => (a.positions[p] = e.target.value) }, a.positions[p] ?? "")));
      }
      item.append(grid, remove(model.agenda, i));
      agenda.append(item);
    });
    agenda.append(h("button", { type: "button", id: "tf-add-item", onclick: () => {
      model.agenda.push({ item: "", outcome: "agreed", positions: {} });
      render(`/agenda/${model.agenda.length - 1}/item`);
    } }, t("talkform.add_item")));
    form.append(agenda);

    const follow = h("fieldset", { "data-pointer": "/follow_ups", id: fieldId("/follow_ups") }, h("legend", {}, t("talkform.follow_ups")));
    model.follow_ups.forEach((f, i) => {
      follow.append(
        h("div", { class: "grid row" },
          text(`/follow_ups/${i}/action`, t("talkform.action"), () => f.action, (v) => (f.action = v)),
          select(`/follow_ups/${i}/owner`, t("talkform.owner"), partyOptions(), () => f.owner, (v) => (f.owner = v)),
          field(`/follow_ups/${i}/due`, t("talkform.due"),
            h("input", { spellcheck: "false", autocomplete: "off", title: t("time.hint"), placeholder: "2026-12-01 13:30", value: toTimeInput(f.due), oninput: (e) => (f.due = fromTimeInput(e.target.value)) })),
          remove(model.follow_ups, i),
        ),
      );
    });
    follow.append(h("button", { type: "button", id: "tf-add-follow-up", onclick: () => {
      model.follow_ups.push({ action: "", owner: me, due: "" });
      render(`/follow_ups/${model.follow_ups.length - 1}/action`);
    } }, t("talkform.add_follow_up")));
    form.append(follow);

    form.append(h("div", { class: "buttons" },
      h("button", { type: "submit", id: "tf-submit" }, submitLabel),
      h("button", { type: "button", id: "tf-cancel", onclick: onCancel }, t("talkform.cancel"))));
    if (focusPointer) form.querySelector(`#${CSS.escape(fieldId(focusPointer))}`)?.focus();
  }

  /** The record as the API takes it: empty optional parts left out. */
  function recordOf() {
    const r = {
      parties: model.parties,
      date: model.date,
      level: model.level,
      participants: model.participants.filter((p) => model.parties.includes(p.party)),
      agenda: model.agenda.map((a) => ({
        item: a.item,
        outcome: a.outcome,
        positions: Object.fromEntries(model.parties.filter((p) => (a.positions[p] ?? "").trim()).map((p) => [p, a.positions[p]])),
      })),
      follow_ups: model.follow_ups,
    };
    if (model.venue.trim()) r.venue = model.venue;
    if (model.line) r.line = model.line;
    return r;
  }

  /** Marks the fields the server named (the nearest enclosing part when there is no field of its own). */
  function showProblem(e) {
    const errors = e.problem?.errors?.length ? e.problem.errors : [{ pointer: "", detail: e.message }];
    summary.textContent = "";
    summary.append(h("p", {}, t("talkform.refused")));
    const list = h("ul");
    let first = null;
    for (const { pointer = "", detail = "" } of errors) {
      let target = null;
      for (let p = pointer; p && !target; p = p.slice(0, p.lastIndexOf("/"))) {
        target = form.querySelector(`[data-pointer="${CSS.escape(p)}"]`);
      }
      list.append(h("li", {}, pointer ? `${partName(pointer)}: ${detail}` : detail));
      if (target) {
        target.setAttribute("aria-invalid", "true");
        const note = h("span", { class: "error field-error", id: `${target.id}-error` }, detail);
        target.setAttribute("aria-describedby", note.id);
        target.after(note);
        first ??= target;
      }
    }
    summary.append(list);
    (first ?? summary).focus?.();
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("#tf-submit");
    button.disabled = true;
    try {
      await onSubmit(recordOf());
    } catch (e) {
      render();
      showProblem(e);
    } finally {
      button.disabled = false;
    }
  });
  render();
  return form;
}

/** Focuses the form's first empty text field (else its first field). */
export function focusFirstEmpty(form) {
  const fields = [...form.querySelectorAll("input:not([type=checkbox]), textarea")];
  (fields.find((f) => !f.value) ?? fields[0])?.focus();
}

const FIELD_LABELS = {
  date: "talkform.date", level: "talkform.level", venue: "talkform.venue", line: "talkform.line",
  parties: "talkform.parties", party: "talkform.party", role: "talkform.role", item: "talkform.item",
  outcome: "talkform.outcome", action: "talkform.action", owner: "talkform.owner", due: "talkform.due",
};

/** A part of a record named for a reader ("/agenda/0/outcome" -> "Item 1: Outcome"). */
export function partName(pointer) {
  const [part, n, field, party] = pointer.split("/").slice(1);
  const label = (k) => (FIELD_LABELS[k] ? t(FIELD_LABELS[k]) : k);
  const nth = Number(n) + 1;
  switch (part) {
    case "agenda":
      return `${t("talkform.item_n", { n: nth })}: ${field === "positions" ? t("talkform.position", { party }) : label(field)}`;
    case "participants":
      return `${t("talkform.participants")} ${nth}: ${label(field)}`;
    case "follow_ups":
      return `${t("talkform.follow_ups")} ${nth}: ${label(field)}`;
    default:
      return label(part);
  }
}

/** Every scalar of `value` by JSON pointer. */
function flatten(value, pointer = "", out = new Map()) {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flatten(v, `${pointer}/${k}`, out);
  } else {
    out.set(pointer, value);
  }
  return out;
}

/**
 * Where versions of a record differ: `[{pointer, values}]`, one value per
 * version (undefined where a version lacks that part), in pointer order.
 */
export function differences(records) {
  const flat = records.map((r) => flatten(r));
  const pointers = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return pointers
    .map((pointer) => ({ pointer, values: flat.map((f) => f.get(pointer)) }))
    .filter((d) => d.values.some((v) => v !== d.values[0]));
}
