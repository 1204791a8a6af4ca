//! Protected sites: places a party asks others to keep clear of (a hospital, a
//! convoy's route), who sees one, and on which lines it is judged.
//!
//! The rule, the same whichever arrives first: a conflict is judged between two
//! things one line shares. A site is shared with a line when it is shared with
//! that line or with one of its parties (its owner counts); an activity on the
//! line and such a site are judged, and the conflict is told to the parties of
//! the line who see the site. So a site's owner is told only on lines it is a
//! member of, and a party that does not see the site is never told of it.

/// A deployment's limits on protected sites: a site is a standing claim on
/// others' attention, so it may not be larger or live longer than these.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SiteRules {
    /// Longest time from registration to expiry, days.
    pub max_life_days: i64,
    /// Largest area of one of its volumes, square kilometres.
    pub max_area_km2: f64,
}

/// Default [`SiteRules::max_life_days`]: a year.
pub const SITE_MAX_LIFE_DAYS: i64 = 365;
/// Default [`SiteRules::max_area_km2`]: 10,000 km², a square 100 km a side.
pub const SITE_MAX_AREA_KM2: f64 = 10_000.0;

impl Default for SiteRules {
    fn default() -> Self {
        SiteRules {
            max_life_days: SITE_MAX_LIFE_DAYS,
            max_area_km2: SITE_MAX_AREA_KM2,
        }
    }
}

/// A registered site, as the state keeps it (its volumes live in the index).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Site {
    pub(crate) party: String,
    pub(crate) volume_count: usize,
    pub(crate) expires_us: i64,
    pub(crate) shared_with_parties: Vec<String>,
    pub(crate) shared_with_lines: Vec<String>,
    /// The journal position of its registration.
    pub(crate) at: u64,
    /// Its volumes' handle in the index.
    pub(crate) handle: u32,
    /// Withdrawn by its owner: protects nothing any more.
    pub(crate) withdrawn: bool,
}

impl Site {
    /// Whether `party` sees the site: its owner, a party it is shared with, or a
    /// member of a line it is shared with (`is_member(party, line)`).
    pub(crate) fn seen_by(&self, party: &str, is_member: impl Fn(&str, &str) -> bool) -> bool {
        self.party == party
            || self.shared_with_parties.iter().any(|p| p == party)
            || self.shared_with_lines.iter().any(|l| is_member(party, l))
    }

    /// Whether it protects anything at `now_us`.
    pub(crate) fn in_force(&self, now_us: i64) -> bool {
        !self.withdrawn && self.expires_us > now_us
    }

    /// The parties of a line (`line_parties`) told of a conflict on that line
    /// with this site: those who see it. Empty when the line does not share the
    /// site, so nothing is judged there.
    pub(crate) fn audience_on(
        &self,
        line_parties: &[String],
        is_member: impl Fn(&str, &str) -> bool,
    ) -> Vec<String> {
        line_parties
            .iter()
            .filter(|p| self.seen_by(p, &is_member))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(party: &str, parties: &[&str], lines: &[&str]) -> Site {
        Site {
            party: party.into(),
            volume_count: 1,
            expires_us: 10,
            shared_with_parties: parties.iter().map(|p| p.to_string()).collect(),
            shared_with_lines: lines.iter().map(|l| l.to_string()).collect(),
            at: 0,
            handle: 0,
            withdrawn: false,
        }
    }

    #[test]
    fn a_line_is_told_of_a_site_by_those_of_its_parties_who_see_it() {
        // Lines: br (blue, red), bg (blue, green).
        let member =
            |p: &str, l: &str| matches!((p, l), ("blue" | "red", "br") | ("blue" | "green", "bg"));
        let bg = ["blue".to_string(), "green".to_string()];
        // Red's site shared with blue and green: told on bg to both, not to red.
        let s = site("red", &["blue", "green"], &[]);
        assert_eq!(s.audience_on(&bg, member), bg.to_vec());
        // Shared with blue alone: only blue is told; green never learns of it.
        let s = site("red", &["blue"], &[]);
        assert_eq!(s.audience_on(&bg, member), vec!["blue".to_string()]);
        // Shared with line br: blue sees it there, so bg is told through blue.
        let s = site("red", &[], &["br"]);
        assert_eq!(s.audience_on(&bg, member), vec!["blue".to_string()]);
        // A relief office's own site on a line it is on.
        let s = site("green", &[], &[]);
        assert_eq!(s.audience_on(&bg, member), vec!["green".to_string()]);
        // Shared with nobody on the line: not judged there.
        let s = site("red", &[], &[]);
        assert!(s.audience_on(&bg, member).is_empty());
        let mut s = site("red", &["blue"], &[]);
        assert!(s.in_force(5));
        s.withdrawn = true;
        assert!(!s.in_force(5));
    }
}
