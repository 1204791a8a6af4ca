use super::*;
use crate::content::NoticeContent;
use crate::model::{Category, NoticeState};
use serde_json::json;

/// RFC 8785, section 3.2.2: the example of the specification.
#[test]
fn canonical_json_is_rfc_8785() {
    let input = r#"{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    let v: Value = serde_json::from_str(input).unwrap();
    assert_eq!(
        canonical(&v),
        r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
    );
}

/// RFC 8785, section 3.2.3: members sorted by UTF-16 code units.
#[test]
fn canonical_json_sorts_by_utf16() {
    let input = r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"}"#;
    let v: Value = serde_json::from_str(input).unwrap();
    let names: Vec<String> = {
        let text = canonical(&v);
        let back: Value = serde_json::from_str(&text).unwrap();
        back.as_object()
            .unwrap()
            .values()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names,
        [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh"
        ]
    );
}

/// RFC 8785, appendix B: numbers as ECMAScript prints them.
#[test]
fn canonical_numbers_are_rfc_8785_appendix_b() {
    for (bits, text) in [
        (0x0000000000000000u64, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x41b3de4355555555, "333333333.3333333"),
    ] {
        let v = json!([f64::from_bits(bits)]);
        assert_eq!(canonical(&v), format!("[{text}]"), "{bits:#x}");
    }
}

/// The notice of `content.rs`'s test volume.
fn content() -> NoticeContent {
    NoticeContent::new(
        &crate::content::tests::volumes(),
        "act-1",
        "air",
        "blue",
        1,
        NoticeState::Notified,
        Category::Air,
        "Blue AOC",
    )
}

/// What the client declares before the server assigns an id is what the
/// verifier reads back from the recorded notice.
#[test]
fn a_clients_declared_notice_is_the_recorded_ones() {
    let recorded = content().text.to_value();
    // A fixed date is safe for ever here: nothing reads a clock.
    let given = json!([{"volume": {"outline_circle": {"center": {"lat": 35, "lng": 38},
        "radius": {"value": 1000, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
        "time_start": {"value": "2026-11-22T10:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2026-11-22T11:00:00Z", "format": "RFC3339"}}]);
    let volumes = canonical_volumes(given.as_array().unwrap()).unwrap();
    let declared = Claim::notice_content(&volumes, "air", "blue", "notified", "air", "Blue AOC");
    let client = Claim::notify("air", &declared);
    let entry = json!({"kind": "notice", "activity": "act-1", "line": "air", "version": 1,
        "state": "notified", "party": "blue"});
    let read = Claim::of_entry(&entry, Some(&recorded), |_| None).unwrap();
    assert_eq!(client, read);
    assert_eq!(
        client.statement("o", "op", 1).content_sha256,
        canonical_sha256(&declared)
    );
    // The same content with the activity's id: the same claim.
    assert_eq!(Claim::notify("air", &recorded), client);
    // Any other member changed: another hash.
    let mut other = declared.clone();
    other["point_of_contact"] = json!("Red AOC");
    assert_ne!(canonical_sha256(&other), canonical_sha256(&declared));
}

#[test]
fn a_cancellation_declares_the_cancelled_content() {
    let c = content();
    let cancelled = NoticeContent::restated(&c.text, 2, NoticeState::Cancelled);
    let entry = json!({"kind": "notice", "activity": "act-1", "line": "air", "version": 2,
        "state": "cancelled"});
    let read = Claim::of_entry(&entry, Some(&cancelled.text.to_value()), |_| None).unwrap();
    assert_eq!(read, Claim::cancel("air", "act-1", 2, &c.text.to_value()));
    assert_eq!(read.action, "cancel act-1 version 2");
}

#[test]
fn an_acknowledgment_names_its_activitys_line() {
    let entry = json!({"kind": "acknowledged", "activity": "act-1", "version": 2,
        "party": "red", "operator": "op-9", "content_sha256": "ab"});
    assert_eq!(Claim::of_entry(&entry, None, |_| None), None);
    let read = Claim::of_entry(&entry, None, |a| (a == "act-1").then(|| "air".into())).unwrap();
    assert_eq!(read, Claim::acknowledge("air", "act-1", 2, "red", "ab"));
    assert_eq!(read.scope, "line air");
}

#[test]
fn a_statement_reads_back_as_written_and_strictly() {
    let s = Claim::confirm("t-1", 2, "blue", "ab").statement("parley.local/record", "op-3", 17);
    let text = s.text();
    assert!(text.starts_with("parley-statement/v2\norigin parley.local/record\ntalk t-1\noperator op-3\ntime 17\naction confirm t-1 version 2\ncontent "));
    assert_eq!(Statement::parse(&text), Ok(s.clone()));
    assert_eq!(s.differs_from(&s), None);
    let mut other = s.clone();
    other.operator = "op-4".into();
    other.time_us = 18;
    assert_eq!(
        other.differs_from(&s),
        Some(("operator", "op-3".into(), "op-4".into()))
    );
    for bad in [
        text.trim_end().to_string(),
        text.replace("parley-statement/v2", "parley-request/v1"),
        text.replace("time 17", "time soon"),
        text.replace("talk t-1", "desk t-1"),
        text.replace("operator op-3\n", ""),
        format!("{text}extra\n"),
    ] {
        assert!(Statement::parse(&bad).is_err(), "{bad:?}");
    }
}
