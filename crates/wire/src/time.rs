//! RFC 3339 timestamps to and from the engine's microseconds.

use parley_engine::Timestamp;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Reads an RFC 3339 timestamp such as `2026-11-22T10:00:00Z`.
pub fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        format!("\"{s}\" is not an RFC 3339 timestamp ({e}); write it like 2026-11-22T10:00:00Z")
    })?;
    Ok(Timestamp((t.unix_timestamp_nanos() / 1_000) as i64))
}

/// Writes a timestamp in RFC 3339, UTC, with as many fraction digits as it needs.
pub fn format_timestamp(t: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(t.0 as i128 * 1_000)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("@{}us", t.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = parse_timestamp("2026-11-22T10:00:00.5+01:00").unwrap();
        assert_eq!(format_timestamp(t), "2026-11-22T09:00:00.5Z");
        assert!(parse_timestamp("2026-11-22 10:00")
            .unwrap_err()
            .contains("RFC 3339"));
    }
}
