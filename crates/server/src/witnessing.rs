//! Witnessing: the server submits checkpoints of its record to the witnesses
//! it is given (C2SP tlog-witness `add-checkpoint`, with a consistency proof
//! from the size each witness last cosigned), attaches the `cosignature/v1`
//! lines that come back in time, and serves the cosigned checkpoint
//! ([`parley_service::Service::set_witnessed`]).
//!
//! A round signs the record as it is, asks every witness at once and waits
//! for each at most the timeout: a witness that is down or slow delays the
//! checkpoint by no more than that, and the checkpoint goes out with the
//! cosignatures that arrived. Rounds run every `every` while the record
//! grows ([`Witnessing::spawn`]) and at once when a party asks
//! (`POST /v1/record/checkpoint/witnessed`).

use crate::auth::Auth;
use crate::problem::Problem;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use parley_record::{AddCheckpoint, CosignerKey, Hash};
use parley_service::{Service, ServiceError, WitnessedCheckpoint};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a witness may take to answer by default.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(2);

/// A witness the server submits its checkpoints to.
#[derive(Clone, Debug)]
pub struct WitnessTarget {
    /// Its submission prefix (`POST <url>/add-checkpoint`).
    pub url: String,
    /// Its cosigner key: only cosignatures by it are attached.
    pub key: CosignerKey,
}

impl WitnessTarget {
    /// Reads `URL=KEY` (as `parley serve --witness` takes it).
    pub fn parse(text: &str) -> Result<WitnessTarget, String> {
        let (url, key) = text.split_once('=').ok_or(
            "expected URL=KEY, the witness's URL and its key (`witness key:` as it prints)",
        )?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "the URL {url:?} does not start with http:// or https://"
            ));
        }
        let key = CosignerKey::parse(key.trim()).map_err(|e| format!("the key: {e}"))?;
        Ok(WitnessTarget {
            url: url.trim_end_matches('/').to_owned(),
            key,
        })
    }
}

/// The server's side of witnessing; cheap to clone.
#[derive(Clone)]
pub struct Witnessing(Arc<Inner>);

struct Inner {
    service: Service,
    witnesses: Vec<WitnessTarget>,
    client: reqwest::Client,
    timeout: Duration,
    /// The size each witness last cosigned, as far as this server knows.
    sizes: Mutex<Vec<Option<u64>>>,
    /// One round at a time, so rounds reach each witness in order.
    round: tokio::sync::Mutex<()>,
}

/// Why one witness gave no cosignature in a round.
enum Missed {
    Http(String),
    Refused(u16, String),
    Ahead(u64),
    NoCosignature,
}

impl std::fmt::Display for Missed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missed::Http(e) => write!(f, "{e}"),
            Missed::Refused(status, body) => write!(f, "refused ({status}): {}", body.trim_end()),
            Missed::Ahead(size) => write!(
                f,
                "it cosigned {size} entries, more than this record has: a rollback or another server under this key"
            ),
            Missed::NoCosignature => write!(f, "its answer holds no valid cosignature by its key"),
        }
    }
}

impl Witnessing {
    /// Witnessing of `service`'s record by `witnesses`, each given `timeout`.
    pub fn new(service: Service, witnesses: Vec<WitnessTarget>, timeout: Duration) -> Self {
        let sizes = Mutex::new(vec![None; witnesses.len()]);
        // reqwest is built without a default TLS provider (ring is ours).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Witnessing(Arc::new(Inner {
            service,
            witnesses,
            client: reqwest::Client::new(),
            timeout,
            sizes,
            round: tokio::sync::Mutex::new(()),
        }))
    }

    /// Signs the record as it is now, asks every witness for its cosignature
    /// (each waited for at most the timeout), keeps the cosigned checkpoint
    /// in the service and returns it.
    pub async fn round(&self) -> Result<Arc<WitnessedCheckpoint>, ServiceError> {
        let _one = self.0.round.lock().await;
        let (size, root, note) = self.0.service.sign_head()?;
        let asks = self.0.witnesses.iter().enumerate().map(|(i, w)| {
            let note = &note;
            async move {
                match tokio::time::timeout(self.0.timeout, self.ask(i, w, size, note)).await {
                    Ok(answer) => answer,
                    Err(_) => Err(Missed::Http(format!(
                        "no answer within {} ms",
                        self.0.timeout.as_millis()
                    ))),
                }
            }
        });
        let answers = futures_util::future::join_all(asks).await;
        let mut cosigned = note.clone();
        let mut cosigned_by = Vec::new();
        for (w, answer) in self.0.witnesses.iter().zip(answers) {
            match answer {
                Ok(line) => {
                    cosigned.push_str(&line);
                    cosigned_by.push(w.key.name().to_owned());
                }
                Err(missed) => eprintln!(
                    "parley: witness {}: no cosignature for size {size}: {missed}",
                    w.url
                ),
            }
        }
        self.0.service.set_witnessed(WitnessedCheckpoint {
            size,
            root,
            note: cosigned,
            cosigned_by,
            asked: self
                .0
                .witnesses
                .iter()
                .map(|w| w.key.name().to_owned())
                .collect(),
        });
        self.0
            .service
            .witnessed()
            .ok_or_else(|| ServiceError::Unavailable("no witnessed checkpoint".into()))
    }

    /// Asks witness `i` to cosign `note` (of `size` entries): from the size
    /// it last cosigned, or the one its 409 answer gives. Returns its
    /// cosignature line, checked.
    async fn ask(
        &self,
        i: usize,
        w: &WitnessTarget,
        size: u64,
        note: &str,
    ) -> Result<String, Missed> {
        let mut old = self.0.sizes.lock().unwrap_or_else(|e| e.into_inner())[i].unwrap_or(0);
        for _ in 0..2 {
            if old > size {
                // The witness cosigned a larger record than this one.
                return Err(Missed::Ahead(old));
            }
            let proof = self.proof(old, size).map_err(Missed::Http)?;
            let body = AddCheckpoint {
                old_size: old,
                proof,
                note: note.to_owned(),
            }
            .body();
            let response = self
                .0
                .client
                .post(format!("{}/add-checkpoint", w.url))
                .body(body)
                .send()
                .await
                .map_err(|e| Missed::Http(e.to_string()))?;
            let status = response.status().as_u16();
            let text = response
                .text()
                .await
                .map_err(|e| Missed::Http(e.to_string()))?;
            match status {
                200 => {
                    self.0.sizes.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(size);
                    return cosignature_of(w, note, &text);
                }
                409 => match text.trim_end().parse::<u64>() {
                    Ok(theirs) if theirs != old => old = theirs,
                    _ => return Err(Missed::Refused(status, text)),
                },
                _ => return Err(Missed::Refused(status, text)),
            }
        }
        Err(Missed::Refused(
            409,
            format!("still at another size than {old}"),
        ))
    }

    /// The consistency proof from `old` to `new` entries of the record.
    fn proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, String> {
        if old == 0 || old == new {
            return Ok(Vec::new());
        }
        let answer = self
            .0
            .service
            .read(|s| s.consistency(old, new))
            .map_err(|e| e.to_string())?;
        answer["proof"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                h.as_str()
                    .and_then(Hash::from_hex)
                    .ok_or_else(|| "a proof hash is not hex".to_string())
            })
            .collect()
    }

    /// Runs a round every `every` while the record grows, on the current
    /// tokio runtime.
    pub fn spawn(&self, every: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let head = me.0.service.read(|s| s.record_head());
                let done = me.0.service.witnessed().map(|w| (w.size, w.root));
                if done != Some(head) {
                    if let Err(e) = me.round().await {
                        eprintln!("parley: witnessing round: {e}");
                    }
                }
            }
        });
    }
}

/// The cosignature line by `w` among `lines` (a witness's answer), checked
/// against `note`.
fn cosignature_of(w: &WitnessTarget, note: &str, lines: &str) -> Result<String, Missed> {
    for line in lines.split_inclusive('\n') {
        let candidate = format!("{note}{line}");
        if let Ok(Some(_)) = w.key.verify_in(&candidate) {
            return Ok(line.to_owned());
        }
    }
    Err(Missed::NoCosignature)
}

/// Submits the record as it is now to the server's witnesses at once, waits
/// for their cosignatures (each at most the server's witness timeout), and
/// answers the cosigned checkpoint. Ask after a write for a receipt that
/// carries the witnesses' cosignatures at once.
#[utoipa::path(
    post,
    path = "/v1/record/checkpoint/witnessed",
    tag = "record",
    responses(
        (status = 200, description = "`{size, root, checkpoint, key, cosigned_by, witnesses_asked}`: `checkpoint` carries one `cosignature/v1` line per witness in `cosigned_by`.", body = crate::wire::Checkpoint),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn witnessed_checkpoint(
    State(s): State<AppState>,
    Auth(_): Auth,
    witnessing: Option<Extension<Witnessing>>,
) -> Result<Response, Problem> {
    let Some(Extension(w)) = witnessing else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "this server has no witnesses (parley serve --witness URL=KEY)",
        ));
    };
    w.round().await?;
    Ok(Json(s.service.checkpoint()?).into_response())
}
