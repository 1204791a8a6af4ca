//! Protected sites: registration within the deployment's rules, the conflicts
//! a new site finds with activities already notified, withdrawal.

use super::conflicts::Found;
use super::{key, Decision, Handle, State};
use crate::content::Volumes;
use crate::entry::{Entry, Logged, Side};
use crate::error::ServiceError;
use crate::hashing::new_id;
use crate::model::WriteOutcome;
use crate::model::{Actor, Role, SiteKind, HOST};
use crate::site::Site;
use crate::text::check_text;
use parley_engine::Volume;
use parley_wire::{format_timestamp, parse_timestamp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub(super) fn site_side(id: &str, s: &Site) -> Side {
    Side {
        kind: "site".into(),
        id: id.to_string(),
        version: 1,
        party: s.party.clone(),
    }
}

impl State {
    /// `Command::RegisterSite`: an officer registers a protected site of its party.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_register_site(
        &self,
        actor: &Actor,
        name: &str,
        site_kind: SiteKind,
        volumes: &Volumes,
        expires: &str,
        shared_with_parties: &[String],
        shared_with_lines: &[String],
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        let next = self.last_seq() + 1;
        if actor.role == Role::Observer || actor.party == HOST {
            return Err(ServiceError::Forbidden(
                "an officer of a party registers its sites".into(),
            ));
        }
        check_text("/name", name, 200)?;
        let t = parse_timestamp(expires).map_err(|m| ServiceError::invalid("/expires", m))?;
        if t.0 <= now_us {
            return Err(ServiceError::invalid(
                "/expires",
                "the expiry has passed; give a later one",
            ));
        }
        let rules = self.site_rules;
        if t.0 - now_us > rules.max_life_days * 86_400_000_000 {
            return Err(ServiceError::invalid(
                "/expires",
                format!(
                    "more than {} days from now, the longest a site stands here; give an earlier expiry and register the site again when it ends",
                    rules.max_life_days
                ),
            ));
        }
        for (i, v) in volumes.parsed().iter().enumerate() {
            let km2 = v.area_m2() / 1e6;
            if km2 > rules.max_area_km2 {
                return Err(ServiceError::invalid(
                    &format!("/volumes/{i}"),
                    format!(
                        "covers {km2:.0} km², more than the {} km² a protected site may cover here; draw it tighter or split it into the places that need protection",
                        rules.max_area_km2
                    ),
                ));
            }
        }
        for (i, p) in shared_with_parties.iter().enumerate() {
            if !self.parties.contains_key(p) {
                return Err(ServiceError::invalid(
                    &format!("/shared_with_parties/{i}"),
                    format!("no party {p}"),
                ));
            }
            let together = self
                .lines
                .values()
                .any(|l| l.parties.contains(p) && l.parties.contains(&actor.party));
            if !together {
                return Err(ServiceError::invalid(
                    &format!("/shared_with_parties/{i}"),
                    format!("you share no line with {p}; share a site only with parties you share a line with"),
                ));
            }
        }
        for (i, l) in shared_with_lines.iter().enumerate() {
            if !self.is_member(&actor.party, l) {
                return Err(ServiceError::invalid(
                    &format!("/shared_with_lines/{i}"),
                    format!("no line {l} of yours"),
                ));
            }
        }
        let site = new_id("site");
        let mut audience: BTreeSet<String> = shared_with_parties.iter().cloned().collect();
        audience.insert(actor.party.clone());
        for l in shared_with_lines {
            audience.extend(self.line_audience(l));
        }
        let entry = Entry::SiteRegistered {
            site: site.clone(),
            party: actor.party.clone(),
            name: name.to_string(),
            site_kind,
            volumes: volumes.raw().clone(),
            expires: format_timestamp(t),
            shared_with_parties: shared_with_parties.to_vec(),
            shared_with_lines: shared_with_lines.to_vec(),
        };
        let mut body = entry.public_json();
        body["id"] = json!(site);
        let mut entries = vec![(entry, audience.into_iter().collect())];
        // The activities it meets now: the conflicts a notice arriving
        // after the site would have found.
        let registered = Site {
            party: actor.party.clone(),
            volume_count: volumes.parsed().len(),
            expires_us: t.0,
            shared_with_parties: shared_with_parties.to_vec(),
            shared_with_lines: shared_with_lines.to_vec(),
            at: next,
            handle: 0,
            withdrawn: false,
        };
        let side = site_side(&site, &registered);
        let mut reported = Vec::new();
        for mut found in self.site_conflicts(&registered, volumes.parsed()) {
            let a = std::mem::replace(&mut found.side, side.clone());
            let conflict = new_id("c");
            found.log(conflict, a, &actor.party, &mut entries, &mut reported);
        }
        body["conflicts"] = json!(reported);
        Ok(Decision {
            entries,
            outcome: WriteOutcome::Created,
            body,
            volumes: None,
        })
    }

    /// `Command::WithdrawSite`: its owner withdraws a site.
    pub(super) fn decide_withdraw_site(
        &self,
        actor: &Actor,
        site: &str,
    ) -> Result<Decision, ServiceError> {
        if let Some(refused) = self.site_expired_long_ago(actor, site) {
            return Err(refused);
        }
        let s = self
            .sites
            .get(site)
            .filter(|s| actor.is_host_admin() || self.sees_site(&actor.party, s))
            .ok_or_else(|| ServiceError::NotFound(format!("site {site}")))?;
        if s.party != actor.party || actor.role == Role::Observer {
            return Err(ServiceError::Forbidden(format!(
                "only an officer of {} withdraws its site",
                s.party
            )));
        }
        if s.withdrawn {
            return Err(ServiceError::Conflict(format!(
                "site {site} was withdrawn already"
            )));
        }
        let entry = Entry::SiteWithdrawn {
            site: site.to_string(),
            party: actor.party.clone(),
            operator: actor.operator.clone(),
        };
        let audience = self
            .log
            .get(s.at)
            .map(|l| l.audience.clone())
            .ok_or_else(|| {
                ServiceError::Unavailable(format!(
                    "journal entry {} cannot be read back now; try again",
                    s.at
                ))
            })?;
        let mut entries = vec![(entry, audience)];
        entries.extend(self.resolutions(site, "withdrawn"));
        Ok(Decision {
            entries,
            outcome: WriteOutcome::Done,
            body: json!({"site": site, "state": "withdrawn"}),
            volumes: None,
        })
    }

    pub(super) fn evolve_site_registered(
        &mut self,
        logged: &Logged,
        prepared: Option<Vec<Volume>>,
    ) {
        let Entry::SiteRegistered {
            site,
            party,
            volumes,
            expires,
            shared_with_parties,
            shared_with_lines,
            ..
        } = &logged.entry
        else {
            return;
        };
        let seq = logged.seq;
        let vols = match prepared {
            Some(v) => v,
            None => self
                .volumes_of(&serde_json::from_str::<Vec<Value>>(volumes.get()).unwrap_or_default()),
        };
        let handle = self.handles.give(Handle::Site(site.clone()));
        let volume_count = vols.len();
        for (i, v) in vols.into_iter().enumerate() {
            self.index.insert(key(handle, i), v);
        }
        self.sites.insert(
            site.clone(),
            Site {
                party: party.clone(),
                volume_count,
                expires_us: parse_timestamp(expires).map(|t| t.0).unwrap_or(i64::MAX),
                shared_with_parties: shared_with_parties.clone(),
                shared_with_lines: shared_with_lines.clone(),
                at: seq,
                handle,
                withdrawn: false,
            },
        );
    }

    pub(super) fn evolve_site_withdrawn(&mut self, site: &str) {
        if let Some(s) = self.sites.get_mut(site) {
            s.withdrawn = true;
            for i in 0..s.volume_count {
                self.index.remove(&key(s.handle, i));
            }
        }
    }

    pub(super) fn sees_site(&self, party: &str, s: &Site) -> bool {
        s.seen_by(party, |p, l| self.is_member(p, l))
    }

    /// The parties of `line` told of a conflict there with site `s` (none: the
    /// line does not share the site).
    pub(super) fn site_audience(&self, line: &str, s: &Site) -> Vec<String> {
        let parties = self.lines.get(line).map_or(&[][..], |l| &l.parties[..]);
        s.audience_on(parties, |p, l| self.is_member(p, l))
    }

    /// What a new site's volumes conflict with: on every line that shares it,
    /// the activities of that line's other parties, under the line's minima;
    /// the same conflicts a notice arriving after the site would find.
    pub(super) fn site_conflicts(&self, site: &Site, volumes: &[Volume]) -> Vec<Found> {
        let mut found = Vec::new();
        for (line, l) in &self.lines {
            let audience = self.site_audience(line, site);
            if audience.is_empty() {
                continue;
            }
            let keep = |handle: u32| match self.handles.get(handle) {
                Some(Handle::Activity(id)) => {
                    let a = &self.activities[id];
                    a.line == *line && a.party != site.party
                }
                Some(Handle::Site(_)) | None => false,
            };
            for (handle, meetings) in self.meetings_by_handle(volumes, &l.rules.minima(), keep) {
                let Some(Handle::Activity(id)) = self.handles.get(handle) else {
                    continue;
                };
                let side = self.activity_side(id, &self.activities[id]);
                let audience = audience.clone();
                found.push(Found {
                    side,
                    meetings,
                    audience,
                });
            }
        }
        found
    }

    /// Protected sites `actor` may see.
    pub fn sites(&self, actor: &Actor) -> Vec<Value> {
        self.sites
            .iter()
            .filter(|(_, s)| actor.is_host_admin() || self.sees_site(&actor.party, s))
            .map(|(id, s)| {
                let mut v = self.logged_json(s.at);
                v["id"] = json!(id);
                v["volumes_count"] = json!(s.volume_count);
                v["withdrawn"] = json!(s.withdrawn);
                v
            })
            .collect()
    }
}
