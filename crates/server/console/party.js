// The operator's own party as its record shows it: its operators, who made
// each (the host or the party, which operator; the host's recovery path
// flagged), and whether the host may add operators to it.

import { $, h } from "./dom.js";
import { t, tv } from "./i18n.js";
import { app } from "./app-context.js";

/** Loads the party's operators and settings into the state (not for the host). */
export async function loadParty(api) {
  const party = app.state.me?.party;
  if (!party || party === "host") {
    app.state.operators = null;
    return;
  }
  const [ops, parties] = await Promise.all([api.get(`/v1/parties/${encodeURIComponent(party)}/operators`), api.get("/v1/parties")]);
  app.state.operators = ops.operators;
  app.state.party = parties.parties.find((p) => p.id === party) ?? null;
}

/** Who made something, in words: "the host (op-…)" or "Blue (op-…)". */
export function madeBy(by) {
  if (!by) return t("by.unknown");
  if (by.party === "host") return t("by.host", { operator: by.operator });
  return t("by.party", { party: app.partyName(by.party), operator: by.operator });
}

export function renderParty() {
  const section = $("#party-operators");
  const ops = app.state.operators;
  section.hidden = !ops;
  if (!ops) return;
  const p = app.state.party;
  $("#party-host-may-add").textContent = p && p.host_may_add_operators === false ? t("party.host_locked") : t("party.host_open");
  const body = $("#party-operators tbody");
  body.textContent = "";
  for (const o of ops) {
    const by = h("td", { class: o.recovery ? "made-by recovery" : "made-by" }, madeBy(o.made_by));
    if (o.recovery) by.append(" ", h("strong", { class: "badge recovery" }, t("party.recovery")));
    body.append(
      h(
        "tr",
        { "data-operator": o.id },
        h("th", { scope: "row" }, o.name),
        h("td", {}, o.id),
        h("td", {}, tv("role", o.role)),
        h("td", {}, o.revoked ? t("party.revoked") : t("party.active")),
        by,
        h("td", {}, app.fmtTime(o.created_at)),
      ),
    );
  }
}
