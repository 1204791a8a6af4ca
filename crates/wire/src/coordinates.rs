//! Positions as officers write them, turned into the decimal degrees the
//! engine knows: at the edge, so nothing past `wire` sees anything else.
//!
//! A latitude or longitude may be a JSON number (decimal degrees) or a string:
//!
//! | form | latitude | longitude |
//! |---|---|---|
//! | decimal degrees | `"35.5"`, `"-35.5"`, `"35.5N"`, `"N35.5"` | `"38.5E"` |
//! | degrees, minutes, seconds | `"35°30'15\"N"`, `"35 30 15 N"` | `"038°30'15\"E"` |
//! | degrees and decimal minutes | `"35°30.25'N"` | `"038°30.25'E"` |
//! | compact (ICAO) | `"3530N"`, `"353015N"` | `"03830E"`, `"0383015E"` |
//!
//! A whole position may be one string, latitude first (`"35°30'15\"N
//! 038°30'E"`, `"3530N03830E"`), an MGRS reference (`"37SBA1234567890"`) or a
//! UTM/UPS coordinate (zone, hemisphere, easting, northing). MGRS and UTM go
//! through `geoconvert`, a port of GeographicLib.
//!
//! An MGRS reference names a square cell, not a point: its centre is the
//! position used, and the distance from the centre to the cell's farthest
//! corner (its half-diagonal on the ground, [`Position::spread_m`]) is what
//! the volume must grow by to cover the whole cell.

use geoconvert::{Mgrs, UtmUps};
use parley_engine::{distance_m, LatLng};

/// One axis of a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// North–south, −90 to 90.
    Latitude,
    /// East–west, −180 to 180.
    Longitude,
}

impl Axis {
    fn hemispheres(self) -> (char, char) {
        match self {
            Axis::Latitude => ('N', 'S'),
            Axis::Longitude => ('E', 'W'),
        }
    }

    fn limit(self) -> f64 {
        match self {
            Axis::Latitude => 90.0,
            Axis::Longitude => 180.0,
        }
    }

    /// Digits of whole degrees in the compact form (`DD` or `DDD`).
    fn degree_digits(self) -> usize {
        match self {
            Axis::Latitude => 2,
            Axis::Longitude => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Axis::Latitude => "latitude",
            Axis::Longitude => "longitude",
        }
    }
}

/// What an MGRS reference is, for error messages.
pub const MGRS_FORM: &str = "give a zone and latitude band, the 100 km square's two letters and an even number of digits, easting then northing (37SBA1234567890, or 37S BA 12345 67890)";

/// What an angle may be written as, for error messages.
pub const ANGLE_FORMS: &str = "give decimal degrees (35.5), degrees, minutes and seconds (35°30'15\"N), degrees and decimal minutes (35°30.25'N) or compact (3530N, 03830E)";

/// A position read from text, with how far the point it names may be from
/// the place meant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// The point used.
    pub point: LatLng,
    /// Metres the place meant may lie from `point` (an MGRS cell's
    /// half-diagonal; 0 for a point).
    pub spread_m: f64,
}

/// Reads one angle of `axis` written as text (see the module's table).
pub fn parse_angle(text: &str, axis: Axis) -> Result<f64, String> {
    let upper = text.trim().to_ascii_uppercase();
    let (pos, neg) = axis.hemispheres();
    let mut body = upper.as_str();
    let mut sign = 1.0;
    let mut hemisphere = false;
    for (letter, s) in [(pos, 1.0), (neg, -1.0)] {
        if let Some(rest) = body
            .strip_suffix(letter)
            .or_else(|| body.strip_prefix(letter))
        {
            body = rest.trim();
            sign = s;
            hemisphere = true;
            break;
        }
    }
    let (other_pos, other_neg) = match axis {
        Axis::Latitude => Axis::Longitude.hemispheres(),
        Axis::Longitude => Axis::Latitude.hemispheres(),
    };
    let ends_in = |c: char| upper.starts_with(c) || upper.ends_with(c);
    let other = match axis {
        Axis::Latitude => Axis::Longitude,
        Axis::Longitude => Axis::Latitude,
    };
    if !hemisphere && (ends_in(other_pos) || ends_in(other_neg)) && parse_angle(text, other).is_ok()
    {
        return Err(format!(
            "\"{text}\" is a {}; a {} ends in {pos} or {neg} (are latitude and longitude swapped?)",
            other.name(),
            axis.name()
        ));
    }
    if !hemisphere {
        if let Some(rest) = body.strip_prefix('-') {
            body = rest.trim();
            sign = -1.0;
        } else if let Some(rest) = body.strip_prefix('+') {
            body = rest.trim();
        }
    }
    let parts: Vec<&str> = body
        .split(|c: char| "°'\"′″ :DºMS".contains(c) || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    let unreadable = || format!("\"{text}\" is not an angle; {ANGLE_FORMS}");
    if parts.is_empty() || parts.iter().any(|p| !is_number(p)) {
        return Err(unreadable());
    }
    let compact = parts.len() == 1 && hemisphere && is_compact(parts[0], axis);
    let (degrees, minutes, seconds) = if compact {
        split_compact(parts[0], axis)
    } else {
        match parts[..] {
            [d] => (d, None, None),
            [d, m] => (d, Some(m), None),
            [d, m, s] => (d, Some(m), Some(s)),
            _ => return Err(unreadable()),
        }
    };
    // Only the last unit given may have a fraction.
    let whole = |p: &str| !p.contains('.');
    if (minutes.is_some() && !whole(degrees)) || (seconds.is_some() && !minutes.is_some_and(whole))
    {
        return Err(format!(
            "\"{text}\": only the last unit may have decimals (35°30.25' or 35°30'15.5\", not 35.5°30'); {ANGLE_FORMS}"
        ));
    }
    let value = |p: &str| p.parse::<f64>().map_err(|_| unreadable());
    let d = value(degrees)?;
    let m = minutes.map(value).transpose()?.unwrap_or(0.0);
    let s = seconds.map(value).transpose()?.unwrap_or(0.0);
    if m >= 60.0 || s >= 60.0 {
        return Err(format!(
            "\"{text}\": minutes and seconds are below 60; {ANGLE_FORMS}"
        ));
    }
    let angle = sign * (d + m / 60.0 + s / 3600.0);
    if angle.abs() > axis.limit() {
        return Err(format!(
            "\"{text}\" is beyond ±{}° of {}; give {} from -{limit} to {limit} (or with {pos} or {neg})",
            axis.limit(),
            axis.name(),
            axis.name(),
            limit = axis.limit(),
        ));
    }
    Ok(angle)
}

fn is_number(p: &str) -> bool {
    !p.is_empty()
        && p.chars().all(|c| c.is_ascii_digit() || c == '.')
        && p.chars().filter(|&c| c == '.').count() <= 1
        && p.chars().any(|c| c.is_ascii_digit())
}

/// `3530`, `353015`, `03830`, `0383015` (with a fraction on the last unit):
/// whole degrees in their fixed width, then minutes, then seconds.
fn is_compact(p: &str, axis: Axis) -> bool {
    let digits = p.split('.').next().unwrap_or_default().len();
    let d = axis.degree_digits();
    digits == d + 2 || digits == d + 4
}

fn split_compact(p: &str, axis: Axis) -> (&str, Option<&str>, Option<&str>) {
    let d = axis.degree_digits();
    let whole = p.split('.').next().unwrap_or_default().len();
    let (degrees, rest) = p.split_at(d);
    if whole == d + 2 {
        (degrees, Some(rest), None)
    } else {
        let (minutes, seconds) = rest.split_at(2);
        (degrees, Some(minutes), Some(seconds))
    }
}

/// Reads a whole position from text: latitude then longitude with their
/// hemispheres (`35°30'15"N 038°30'E`, `3530N03830E`, `N35.5 E38.5`), an
/// MGRS reference, or a UTM/UPS coordinate as [`format_utm`] writes it
/// (`37N 455000 3928000`: zone and hemisphere, easting, northing in metres).
pub fn parse_position(text: &str) -> Result<Position, String> {
    let upper = text.trim().to_ascii_uppercase();
    if looks_like_mgrs(&upper) {
        return parse_mgrs(text);
    }
    if let Some((zone, north, easting, northing)) = utm_parts(&upper) {
        let point = parse_utm(zone, north, easting, northing)
            .map_err(|e| format!("UTM \"{text}\": {e}"))?;
        return Ok(Position {
            point,
            spread_m: 0.0,
        });
    }
    let Some(split) = lat_end(&upper) else {
        return parse_mgrs(text).map_err(|mgrs| {
            format!(
                "\"{text}\" is neither a latitude and longitude with their hemispheres (35°30'15\"N 038°30'E, 3530N03830E), a UTM coordinate (37N 455000 3928000) nor an MGRS reference ({mgrs})"
            )
        });
    };
    let (lat, lng) = upper.split_at(split);
    let point = LatLng::new(
        parse_angle(lat, Axis::Latitude)?,
        parse_angle(lng, Axis::Longitude)?,
    );
    Ok(Position {
        point,
        spread_m: 0.0,
    })
}

/// `37N 455000 3928000` (also `37 N 455000E 3928000N`): a zone of 0 (UPS)
/// to 60 with its hemisphere, then easting and northing in metres; `None`
/// when the text is not of that shape (a latitude such as `37N` is followed
/// by a longitude with its E or W, never by two bare numbers).
fn utm_parts(upper: &str) -> Option<(i32, bool, f64, f64)> {
    let words: Vec<&str> = upper.split_whitespace().collect();
    let (zone, hemisphere, rest) = match words[..] {
        [zh, e, n] => {
            // The hemisphere is the last character, whatever the text's bytes.
            let h = zh.char_indices().last()?.0;
            (&zh[..h], &zh[h..], [e, n])
        }
        [z, h, e, n] => (z, h, [e, n]),
        _ => return None,
    };
    let zone: i32 = zone.parse().ok().filter(|z| (0..=60).contains(z))?;
    let north = match hemisphere {
        "N" => true,
        "S" => false,
        _ => return None,
    };
    let metres = |w: &str, suffix: char| -> Option<f64> {
        let w = w.strip_suffix(suffix).unwrap_or(w);
        w.chars()
            .all(|c| c.is_ascii_digit() || c == '.')
            .then(|| w.parse().ok())?
    };
    Some((zone, north, metres(rest[0], 'E')?, metres(rest[1], 'N')?))
}

/// The shape of an MGRS reference: a UTM zone (1–2 digits) and band, or a
/// UPS band (A, B, Y, Z), then two letters of the 100 km square, then an
/// even number of digits.
fn looks_like_mgrs(upper: &str) -> bool {
    let compact: String = upper.split_whitespace().collect();
    let zone = compact.chars().take_while(char::is_ascii_digit).count();
    let rest = &compact[zone..];
    let letters = rest.chars().take_while(char::is_ascii_alphabetic).count();
    let digits = &rest[letters..];
    zone <= 2
        && letters == 3
        && (zone > 0 || matches!(rest.chars().next(), Some('A' | 'B' | 'Y' | 'Z')))
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.len().is_multiple_of(2)
}

/// Where the latitude of a position string ends: after its trailing N or S,
/// or before the E or W that begins the longitude when the hemispheres lead.
/// `None` when the text has no N or S before an E or W (not such a position).
fn lat_end(upper: &str) -> Option<usize> {
    let first_letter = upper.find(|c: char| c.is_ascii_alphabetic())?;
    let letter = upper[first_letter..].chars().next()?;
    let leading = upper[..first_letter].trim().is_empty();
    match (letter, leading) {
        ('N' | 'S', true) => upper.find(['E', 'W']),
        ('N' | 'S', false) => {
            // Anything after must be a longitude ending or starting in E/W.
            let rest = &upper[first_letter + 1..];
            rest.contains(['E', 'W']).then_some(first_letter + 1)
        }
        _ => None,
    }
}

/// Reads an MGRS reference (spaces allowed between its parts): the centre of
/// its cell, and the cell's half-diagonal on the ground.
pub fn parse_mgrs(text: &str) -> Result<Position, String> {
    let compact: String = text.split_whitespace().collect();
    let mgrs =
        Mgrs::parse_str(&compact).map_err(|e| format!("MGRS \"{text}\": {e}; {MGRS_FORM}"))?;
    let centre = mgrs.to_utmups();
    let point = to_point(&centre);
    // Precision p gives cells 10^(5-p) m a side, in grid metres.
    let half = 10f64.powi(5 - mgrs.precision()) / 2.0;
    let mut spread_m: f64 = 0.0;
    for (de, dn) in [(-half, -half), (-half, half), (half, -half), (half, half)] {
        let corner = UtmUps::create(
            centre.zone(),
            centre.is_north(),
            centre.easting() + de,
            centre.northing() + dn,
        )
        .map_err(|e| format!("MGRS \"{text}\": its cell leaves the grid ({e})"))?;
        spread_m = spread_m.max(distance_m(point, to_point(&corner)));
    }
    Ok(Position { point, spread_m })
}

/// Reads a UTM (zones 1–60) or UPS (zone 0) coordinate.
pub fn parse_utm(zone: i32, north: bool, easting: f64, northing: f64) -> Result<LatLng, String> {
    let utm = UtmUps::create(zone, north, easting, northing).map_err(|e| {
        format!(
            "zone {zone} {}, easting {easting}, northing {northing}: {e}; give an easting and northing in metres within the zone (UTM eastings are about 100000 to 900000; northings 0 to 9330000 north, 1100000 to 10000000 south)",
            if north { "north" } else { "south" }
        )
    })?;
    Ok(to_point(&utm))
}

fn to_point(utm: &UtmUps) -> LatLng {
    let ll = utm.to_latlon();
    LatLng::new(ll.latitude(), ll.longitude())
}

/// `angle` of `axis` as degrees, minutes and whole seconds (`35°30'15"N`,
/// about 30 m): how a read-back shows a position to an officer who writes DMS.
pub fn format_dms(angle: f64, axis: Axis) -> String {
    let (pos, neg) = axis.hemispheres();
    let s = (angle.abs() * 3600.0).round() as u64;
    let width = axis.degree_digits();
    format!(
        "{:0width$}°{:02}'{:02}\"{}",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        if angle < 0.0 { neg } else { pos }
    )
}

/// `point` as UTM (UPS near the poles) to the metre: `37N 455000 3928000`,
/// zone (0 for UPS) and hemisphere, easting, northing.
pub fn format_utm(point: LatLng) -> Result<String, String> {
    let ll = geoconvert::LatLon::create(point.lat, point.lng).map_err(|e| e.to_string())?;
    let u = ll.to_utmups();
    Ok(format!(
        "{}{} {:.0} {:.0}",
        u.zone(),
        if u.is_north() { 'N' } else { 'S' },
        u.easting().floor(),
        u.northing().floor()
    ))
}

/// The MGRS reference of `point` at 1 m (five digits each way).
pub fn format_mgrs(point: LatLng) -> Result<String, String> {
    let ll = geoconvert::LatLon::create(point.lat, point.lng).map_err(|e| e.to_string())?;
    Ok(ll.to_mgrs(5).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lat(t: &str) -> f64 {
        parse_angle(t, Axis::Latitude).unwrap_or_else(|e| panic!("{t}: {e}"))
    }

    fn lng(t: &str) -> f64 {
        parse_angle(t, Axis::Longitude).unwrap_or_else(|e| panic!("{t}: {e}"))
    }

    #[test]
    fn every_form_of_an_angle_reads_the_same() {
        let want = 35.0 + 30.0 / 60.0 + 15.0 / 3600.0;
        for t in [
            "35°30'15\"N",
            "35°30'15\" N",
            "N35°30'15\"",
            "35 30 15 N",
            "35:30:15N",
            "35°30′15″N",
            "353015N",
            "35d30m15sN",
            "35°30.25'N",
            "3530.25N",
        ] {
            assert!((lat(t) - want).abs() < 1e-12, "{t}: {}", lat(t));
        }
        assert!((lat("35.5") - 35.5).abs() < 1e-12);
        assert!((lat("-35.5") + 35.5).abs() < 1e-12);
        assert!((lat("35.5S") + 35.5).abs() < 1e-12);
        assert!((lng("038°30'E") - 38.5).abs() < 1e-12);
        assert!((lng("03830E") - 38.5).abs() < 1e-12);
        assert!((lng("0383000W") + 38.5).abs() < 1e-12);
        assert!((lng("120.25W") + 120.25).abs() < 1e-12);
    }

    #[test]
    fn wrong_angles_say_what_to_give() {
        for (t, says) in [
            ("038°30'E", "swapped"),
            ("35°61'N", "below 60"),
            ("35.5°30'N", "only the last unit"),
            ("91N", "give latitude from -90 to 90"),
            ("thirty", "decimal degrees"),
            ("", "decimal degrees"),
            ("35°30'15\"N extra", "decimal degrees"),
        ] {
            let e = parse_angle(t, Axis::Latitude).unwrap_err();
            assert!(e.contains(says), "{t}: {e}");
        }
        assert!(parse_angle("35N", Axis::Longitude)
            .unwrap_err()
            .contains("swapped"));
    }

    #[test]
    fn a_position_is_latitude_then_longitude() {
        for t in [
            "35°30'N 038°30'E",
            "3530N03830E",
            "N35.5 E38.5",
            "35.5N 38.5E",
            "3530N 03830E",
        ] {
            let p = parse_position(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert!((p.point.lat - 35.5).abs() < 1e-12, "{t}");
            assert!((p.point.lng - 38.5).abs() < 1e-12, "{t}");
            assert_eq!(p.spread_m, 0.0);
        }
        assert!(parse_position("038°30'E 35°30'N").is_err());
        // MGRS references, those whose letters could be read as hemispheres too.
        let mut with_hemisphere_letters = 0;
        for i in 0..60 {
            let at = LatLng::new(35.5, 36.0 + f64::from(i) * 0.1);
            let text = format_mgrs(at).unwrap();
            with_hemisphere_letters += usize::from(text[3..5].contains(['E', 'W', 'N', 'S']));
            let p = parse_position(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(distance_m(p.point, at) < 1.0, "{text}: {:?}", p.point);
        }
        assert!(with_hemisphere_letters > 0);
    }

    #[test]
    fn an_mgrs_cell_is_its_centre_and_half_diagonal() {
        // GeographicLib's GeoConvert: 18TWL8566411315 is 40.748333N 73.985278W
        // to the metre.
        let p = parse_mgrs("18TWL 85664 11315").unwrap();
        assert!((p.point.lat - 40.748333).abs() < 2e-5, "{:?}", p.point);
        assert!((p.point.lng + 73.985278).abs() < 2e-5, "{:?}", p.point);
        assert!(
            (p.spread_m - 0.5 * 2f64.sqrt()).abs() < 0.01,
            "{}",
            p.spread_m
        );
        let coarse = parse_mgrs("18TWL8511").unwrap();
        // A 1 km cell: about 707 m, give or take the grid's scale.
        assert!((coarse.spread_m - 707.1).abs() < 2.0, "{}", coarse.spread_m);
        let odd = parse_mgrs("18TWL851").unwrap_err();
        assert!(odd.contains("an even number of digits"), "{odd}");
        assert_eq!(format_mgrs(p.point).unwrap(), "18TWL8566411315");
    }

    #[test]
    fn utm_text_reads_back_what_it_writes() {
        for at in [
            LatLng::new(35.5, 38.5),
            LatLng::new(-33.9, 151.2),
            LatLng::new(85.0, 10.0),
        ] {
            let text = format_utm(at).unwrap();
            let p = parse_position(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            // Floored to the metre: within 1.5 m.
            assert!(distance_m(p.point, at) < 1.5, "{text}: {:?}", p.point);
        }
        let spaced = parse_position("37 N 455000E 3928000N").unwrap();
        let compact = parse_position("37N 455000 3928000").unwrap();
        assert_eq!(spaced, compact);
        assert!(parse_position("61N 455000 3928000").is_err());
        // Any text is refused, never a panic: a multi-byte last character.
        assert!(parse_position("37é 455000 3928000").is_err());
        let far = parse_position("37N 455000 99999999").unwrap_err();
        assert!(
            far.contains("UTM") && far.contains("give an easting and northing"),
            "{far}"
        );
    }

    proptest::proptest! {
        /// Whatever an officer (or a fuzzer) types is read or refused, never a panic.
        #[test]
        fn any_text_is_read_or_refused(text in "[0-9A-Za-z°'\" .:é漢\\-]{0,24}") {
            let _ = parse_position(&text);
            let _ = parse_angle(&text, Axis::Latitude);
            let _ = parse_angle(&text, Axis::Longitude);
        }
    }

    #[test]
    fn dms_reads_back_what_it_writes() {
        let t = format_dms(-35.504_166_666, Axis::Latitude);
        assert_eq!(t, "35°30'15\"S");
        assert!((lat(&t) + 35.504_166_666).abs() < 1e-6);
        assert_eq!(format_dms(38.5, Axis::Longitude), "038°30'00\"E");
        assert_eq!(format_dms(10.999_999, Axis::Latitude), "11°00'00\"N");
    }
}
