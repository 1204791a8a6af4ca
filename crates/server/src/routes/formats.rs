//! A stored notice in the formats others already read: ICAO NOTAM text and
//! a NAVAREA-style warning (`parley_wire::notam`), written from the activity
//! as it reads back, never from what a client sent.

use super::Answer;
use crate::auth::Auth;
use crate::openapi::{InvalidInput, NotFound};
use crate::problem::Problem;
use crate::rejection::{ApiPath, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(notam))
        .routes(routes!(navarea))
}

/// Where the message is for: the FIR of a NOTAM, the NAVAREA of a warning.
#[derive(Deserialize)]
struct Region {
    fir: Option<String>,
    area: Option<String>,
}

/// `text` when it is `n` to `m` capital letters (or Roman numerals), else a problem naming `name`.
fn designator(
    text: Option<String>,
    name: &str,
    ok: fn(&str) -> bool,
    default: &str,
    hint: &str,
) -> Result<String, Problem> {
    match text {
        None => Ok(default.to_string()),
        Some(t) if ok(&t) => Ok(t),
        Some(t) => Err(Problem::invalid(
            &format!("/{name}"),
            format!("\"{t}\" is not {hint}"),
        )),
    }
}

fn text(body: Option<String>) -> Answer {
    let body = body.ok_or_else(|| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-renderable",
            "the activity has no volume in the stored form to write",
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// An activity's current version as ICAO NOTAM text.
///
/// Item 1 (series `P` and the version; `NOTAMR` for a later version, `NOTAMC` once cancelled: a NOTAM office assigns the real series and number), the Q-line (`QWELW`, `QWMLW` for a launch; lower and upper flight levels; the centre and radius in NM covering every volume), A) the FIR (`fir`, else `XXXX`), B) and C) the window (`YYMMDDhhmm` UTC), E) each area's positions to the second (`DDMMSSNDDDMMSSE`) or circle, F) and G) the limits as given (`FL130`, `FT AMSL`; heights above the WGS84 ellipsoid through the EGM96 geoid, rounded outward; `SFC` at or below mean sea level).
#[utoipa::path(
    get,
    path = "/v1/activities/{activity}/notam",
    tag = "activities",
    params(
        ("activity" = String, Path, description = "The activity's id."),
        ("fir" = Option<String>, Query, description = "The FIR of item A and the Q-line: four capital letters (default `XXXX`)."),
    ),
    responses(
        (status = 200, description = "The NOTAM.", content_type = "text/plain", body = String),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
    ),
    security(("bearer" = [])),
)]
async fn notam(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(activity): ApiPath<String>,
    ApiQuery(q): ApiQuery<Region>,
) -> Answer {
    let fir = designator(
        q.fir,
        "fir",
        |t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_uppercase()),
        "XXXX",
        "a FIR; give its four-letter ICAO designator, such as OSTT",
    )?;
    let v = s.service.read(|st| st.activity(&a, &activity))?;
    text(parley_wire::notam::notam(&v, &fir))
}

/// An activity's current version as a NAVAREA-style navigational warning.
///
/// The area (`area`, else `XX`), the number (the version), the operations and window (`DDhhmm UTC MON YY`), each area's positions (`DD-MM.mmN DDD-MM.mmE`) or circle, and when to cancel it.
#[utoipa::path(
    get,
    path = "/v1/activities/{activity}/navarea",
    tag = "activities",
    params(
        ("activity" = String, Path, description = "The activity's id."),
        ("area" = Option<String>, Query, description = "The NAVAREA, in Roman numerals (default `XX`)."),
    ),
    responses(
        (status = 200, description = "The warning.", content_type = "text/plain", body = String),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
    ),
    security(("bearer" = [])),
)]
async fn navarea(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(activity): ApiPath<String>,
    ApiQuery(q): ApiQuery<Region>,
) -> Answer {
    let area = designator(
        q.area,
        "area",
        |t| !t.is_empty() && t.len() <= 5 && t.bytes().all(|b| b"IVX".contains(&b)),
        "XX",
        "a NAVAREA; give it in Roman numerals, such as III",
    )?;
    let v = s.service.read(|st| st.activity(&a, &activity))?;
    text(parley_wire::notam::navarea(&v, &area))
}
