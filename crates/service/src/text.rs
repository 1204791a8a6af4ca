//! Checks of the text people give (ids, names, notes) and the text the
//! service writes back (times, durations). Depends only on the error type.

use crate::error::ServiceError;
use parley_wire::format_timestamp;

/// Identifiers chosen by people: letters, digits, `-`, `_`, `.`; 1 to 64 bytes.
pub(crate) fn check_id(pointer: &str, id: &str) -> Result<(), ServiceError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            pointer,
            "use 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// Free text at `pointer`: not blank, at most `max` bytes.
pub(crate) fn check_text(pointer: &str, text: &str, max: usize) -> Result<(), ServiceError> {
    if text.trim().is_empty() {
        return Err(ServiceError::invalid(
            pointer,
            format!("is empty; give 1 to {max} bytes of text"),
        ));
    }
    if text.len() > max {
        return Err(ServiceError::invalid(
            pointer,
            format!("is {} bytes; shorten it to at most {max}", text.len()),
        ));
    }
    Ok(())
}

/// A duration in seconds as minutes for a reader ("5 min", "90 s").
pub(crate) fn minutes(s: u64) -> String {
    if s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// RFC 3339 text of a time in µs.
pub(crate) fn time_text(us: i64) -> String {
    format_timestamp(parley_engine::Timestamp(us))
}
