//! Volumes from files (F3548 `Volume4D` JSON or GeoJSON), errors pointed back
//! into the file, and volumes as GeoJSON Features for export.

use super::ApiError;
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Map, Value};

/// The volumes of a file, and where each one sits in it (a JSON pointer).
pub struct Volumes {
    pub file: String,
    pub volumes: Vec<Value>,
    pub at: Vec<String>,
}

/// Parses `text` (from `file`): a `Volume4D` or GeoJSON `Feature`, an array of
/// them, a `FeatureCollection`, or an object with `volumes` (a notice body).
pub fn parse(file: &str, text: &str) -> Result<Volumes> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        anyhow!(
            "{file}:{}:{}: not JSON: {e}; give F3548 Volume4D JSON or GeoJSON",
            e.line(),
            e.column()
        )
    })?;
    let (list, prefix): (Vec<Value>, &str) = match &v {
        Value::Array(a) => (a.clone(), ""),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("FeatureCollection") => {
            match o.get("features") {
                Some(Value::Array(a)) => (a.clone(), "/features"),
                _ => bail!(
                    "{file}: /features: missing; a FeatureCollection needs an array of features"
                ),
            }
        }
        Value::Object(o) if o.contains_key("volumes") => match o.get("volumes") {
            Some(Value::Array(a)) => (a.clone(), "/volumes"),
            _ => bail!("{file}: /volumes: give an array of volumes"),
        },
        Value::Object(_) => {
            return Ok(Volumes {
                file: file.to_string(),
                volumes: vec![v],
                at: vec![String::new()],
            })
        }
        _ => bail!("{file}: give a volume, an array of volumes or a GeoJSON FeatureCollection"),
    };
    if list.is_empty() {
        bail!(
            "{file}: {}: no volume; give at least one",
            if prefix.is_empty() { "/" } else { prefix }
        );
    }
    let at = (0..list.len()).map(|i| format!("{prefix}/{i}")).collect();
    Ok(Volumes {
        file: file.to_string(),
        volumes: list,
        at,
    })
}

impl Volumes {
    /// Turns a server error about `/volumes/N/...` (where `base` is the pointer of
    /// the volumes array in the request) into one about the file.
    pub fn locate(&self, e: ApiError, base: &str) -> anyhow::Error {
        if let ApiError::Status { status, message } = &e {
            if let Some(rest) = message.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Some(at) = digits.parse::<usize>().ok().and_then(|i| self.at.get(i)) {
                    let tail = &rest[digits.len()..];
                    let pointer = format!("{at}{tail}");
                    let pointer = if pointer.starts_with('/') || pointer.starts_with(':') {
                        pointer
                    } else {
                        format!("/{pointer}")
                    };
                    return anyhow::Error::new(ApiError::Status {
                        status: *status,
                        message: format!(
                            "{}: {}",
                            self.file,
                            pointer.trim_start_matches(':').trim_start()
                        ),
                    });
                }
            }
        }
        anyhow::Error::new(e)
    }
}

/// A volume as a GeoJSON Feature with `props` merged into its properties.
pub fn to_feature(volume: &Value, props: &Map<String, Value>) -> Value {
    if volume["type"] == "Feature" {
        let mut f = volume.clone();
        let p = f["properties"].as_object().cloned().unwrap_or_default();
        let mut merged = props.clone();
        merged.extend(p);
        f["properties"] = Value::Object(merged);
        return f;
    }
    let vol = &volume["volume"];
    let mut p = props.clone();
    p.insert(
        "altitude_lower_m".into(),
        vol["altitude_lower"]["value"].clone(),
    );
    p.insert(
        "altitude_upper_m".into(),
        vol["altitude_upper"]["value"].clone(),
    );
    p.insert("time_start".into(), volume["time_start"]["value"].clone());
    p.insert("time_end".into(), volume["time_end"]["value"].clone());
    let geometry = if let Some(vs) = vol["outline_polygon"]["vertices"].as_array() {
        let mut ring: Vec<Value> = vs.iter().map(|v| json!([v["lng"], v["lat"]])).collect();
        if let Some(first) = ring.first().cloned() {
            ring.push(first);
        }
        json!({"type": "Polygon", "coordinates": [ring]})
    } else {
        let c = &vol["outline_circle"];
        p.insert("radius_m".into(), c["radius"]["value"].clone());
        json!({"type": "Point", "coordinates": [c["center"]["lng"], c["center"]["lat"]]})
    };
    json!({"type": "Feature", "geometry": geometry, "properties": p})
}

/// A short summary of volumes: their count and overall window.
pub fn summary(volumes: &[Value]) -> String {
    let mut starts: Vec<&str> = Vec::new();
    let mut ends: Vec<&str> = Vec::new();
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for v in volumes {
        let (s, e, l, h) = if v["type"] == "Feature" {
            let p = &v["properties"];
            (
                &p["time_start"],
                &p["time_end"],
                &p["altitude_lower_m"],
                &p["altitude_upper_m"],
            )
        } else {
            (
                &v["time_start"]["value"],
                &v["time_end"]["value"],
                &v["volume"]["altitude_lower"]["value"],
                &v["volume"]["altitude_upper"]["value"],
            )
        };
        starts.extend(s.as_str());
        ends.extend(e.as_str());
        low = low.min(l.as_f64().unwrap_or(f64::INFINITY));
        high = high.max(h.as_f64().unwrap_or(f64::NEG_INFINITY));
    }
    let start = starts.iter().min().copied().unwrap_or("?");
    let end = ends.iter().max().copied().unwrap_or("?");
    let band = if low.is_finite() && high.is_finite() {
        format!(", {low}-{high} m")
    } else {
        String::new()
    };
    format!(
        "{} volume{}, {start} to {end}{band}",
        volumes.len(),
        if volumes.len() == 1 { "" } else { "s" }
    )
}
