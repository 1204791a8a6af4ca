// The shift-handover brief: what the next watch officer must know, on one
// printable page: open conflicts (where and when they meet), what this party
// owes and what is overdue, the last line checks, and the activities of the
// next hours. Printing the console prints this brief alone (console.css,
// @media print), whatever tab is open.

import { $, h } from "./dom.js";
import { t, tv } from "./i18n.js";
import { volumeBand, volumeTimes, volumesFacts } from "./format.js";
import { app } from "./app-context.js";
import { owedByUs } from "./actions.js";

/** Hours ahead the brief lists activities for. */
export const BRIEF_HOURS = 12;

function section(id, title, rows, empty) {
  return h("section", { class: "brief-section", id }, h("h3", {}, title), rows.length ? h("ul", {}, rows) : h("p", { class: "none" }, empty));
}

/** Renders the brief into #brief-content from what the console holds; `c` lends {state, fmtTime, partyName, conflictSides, owedText}. */
export function renderBrief(c) {
  const { state, fmtTime, partyName } = c;
  const now = Date.now();
  const until = now + BRIEF_HOURS * 3_600_000;
  const out = $("#brief-content");
  out.textContent = "";
  out.append(
    h("h2", { id: "brief-title" }, t("brief.title", { party: partyName(state.me.party) })),
    h("p", { class: "brief-meta" }, t("brief.prepared", { time: fmtTime(now), operator: state.me.operator })),
  );
  const open = state.conflicts.filter((x) => x.state === "open");
  out.append(
    section(
      "brief-conflicts",
      t("brief.conflicts", { n: open.length }),
      open.map((x) => {
        const m = x.meetings?.[0];
        const where = m?.area ? app.fmtPoint((m.area.south + m.area.north) / 2, (m.area.west + m.area.east) / 2) : "–";
        return h(
          "li",
          { "data-conflict": x.id },
          h("strong", {}, x.id),
          " ",
          t("conflict.between", c.conflictSides(x)),
          m ? ` — ${t("brief.meets", { start: fmtTime(m.time_start), end: fmtTime(m.time_end), lower: m.altitude_lower_m, upper: m.altitude_upper_m, where })}` : "",
        );
      }),
      t("brief.none"),
    ),
  );
  const owed = owedByUs(state);
  out.append(
    section(
      "brief-owed",
      t("brief.owed", { n: owed.length, overdue: owed.filter((d) => d.overdue).length }),
      owed.map((d) =>
        h(
          "li",
          { "data-deadline-id": d.id, class: d.overdue ? "overdue" : null },
          c.owedText(d),
          ` — ${t("action.due", { time: fmtTime(d.due) })}`,
          d.overdue ? ` — ${t("brief.overdue")}` : "",
          d.escalation?.length ? ` — ${t("action.escalated", { steps: d.escalation.map((s) => tv("step", s)).join(", ") })}` : "",
        ),
      ),
      t("brief.none"),
    ),
  );
  const checks = [];
  for (const l of state.lines) {
    const op = l.operation;
    const parties = op?.parties?.length ? op.parties : l.parties.map((p) => ({ party: p }));
    checks.push(
      h(
        "li",
        { "data-line": l.id },
        h("strong", {}, l.name),
        ` (${op ? tv("operation", op.state) : t("board.unchecked")}): `,
        parties.map((p) => t("brief.check", { party: partyName(p.party), time: p.last_check_at ? fmtTime(p.last_check_at) : t("board.unchecked") })).join("; "),
      ),
    );
  }
  out.append(section("brief-checks", t("brief.checks"), checks, t("brief.none")));
  const soon = state.activities
    .filter((a) => a.state !== "cancelled")
    .map((a) => ({ a, vols: (a.current?.content?.volumes || []).filter((v) => { const [s, e] = volumeTimes(v); return s < until && e > now; }) }))
    .filter((x) => x.vols.length)
    .sort((x, y) => Math.min(...x.vols.map((v) => volumeTimes(v)[0])) - Math.min(...y.vols.map((v) => volumeTimes(v)[0])));
  out.append(
    section(
      "brief-activities",
      t("brief.activities", { hours: BRIEF_HOURS }),
      soon.map(({ a, vols }) => {
        const f = volumesFacts(vols);
        const bands = vols.map(volumeBand);
        return h(
          "li",
          { "data-activity": a.id, class: a.party === state.me.party ? "own" : "other" },
          h("strong", {}, a.id),
          ` ${t("brief.activity", {
            party: partyName(a.party),
            line: a.line,
            start: fmtTime(f.start),
            end: fmtTime(f.end),
            lower: Math.min(...bands.map((b) => b[0])),
            upper: Math.max(...bands.map((b) => b[1])),
            where: app.fmtPoint(f.box.centre.lat, f.box.centre.lng),
          })}`,
        );
      }),
      t("brief.none"),
    ),
  );
}
