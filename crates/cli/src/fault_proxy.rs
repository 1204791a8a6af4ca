//! A TCP proxy on loopback that puts faults between two nodes: it delays
//! each direction, drops connections, or cuts the link, and heals it again.
//! TLS passes through it untouched (it copies bytes), so pinned keys and
//! client certificates work through it as without it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The proxy: reach `upstream` at [`Proxy::address`].
pub struct Proxy {
    address: String,
    faults: Arc<Faults>,
}

#[derive(Default)]
struct Faults {
    delay_ms: AtomicU64,
    cut: AtomicBool,
    /// Every n-th new connection is closed unanswered (0: none).
    drop_every: AtomicU64,
    accepted: AtomicU64,
}

impl Proxy {
    /// A proxy to `upstream` (`host:port`), listening on a free loopback port.
    pub async fn start(upstream: &str) -> std::io::Result<Proxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let faults = Arc::new(Faults::default());
        let (f, up) = (faults.clone(), upstream.to_string());
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let n = f.accepted.fetch_add(1, Ordering::Relaxed) + 1;
                let every = f.drop_every.load(Ordering::Relaxed);
                if f.cut.load(Ordering::Relaxed) || (every > 0 && n % every == 0) {
                    continue; // dropped: closed unanswered
                }
                let Ok(outbound) = tokio::net::TcpStream::connect(&up).await else {
                    continue;
                };
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                tokio::spawn(pipe(ri, wo, f.clone()));
                tokio::spawn(pipe(ro, wi, f.clone()));
            }
        });
        Ok(Proxy { address, faults })
    }

    /// Where to connect instead of the upstream (`127.0.0.1:port`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Delays every chunk, each direction, by `ms` (0: none).
    pub fn delay(&self, ms: u64) {
        self.faults.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Closes every `n`-th new connection unanswered (0: none).
    pub fn drop_every(&self, n: u64) {
        self.faults.drop_every.store(n, Ordering::Relaxed);
    }

    /// Cuts the link: new connections are closed unanswered, open ones
    /// stop at their next chunk.
    pub fn cut(&self) {
        self.faults.cut.store(true, Ordering::Relaxed);
    }

    /// Heals every fault: no cut, no drops, no delay.
    pub fn heal(&self) {
        self.faults.cut.store(false, Ordering::Relaxed);
        self.faults.drop_every.store(0, Ordering::Relaxed);
        self.faults.delay_ms.store(0, Ordering::Relaxed);
    }
}

/// Copies one direction, each chunk after the delay, until either end
/// closes or the link is cut.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    faults: Arc<Faults>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let delay = faults.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if faults.cut.load(Ordering::Relaxed) || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
