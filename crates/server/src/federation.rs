//! The server's side of federation: moving each federated line's log to the
//! line's other nodes, and taking theirs in (`parley_service::federation`
//! has the protocol).
//!
//! After a write that grew this node's log on a federated line, the write's
//! answer waits (at most the timeout) until every node of the line has taken
//! the new entries and answered with its receipt and its own new entries (the
//! conflicts it found for a notice, say), so a notice's answer holds the
//! conflicts every reachable node found. A node that does not answer is named
//! in the answer with since when it has not; what it is owed stays in the
//! journal (the outbox is the log beyond its last receipt) and a loop delivers
//! it, in order, the moment it answers again. Deliveries are idempotent: a
//! receiver skips what it holds.

use crate::tls::{Identity, NodeKeys};
use parley_service::federation::Delivery;
use parley_service::{Actor, Command, Role, Service, ServiceError, HOST};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a write's answer waits for a peer node by default.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(2);

/// The server's side of federation; cheap to clone.
#[derive(Clone)]
pub struct Federation(Arc<Inner>);

struct Inner {
    service: Service,
    /// For plain-HTTP peers on loopback; an `https://` peer gets a client
    /// of its own that trusts only its pinned key (`pinned`).
    client: reqwest::Client,
    pinned: Mutex<HashMap<String, reqwest::Client>>,
    /// This node's certificate and key, presented to `https://` peers.
    identity: Option<Identity>,
    timeout: Duration,
    /// One delivery at a time to each node, so a node's entries go in order.
    sending: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Nodes that did not answer: since when (µs) and why.
    unreached: Mutex<HashMap<String, (i64, String)>>,
}

/// The pinned TLS keys of this node's peers, read from the service as they
/// are now: a peer added later is admitted as a client at once.
pub struct PeerKeys(pub Service);

impl std::fmt::Debug for PeerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerKeys")
    }
}

impl NodeKeys for PeerKeys {
    fn any(&self) -> bool {
        self.0
            .read(|s| s.peers().values().any(|p| p.tls_pin.is_some()))
    }

    fn is_node(&self, spki: &str) -> bool {
        self.0.read(|s| {
            s.peers()
                .values()
                .any(|p| p.tls_pin.as_deref() == Some(spki))
        })
    }
}

/// Who moves deliveries: the service itself, acting as the host.
fn node_actor() -> Actor {
    Actor {
        operator: "federation".into(),
        party: HOST.into(),
        role: Role::Admin,
    }
}

impl Federation {
    /// Federation for `service`, waiting at most `timeout` for a peer, and
    /// presenting `identity` (the node's own TLS certificate) to peers.
    pub fn new(service: Service, timeout: Duration, identity: Option<Identity>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Federation(Arc::new(Inner {
            service,
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            timeout,
            identity,
            pinned: Mutex::default(),
            sending: Mutex::default(),
            unreached: Mutex::default(),
        }))
    }

    /// Delivers what is owed every `every`, until the service is gone.
    pub fn spawn(&self, every: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                me.deliver_pending().await;
            }
        });
    }

    /// Delivers everything owed to every node, each node at once; returns
    /// the nodes that did not answer, with since when (µs).
    pub async fn deliver_pending(&self) -> Vec<(String, i64)> {
        let owed = self.0.service.read(|s| s.pending_deliveries());
        if owed.is_empty() {
            return Vec::new();
        }
        let runs = owed.iter().map(|(node, line)| self.deliver(node, line));
        futures_util::future::join_all(runs).await;
        let unreached = self.0.unreached.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(String, i64)> = owed
            .iter()
            .filter_map(|(n, _)| unreached.get(n).map(|(since, _)| (n.clone(), *since)))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Delivers what this node owes `node` on `line` until nothing is owed
    /// or the node does not answer.
    async fn deliver(&self, node: &str, line: &str) {
        let lock = self
            .0
            .sending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(node.to_string())
            .or_default()
            .clone();
        let _one = lock.lock().await;
        loop {
            let delivery = match self.0.service.delivery(node, line) {
                Ok(Some(d)) => d,
                Ok(None) => return,
                Err(e) => return self.missed(node, e.to_string()),
            };
            let size = delivery.first + delivery.entries.len() as u64;
            match self.send(node, &delivery).await {
                Ok(answer) => {
                    self.0
                        .unreached
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(node);
                    if let Err(e) = self.take_answer(node, line, answer).await {
                        return self.missed(node, e.to_string());
                    }
                }
                Err(e) => return self.missed(node, e),
            }
            let now_owed = self.0.service.read(|s| s.owed_to(node, line));
            if now_owed.is_some_and(|(first, _, _)| first < size) {
                // The receipt did not move on: try again in the next round.
                return;
            }
        }
    }

    fn missed(&self, node: &str, why: String) {
        let now = self.0.service.now();
        let mut unreached = self.0.unreached.lock().unwrap_or_else(|e| e.into_inner());
        let since = unreached.get(node).map_or(now, |(since, _)| *since);
        unreached.insert(node.to_string(), (since, why));
    }

    /// The client to reach `peer` with: over HTTPS, one that trusts only the
    /// peer's pinned key.
    fn client_for(
        &self,
        node: &str,
        peer: &parley_service::Peer,
    ) -> Result<reqwest::Client, String> {
        let Some(pin) = &peer.tls_pin else {
            return Ok(self.0.client.clone());
        };
        let mut pinned = self.0.pinned.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = pinned.get(node) {
            return Ok(c.clone());
        }
        let client = crate::tls::pinned_client(pin, self.0.identity.as_ref(), self.0.timeout)?;
        pinned.insert(node.to_string(), client.clone());
        Ok(client)
    }

    async fn send(&self, node: &str, delivery: &Delivery) -> Result<Value, String> {
        let peer = self
            .0
            .service
            .read(|s| s.peers().get(node).cloned())
            .ok_or_else(|| format!("no peer {node}"))?;
        let url = peer.url.clone();
        let answer = self
            .client_for(node, &peer)?
            .post(format!(
                "{}/v1/federation/deliveries",
                url.trim_end_matches('/')
            ))
            .json(delivery)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = answer.status();
        let body: Value = answer
            .json()
            .await
            .map_err(|e| format!("an unreadable answer: {e}"))?;
        if !status.is_success() {
            return Err(format!("refused ({status}): {}", body["detail"]));
        }
        Ok(body)
    }

    /// Keeps a peer's receipt and takes in the entries it sent back, both
    /// at once (one commit of the writer's, not two in a row).
    async fn take_answer(&self, node: &str, line: &str, answer: Value) -> Result<(), ServiceError> {
        let confirm = self.run(Command::ConfirmDelivery {
            node: node.to_string(),
            line: line.to_string(),
            receipt: answer["receipt"].clone(),
            cosignature: answer["cosignature"].as_str().map(str::to_string),
            refusals: answer["refusals"].as_array().cloned().unwrap_or_default(),
        });
        let back = serde_json::from_value::<Delivery>(answer["delivery"].clone())
            .ok()
            .filter(|d| d.from == node && d.line == line);
        let take_back = async {
            match back {
                Some(d) => self.take_in(Arc::new(d)).await,
                None => Ok(()),
            }
        };
        let (confirmed, taken) = futures_util::future::join(confirm, take_back).await;
        confirmed?;
        taken
    }

    /// Whether a delivery from `node` may come over this connection: over
    /// TLS (`certificate` is `Some`), only with the client certificate whose
    /// key this node pinned for the peer (mutual TLS between nodes); plain
    /// HTTP only from a peer reached over plain HTTP, on loopback.
    pub(crate) fn admits(&self, node: &str, certificate: Option<Option<&str>>) -> bool {
        let pin = self
            .0
            .service
            .read(|s| s.peers().get(node).map(|p| p.tls_pin.clone()));
        match (pin.flatten(), certificate) {
            // An unknown node (the service refuses it by name), or one
            // reached over plain HTTP on loopback.
            (None, _) => true,
            (Some(pin), Some(Some(spki))) => pin == spki,
            (Some(_), _) => false,
        }
    }

    /// Takes in a peer's delivery (`take_in`); returns the receipt of this
    /// node's latest `Received` entry of that log, this node's cosignature
    /// of the checkpoint that entry names, the receipts of the delivery's
    /// entries this node refused for good, and what this node owes the
    /// sender on the line.
    pub async fn ingest(&self, d: Delivery) -> Result<Value, ServiceError> {
        let d = Arc::new(d);
        self.take_in(d.clone()).await?;
        let seq = self
            .0
            .service
            .read(|s| s.last_received(&d.from, &d.line))
            .ok_or_else(|| ServiceError::NotFound("this log on this node".into()))?;
        let receipt = self.0.service.receipt(&node_actor(), seq)?;
        // The checkpoint the receipt's entry names: the latest this node
        // took in of the sender's log (checked against all it held).
        let held = self
            .0
            .service
            .read(|s| s.their_checkpoint(&d.from, &d.line));
        let cosignature = match held {
            Some(checkpoint) => Some(self.0.service.cosign(&checkpoint)?),
            None => None,
        };
        // The receipts of the entries of this run held but refused for good,
        // so the sender tells their parties (sent again with the run).
        let size = d.first + d.entries.len() as u64;
        let refusals = self
            .0
            .service
            .read(|s| s.refusals_of(&d.from, &d.line, d.first, size))
            .into_iter()
            .map(|seq| self.0.service.receipt(&node_actor(), seq))
            .collect::<Result<Vec<_>, _>>()?;
        let back = self.0.service.delivery(&d.from, &d.line)?;
        Ok(
            json!({"receipt": receipt, "cosignature": cosignature, "refusals": refusals, "delivery": back}),
        )
    }

    /// The commands that take a delivery in, one entry a command (each
    /// judged against all before it).
    async fn take_in(&self, d: Arc<Delivery>) -> Result<(), ServiceError> {
        if !d.heads.is_empty() {
            // Whatever becomes of the delivery: each head is its own node's
            // signed word.
            let _ = self
                .run(Command::CheckHeads {
                    delivery: d.clone(),
                })
                .await;
        }
        // At least one command, so an empty delivery is checked too.
        let n = (d.entries.len() as u64).max(1);
        let replies = (d.first..d.first + n).map(|index| {
            self.run(Command::Ingest {
                delivery: d.clone(),
                index,
            })
        });
        // Sent together, so the writer takes them in one batch, in order.
        for r in futures_util::future::join_all(replies).await {
            if let Err(e) = r {
                if matches!(e, ServiceError::Conflict(_)) {
                    // A contradiction the peer signed is kept as evidence
                    // (refused by the service if it is none).
                    let _ = self
                        .run(Command::KeepEvidence {
                            delivery: d.clone(),
                        })
                        .await;
                }
                return Err(e);
            }
        }
        Ok(())
    }

    async fn run(&self, command: Command) -> Result<Value, ServiceError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.0.service.submit(
            node_actor(),
            command,
            None,
            Box::new(move |r| drop(tx.send(r))),
        );
        let answer = rx
            .await
            .map_err(|_| ServiceError::Unavailable("the writer stopped".into()))??;
        Ok(answer.body)
    }

    /// After a write: delivers what it added to federated lines (waiting at
    /// most the timeout) and, for a notice, answers with the conflicts every
    /// node that answered found, naming the nodes that did not.
    pub(crate) async fn after_write(&self, actor: &Actor, body: &mut Value) {
        if self.0.service.read(|s| s.peers().is_empty()) {
            return;
        }
        let unreached = match tokio::time::timeout(self.0.timeout, self.deliver_pending()).await {
            Ok(u) => u,
            Err(_) => self.0.service.read(|s| {
                s.pending_deliveries()
                    .into_iter()
                    .map(|(n, _)| (n, self.0.service.now()))
                    .collect()
            }),
        };
        let (Some(activity), Some(version)) = (body["activity"].as_str(), body["version"].as_u64())
        else {
            return;
        };
        if body.get("conflicts").is_none() || body["dry_run"] == true {
            return;
        }
        let line = self
            .0
            .service
            .read(|s| s.activity_line(activity))
            .unwrap_or_default();
        let nodes = self.0.service.read(|s| s.line_nodes(&line));
        if nodes.is_empty() {
            return;
        }
        body["conflicts"] = json!(self
            .0
            .service
            .read(|s| s.conflicts_of(actor, activity, version)));
        let not_asked: Vec<Value> = unreached
            .iter()
            .filter(|(n, _)| nodes.contains(n))
            .map(|(n, since)| {
                json!({"node": n, "since": parley_wire::format_timestamp(parley_engine::Timestamp(*since))})
            })
            .collect();
        body["federation"] = json!({
            "nodes": nodes,
            "not_reached": not_asked,
            "conflicts_known_as_of": parley_wire::format_timestamp(parley_engine::Timestamp(self.0.service.now())),
        });
    }

    /// Peers with whether each answers now.
    pub(crate) fn status(&self) -> Value {
        let mut v = self.0.service.read(|s| s.federation_status());
        let unreached = self.0.unreached.lock().unwrap_or_else(|e| e.into_inner());
        let peers: serde_json::Map<String, Value> = self
            .0
            .service
            .read(|s| s.peers().clone())
            .into_iter()
            .map(|(node, p)| {
                let reach = match unreached.get(&node) {
                    Some((since, why)) => json!({"reachable": false, "since": parley_wire::format_timestamp(parley_engine::Timestamp(*since)), "why": why}),
                    None => json!({"reachable": true}),
                };
                (node, json!({"url": p.url, "node_key": p.node_key, "cosigner_key": p.cosigner_key, "parties": p.parties, "reach": reach}))
            })
            .collect();
        v["peers"] = Value::Object(peers);
        v["node_key"] = json!(self.0.service.record_key().ok());
        v["cosigner_key"] = json!(self.0.service.cosigner_key().ok());
        v
    }
}
