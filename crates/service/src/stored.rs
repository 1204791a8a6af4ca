//! Entries read back from storage, fast: a notice (most of any journal) is
//! read with its content taken as the raw text stored, where the generic
//! path (an internally tagged enum) must build the content as a value and
//! write it again. Both give the same entry (a test says so); any other kind,
//! and a notice the fast path cannot read, take the generic path.

use crate::content::RawJson;
use crate::entry::{Entry, SignedBy};
use crate::model::NoticeState;
use serde::Deserialize;
use serde_json::value::RawValue;

/// A stored notice, its `kind` left out (checked before).
#[derive(Deserialize)]
struct StoredNotice {
    activity: String,
    line: String,
    party: String,
    operator: String,
    version: u64,
    state: NoticeState,
    content: Box<RawValue>,
    content_sha256: String,
    late: bool,
    #[serde(default)]
    signed: Option<SignedBy>,
}

/// The entry stored as JSON `text`.
pub(crate) fn entry_from_json(text: &str) -> serde_json::Result<Entry> {
    if text.starts_with(r#"{"kind":"notice","#) {
        if let Ok(n) = serde_json::from_str::<StoredNotice>(text) {
            return Ok(Entry::Notice {
                activity: n.activity,
                line: n.line,
                party: n.party,
                operator: n.operator,
                version: n.version,
                state: n.state,
                content: RawJson::from_raw(n.content),
                content_sha256: n.content_sha256,
                late: n.late,
                signed: n.signed,
            });
        }
    }
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_reads_back_as_the_generic_path_reads_it() {
        let content = r#"{"volumes":[{"volume":{"outline_circle":{"center":{"lat":35.123456789,"lng":38.1}}},"x":[1.5e-7,2,"é\"\\"]}],"activity":"act-1","category":"air"}"#;
        for signed in [
            None,
            Some(SignedBy {
                key: "k+1+AAAA".into(),
                note: "parley-request/v1\n\n— k sig\n".into(),
            }),
        ] {
            let entry = Entry::Notice {
                activity: "act-1".into(),
                line: "l".into(),
                party: "north".into(),
                operator: "op".into(),
                version: 2,
                state: NoticeState::Cancelled,
                content: RawJson::from_serialized(
                    serde_json::from_str::<serde_json::Value>(content)
                        .unwrap()
                        .to_string(),
                ),
                content_sha256: "ab".repeat(32),
                late: true,
                signed,
            };
            let text = serde_json::to_string(&entry).unwrap();
            assert!(text.starts_with(r#"{"kind":"notice","#), "{text}");
            let fast = entry_from_json(&text).unwrap();
            let generic: Entry = serde_json::from_str(&text).unwrap();
            assert_eq!(fast, generic);
            assert_eq!(fast, entry);
            // A fast read that fails falls back, and the generic path says why.
            let broken = text.replace(r#""late":true"#, r#""late":"yes""#);
            assert!(entry_from_json(&broken).is_err());
        }
    }
}
