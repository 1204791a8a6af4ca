//! A real `parley serve` driven over HTTP, as a client (or an attacker) would:
//! parties with an officer, an observer and an admin each, lines, and volumes
//! on the day of operations.

use super::{at, OPS_DAY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Child;

pub struct Server {
    pub child: Child,
    pub url: String,
    pub host: String,
    pub db: PathBuf,
    pub client: reqwest::Client,
}

pub fn temp_db(name: &str) -> PathBuf {
    super::temp_dir(name).join("parley.db")
}

impl Server {
    pub fn start(name: &str) -> Server {
        Self::start_at(temp_db(name), "100000", None)
    }

    /// Starts `parley serve` on a new store with the flags `args`.
    pub fn start_with(name: &str, args: &[&str]) -> Server {
        Self::start_at_with(temp_db(name), args)
    }

    /// Starts `parley serve` on a new store at `db` with the flags `args`.
    pub fn start_at_with(db: PathBuf, args: &[&str]) -> Server {
        let (child, url, shown) = super::serve_with(&db, args);
        Server {
            child,
            url,
            host: shown.expect("a host token"),
            db,
            client: super::http_client(),
        }
    }

    /// Starts `parley serve` on `db`; `host` is the host token when the store exists already.
    pub fn start_at(db: PathBuf, rate: &str, host: Option<String>) -> Server {
        let (child, url, shown) = super::serve(&db, rate);
        Server {
            child,
            url,
            host: shown.or(host).expect("a host token"),
            db,
            client: super::http_client(),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body), None).await
    }

    /// The record as `token`'s party may export it (JSON lines, the head first).
    pub async fn export(&self, token: &str) -> String {
        let res = self
            .client
            .get(format!("{}/v1/record/export", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    }

    /// Creates a party with an officer, an observer and an admin; returns their tokens.
    pub async fn party(&self, id: &str) -> Tokens {
        let (s, _) = self
            .post(
                "/v1/parties",
                &self.host,
                json!({"id": id, "name": id.to_uppercase()}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let mut tokens = Vec::new();
        for role in ["officer", "observer", "admin"] {
            let (s, v) = self
                .post(
                    &format!("/v1/parties/{id}/operators"),
                    &self.host,
                    json!({"name": format!("{id} {role}"), "role": role}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            tokens.push((
                v["token"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
            ));
        }
        Tokens {
            officer: tokens[0].0.clone(),
            observer: tokens[1].0.clone(),
            admin: tokens[2].0.clone(),
            officer_id: tokens[0].1.clone(),
        }
    }

    pub async fn line(&self, id: &str, parties: &[&str], horizontal_m: f64) {
        let body = json!({"id": id, "name": id, "parties": parties, "rules": {"horizontal_m": horizontal_m, "vertical_m": 0, "time_s": 0}});
        let (s, v) = self.post("/v1/lines", &self.host, body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Tokens {
    pub officer: String,
    pub observer: String,
    pub admin: String,
    pub officer_id: String,
}

/// An F3548 disc, 0-5,000 m, on the day of operations from `start_h` for `hours`.
pub fn disc(lat: f64, lng: f64, radius_m: f64, start_h: i64, hours: i64) -> Value {
    json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": radius_m, "units": "M"}},
        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 5000, "reference": "W84", "units": "M"}},
        "time_start": {"value": at(OPS_DAY, start_h), "format": "RFC3339"},
        "time_end": {"value": at(OPS_DAY, start_h + hours), "format": "RFC3339"}})
}

pub fn notice(volumes: Vec<Value>) -> Value {
    json!({"category": "air", "point_of_contact": "duty officer", "volumes": volumes})
}

/// Two parties on one line, a third outside it.
pub async fn world(name: &str) -> (Server, Tokens, Tokens, Tokens) {
    let server = Server::start(name);
    let blue = server.party("blue").await;
    let red = server.party("red").await;
    let green = server.party("green").await;
    server.line("air", &["blue", "red"], 1_000.0).await;
    (server, blue, red, green)
}
