//! The accept loop: HTTP/1.1 over hyper, with a cap on the connections served
//! at once and timeouts on the client's side of each, so that slow or idle
//! sockets cannot take the file descriptors that `/v1/health` and everyone
//! else need.
//!
//! # What a connection may do
//! - Each served connection holds one of [`Connections::max`] places until it
//!   closes. One more is answered at once with `503` problem+json
//!   (`unavailable`, "too many connections; retry later") and closed, except
//!   that a `GET /v1/health` on it is still answered (from a small reserve of
//!   [`RESERVE`] places, each for one request), so a health check keeps
//!   working while the cap is full.
//! - A request's headers must arrive whole within
//!   [`Connections::header_timeout`], counted from when the connection opens
//!   or its previous response ends. hyper counts the wait for the next request
//!   on a kept-alive connection in the same timer, so this is also the idle
//!   keep-alive timeout. The connection is then closed.
//! - A request's body must arrive whole within [`Connections::body_timeout`]
//!   of its headers; otherwise the answer is `408` problem+json
//!   (`request-timeout`) and the connection is closed.
//! - Responses (a live event stream above all) have no time limit: the
//!   streams an operator may hold are capped in `events.rs` instead.
//!
//! # Over TLS
//! With a [`Tls`] configuration every connection first completes a TLS
//! handshake, within [`Connections::header_timeout`] (within [`RESERVE_WAIT`]
//! over the cap), under the same places. Over the cap the request cannot be
//! looked at before the handshake, so the connection is served one request,
//! answered `503` unless it is `GET /v1/health`. Each request carries the
//! client certificate's [`ClientCertificate`] for `auth.rs` to check.

use crate::problem::Problem;
use crate::tls::Tls;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Limits on the connections a server takes and how slowly clients may send.
#[derive(Clone, Debug)]
pub struct Connections {
    /// Connections served at once; one more is refused (`503`). Keep it well
    /// below the process's file-descriptor limit: the store, the reserve and
    /// refusals in progress need some too.
    pub max: usize,
    /// The longest a connection may take to send a request's headers, from
    /// when it opens or its previous response ends (so also the longest a
    /// kept-alive connection may sit idle).
    pub header_timeout: Duration,
    /// The longest a request's body may take to arrive, from its headers.
    pub body_timeout: Duration,
}

/// The default of [`Connections::max`].
pub const MAX_CONNECTIONS: usize = 512;
/// The default of [`Connections::header_timeout`].
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`Connections::body_timeout`].
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections over the cap handled at once (a health check served, or the
/// refusal written); past these, a new connection is closed unanswered.
pub const RESERVE: usize = 32;
/// How long a connection over the cap may take to show its request line, and
/// then to send the rest of a health check's headers or read its refusal.
const RESERVE_WAIT: Duration = Duration::from_secs(1);

impl Default for Connections {
    fn default() -> Self {
        Self {
            max: MAX_CONNECTIONS,
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
        }
    }
}

/// The client certificate of the connection a request came on, by the
/// SHA-256 of its public key (hex; see [`crate::tls::spki_sha256`]): `None`
/// over TLS without one. Requests over plain HTTP carry no such extension.
#[derive(Clone, Debug)]
pub struct ClientCertificate(pub Option<Arc<str>>);

/// Serves `router` on `listener` until the process ends, over TLS when `tls`
/// is given.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Connections,
    tls: Option<Arc<Tls>>,
) -> io::Result<()> {
    let places = Arc::new(Semaphore::new(limits.max.max(1)));
    let reserve = Arc::new(Semaphore::new(RESERVE));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut once = http.clone();
    once.keep_alive(false).header_read_timeout(RESERVE_WAIT);
    let handler = Handler {
        router,
        body_timeout: limits.body_timeout,
        peer: None,
        only_health: false,
    };
    let refusal: Arc<[u8]> = refusal().into();
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        if let Some(tls) = &tls {
            let (http, mut handler, refusal) =
                if let Ok(place) = Arc::clone(&places).try_acquire_owned() {
                    (http.clone(), handler.clone(), place)
                } else if let Ok(place) = Arc::clone(&reserve).try_acquire_owned() {
                    let mut handler = handler.clone();
                    handler.only_health = true;
                    (once.clone(), handler, place)
                } else {
                    continue;
                };
            let wait = if handler.only_health {
                RESERVE_WAIT
            } else {
                limits.header_timeout
            };
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
            let place = refusal;
            tokio::spawn(async move {
                let Ok(Ok(stream)) = tokio::time::timeout(wait, acceptor.accept(tcp)).await else {
                    return;
                };
                handler.peer = Some(ClientCertificate(client_spki(&stream)));
                let _ = http.serve_connection(TokioIo::new(stream), handler).await;
                drop(place);
            });
            continue;
        }
        if let Ok(place) = Arc::clone(&places).try_acquire_owned() {
            let connection = http.serve_connection(TokioIo::new(tcp), handler.clone());
            tokio::spawn(async move {
                let _ = connection.await;
                drop(place);
            });
        } else if let Ok(place) = Arc::clone(&reserve).try_acquire_owned() {
            let (once, handler, refusal) = (once.clone(), handler.clone(), Arc::clone(&refusal));
            tokio::spawn(over_the_cap(tcp, once, handler, refusal, place));
        }
        // Otherwise `tcp` is dropped here: closed unanswered.
    }
}

/// A connection over the cap: a health check is served (one request), anything
/// else is refused.
async fn over_the_cap(
    tcp: TcpStream,
    once: http1::Builder,
    handler: Handler,
    refusal: Arc<[u8]>,
    _place: OwnedSemaphorePermit,
) {
    if asks_for_health(&tcp).await {
        let _ = once.serve_connection(TokioIo::new(tcp), handler).await;
    } else {
        let _ = tokio::time::timeout(RESERVE_WAIT, refuse(tcp, &refusal)).await;
    }
}

/// Whether the request waiting on `tcp` starts `GET /v1/health` (looked at,
/// not read, for at most [`RESERVE_WAIT`]).
async fn asks_for_health(tcp: &TcpStream) -> bool {
    const LINE: &[u8] = b"GET /v1/health";
    let deadline = tokio::time::Instant::now() + RESERVE_WAIT;
    let mut seen = [0u8; LINE.len() + 1];
    loop {
        let n = match tokio::time::timeout_at(deadline, tcp.peek(&mut seen)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        let known = n.min(LINE.len());
        if seen[..known] != LINE[..known] {
            return false;
        }
        if n > LINE.len() {
            return matches!(seen[LINE.len()], b' ' | b'?');
        }
        // peek returns at once while anything is waiting: look again shortly.
        if tokio::time::timeout_at(deadline, tokio::time::sleep(Duration::from_millis(10)))
            .await
            .is_err()
        {
            return false;
        }
    }
}

/// Writes the refusal, closes the sending side, and reads what the client sent
/// until it closes too (closing with unread data would reset the connection,
/// and the client could lose the answer).
async fn refuse(mut tcp: TcpStream, refusal: &[u8]) -> io::Result<()> {
    tcp.write_all(refusal).await?;
    tcp.shutdown().await?;
    let mut sink = [0u8; 1024];
    while tcp.read(&mut sink).await? > 0 {}
    Ok(())
}

/// The answer to a request over the cap on a TLS connection.
fn over_the_cap_response() -> Response {
    let mut response = Problem::unavailable("too many connections; retry later").into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The whole answer to a connection over the cap.
fn refusal() -> Vec<u8> {
    let body = Problem::unavailable("too many connections; retry later")
        .body()
        .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The SPKI hash of the client's certificate on a TLS connection, if it sent one.
fn client_spki(stream: &tokio_rustls::server::TlsStream<TcpStream>) -> Option<Arc<str>> {
    let cert = stream.get_ref().1.peer_certificates()?.first()?;
    crate::tls::spki_sha256(cert).ok().map(Arc::from)
}

/// After a failed accept: go on at once when only that connection failed;
/// otherwise (out of file descriptors, say) say so and wait a little, so the
/// loop does not spin while the cause lasts.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    eprintln!("parley: cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The router as a hyper service, each request body under the body timeout.
#[derive(Clone)]
struct Handler {
    router: Router,
    body_timeout: Duration,
    /// Over TLS: the connection's client certificate, given to each request.
    peer: Option<ClientCertificate>,
    /// Over the cap (TLS): answer `GET /v1/health` only, refuse the rest.
    only_health: bool,
}

impl hyper::service::Service<Request<Incoming>> for Handler {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        if self.only_health
            && !(request.method() == axum::http::Method::GET
                && request.uri().path() == "/v1/health")
        {
            return Box::pin(async { Ok(over_the_cap_response()) });
        }
        if let Some(peer) = &self.peer {
            request.extensions_mut().insert(peer.clone());
        }
        let mut router = self.router.clone();
        let timeout = self.body_timeout;
        let late = Arc::new(AtomicBool::new(false));
        let request = if http_body::Body::is_end_stream(request.body()) {
            request.map(Body::new)
        } else {
            let late = Arc::clone(&late);
            request.map(|body| {
                Body::new(Deadline {
                    body,
                    sleep: Box::pin(tokio::time::sleep(timeout)),
                    late,
                })
            })
        };
        Box::pin(async move {
            let response = tower_service::Service::call(&mut router, request).await?;
            if late.load(Ordering::Relaxed) {
                return Ok(too_slow(timeout));
            }
            Ok(response)
        })
    }
}

/// The answer when the body did not arrive in time (whatever the handler made
/// of the cut body); the connection closes after it.
fn too_slow(timeout: Duration) -> Response {
    let mut response = Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        "request-timeout",
        format!(
            "the request body did not arrive within {} s of its headers; send it whole and retry",
            timeout.as_secs_f64()
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline passes, and says so in `late`.
struct Deadline<B> {
    body: B,
    sleep: Pin<Box<tokio::time::Sleep>>,
    late: Arc<AtomicBool>,
}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.late.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err("the request body took too long".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
