//! Request bodies: JSON read by hand so that every error names its field.

use crate::problem::Problem;
use axum::body::Bytes;
use axum::http::StatusCode;
use parley_service::{ServiceError, Volumes};
use parley_wire::{VerticalRules, WireLimits};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// `value` with every number that is whole but written with a fraction
/// (`50.0`, `6e2`) as the integer it is: JSON has one number type, and a
/// client's serializer may write any number as a float. Negative zero and
/// numbers past 2^53, which a float cannot hold exactly, stay as they are.
fn whole_numbers(value: Value) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let whole = f.fract() == 0.0 && f.abs() <= EXACT && !(f == 0.0 && f.is_sign_negative());
            if whole && f >= 0.0 {
                Value::from(f as u64)
            } else if whole {
                Value::from(f as i64)
            } else {
                Value::Number(n)
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(whole_numbers).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, whole_numbers(v))).collect())
        }
        other => other,
    }
}

/// A JSON object body.
pub struct Body {
    pub fields: Map<String, Value>,
}

impl Body {
    pub fn parse(raw: Bytes) -> Result<Body, Problem> {
        let value: Value = serde_json::from_slice(&raw).map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        match whole_numbers(value) {
            Value::Object(fields) => Ok(Body { fields }),
            _ => Err(Problem::invalid("", "the body must be a JSON object")),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }

    pub fn string(&self, name: &str) -> Result<String, Problem> {
        self.optional_string(name)?
            .ok_or_else(|| Problem::invalid(&format!("/{name}"), "missing; give a string"))
    }

    pub fn optional_string(&self, name: &str) -> Result<Option<String>, Problem> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Problem::invalid(&format!("/{name}"), "expected a string")),
        }
    }

    pub fn u64(&self, name: &str) -> Result<u64, Problem> {
        self.optional_u64(name)?
            .ok_or_else(|| Problem::invalid(&format!("/{name}"), "missing; give a whole number"))
    }

    pub fn optional_u64(&self, name: &str) -> Result<Option<u64>, Problem> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                Problem::invalid(&format!("/{name}"), "expected a whole number ≥ 0")
            }),
        }
    }

    /// An optional flag: absent is `false`.
    pub fn bool(&self, name: &str) -> Result<bool, Problem> {
        Ok(self.optional_bool(name)?.unwrap_or(false))
    }

    /// A flag the caller must state.
    pub fn required_bool(&self, name: &str) -> Result<bool, Problem> {
        self.optional_bool(name)?
            .ok_or_else(|| Problem::invalid(&format!("/{name}"), "missing; give true or false"))
    }

    fn optional_bool(&self, name: &str) -> Result<Option<bool>, Problem> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Problem::invalid(
                &format!("/{name}"),
                "expected true or false",
            )),
        }
    }

    pub fn array(&self, name: &str) -> Result<Vec<Value>, Problem> {
        match self.get(name) {
            Some(Value::Array(a)) => Ok(a.clone()),
            None => Err(Problem::invalid(
                &format!("/{name}"),
                "missing; give an array",
            )),
            Some(_) => Err(Problem::invalid(&format!("/{name}"), "expected an array")),
        }
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>, Problem> {
        if self.get(name).is_none() {
            return Ok(Vec::new());
        }
        self.array(name)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Problem::invalid(&format!("/{name}/{i}"), "expected a string"))
            })
            .collect()
    }

    /// A field read through serde (enums such as role, priority, category).
    pub fn parsed<T: DeserializeOwned>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<Option<T>, Problem> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|_| Problem::invalid(&format!("/{name}"), format!("expected {expected}"))),
        }
    }
}

/// Validates a request's volumes: first the work budget
/// ([`parley_wire::check_work`]: refused with 422 naming `/volumes/N/...` before
/// any geometry is done), then [`Volumes::parse`]. Small requests (a few
/// vertices, at most [`INLINE_POINTS`] points once cut) are validated where
/// they are, costing microseconds; larger ones on tokio's blocking pool, at most
/// cores - 1 requests at a time (the rest wait their turn), so that the async
/// workers keep answering every other request (`/v1/health` among them)
/// however costly the geometry.
pub async fn volumes(
    values: Vec<Value>,
    limits: &WireLimits,
    vertical: &VerticalRules,
) -> Result<Volumes, Problem> {
    static VALIDATING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let invalid = |e: parley_wire::WireError| ServiceError::Invalid {
        pointer: e.pointer,
        message: e.message,
    };
    // KML given inline is read as the GeoJSON Feature it is, here at the edge.
    let values = parley_wire::kml::inline(values, "/volumes").map_err(invalid)?;
    if values.is_empty() || values.len() > limits.max_volumes {
        // Refused before anything is counted, as `Volumes::parse_on` words it.
        return Ok(Volumes::parse_on(values, limits, vertical)?);
    }
    // Routes and multipolygons are counted as the volumes they become.
    let expanded =
        parley_wire::shapes::expand(&values, "/volumes", limits.max_volumes).map_err(invalid)?;
    // Counting costs an inverse geodesic per long edge: cheap for few vertices.
    let vertices: usize = expanded.values.iter().map(vertex_count).sum();
    let work = move |limits: &WireLimits| {
        parley_wire::check_work(&expanded.values, "/volumes", limits)
            .map_err(|e| invalid(expanded.error(e)))
    };
    // The geoid costs about half a millisecond an evaluation: never inline.
    let geoid = values.iter().any(parley_wire::altitude::volume_needs_geoid);
    if vertices <= INLINE_VERTICES && !geoid {
        let points = work(limits)?;
        if points <= INLINE_POINTS {
            return Ok(Volumes::parse_on(values, limits, vertical)?);
        }
    }
    let permits = VALIDATING.get_or_init(|| {
        // A core is left for the writer and the workers.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
    });
    let _permit = permits.acquire().await.map_err(|_| unavailable())?;
    let (limits, vertical) = (limits.clone(), *vertical);
    tokio::task::spawn_blocking(move || {
        work(&limits)?;
        Volumes::parse_on(values, &limits, &vertical)
    })
    .await
    .map_err(|_| unavailable())?
    .map_err(Problem::from)
}

/// Requests with at most this many vertices in all are counted on the worker.
const INLINE_VERTICES: usize = 256;
/// Requests with at most this many points once cut are validated on the worker.
pub const INLINE_POINTS: usize = 1_000;

/// The vertices a volume lists (F3548 or GeoJSON), 0 when it has none to count.
fn vertex_count(v: &Value) -> usize {
    let list = if v.get("type").and_then(Value::as_str) == Some("Feature") {
        v.pointer("/geometry/coordinates/0")
    } else {
        v.pointer("/volume/outline_polygon/vertices")
    };
    list.and_then(Value::as_array).map_or(0, Vec::len)
}

fn unavailable() -> Problem {
    Problem::unavailable("the volumes could not be validated now; try again")
}
