//! `parley demo --federated`: three nodes on loopback, each its own `parley
//! serve` with its own store: Blue's air force, Red's, and a relief office.
//! They are peered as their admins would peer them, with an air line between
//! Blue and Red and a humanitarian line joining all three; Red's patrol meets
//! Blue's strike, and the relief office's convoy is on the map of both.

use crate::served::{post, Served};
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// The three nodes: name, party, the party's name.
const NODES: [(&str, &str, &str); 3] = [
    ("blue.node", "blue", "Blue Air Force"),
    ("red.node", "red", "Red Aerospace Forces"),
    ("relief.node", "relief", "Relief Coordination Office"),
];

struct Node {
    served: Served,
    name: &'static str,
    party: &'static str,
    host: String,
    officer: String,
}

/// Starts the nodes on `listen`'s port and the two after it, in `dir`
/// (afresh), sets the scenario up and serves until interrupted.
pub fn run(listen: &str, dir: &Path) -> Result<()> {
    let (ip, port) = listen
        .rsplit_once(':')
        .and_then(|(ip, p)| Some((ip.to_string(), p.parse::<u16>().ok()?)))
        .context("--listen: give host:port")?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let mut nodes = Vec::new();
    for (i, (name, party, _)) in NODES.iter().enumerate() {
        let address = format!("{ip}:{}", if port == 0 { 0 } else { port + i as u16 });
        let served = Served::start(&[
            "--db".into(),
            dir.join(format!("{name}.db")).display().to_string(),
            "--origin".into(),
            name.to_string(),
            "--listen".into(),
            address,
        ])?;
        let host = served.host.clone().context("a host token")?;
        nodes.push(Node {
            served,
            name,
            party,
            host,
            officer: String::new(),
        });
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async move {
            scenario(&mut nodes).await?;
            print(&nodes);
            // Stopped by Ctrl-C or SIGTERM: the nodes go with it.
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r?,
                _ = term.recv() => {}
            }
            drop(nodes);
            Ok(())
        })
}

async fn scenario(nodes: &mut [Node]) -> Result<()> {
    let http = reqwest::Client::new();
    for (n, (_, _, party_name)) in nodes.iter_mut().zip(NODES) {
        let url = &n.served.url;
        let body = json!({"id": n.party, "name": party_name});
        let (s, t) = post(&http, url, "/v1/parties", &n.host, &body).await?;
        ensure!(s == 201, "{}: {s} {t}", n.name);
        let body = json!({"name": format!("{} duty officer", n.party), "role": "officer"});
        let path = format!("/v1/parties/{}/operators", n.party);
        let (s, t) = post(&http, url, &path, &n.host, &body).await?;
        ensure!(s == 201, "{}: {s} {t}", n.name);
        n.officer = serde_json::from_str::<Value>(&t)?["token"]
            .as_str()
            .context("a token")?
            .to_string();
    }
    // Every pair peered on both sides, as their admins agree out of band.
    let mut keys = Vec::new();
    for n in nodes.iter() {
        let v: Value = http
            .get(format!("{}/v1/federation", n.served.url))
            .bearer_auth(&n.host)
            .send()
            .await?
            .json()
            .await?;
        let key = |k: &str| v[k].as_str().map(str::to_string).context("a node key");
        keys.push((key("node_key")?, key("cosigner_key")?));
    }
    for (i, here) in nodes.iter().enumerate() {
        for (j, there) in nodes.iter().enumerate() {
            if i == j {
                continue;
            }
            let (node_key, cosigner_key) = &keys[j];
            let body = json!({"node": there.name, "url": there.served.url, "node_key": node_key, "cosigner_key": cosigner_key, "parties": [there.party]});
            let (s, t) = post(
                &http,
                &here.served.url,
                "/v1/federation/peers",
                &here.host,
                &body,
            )
            .await?;
            ensure!(
                s == 201,
                "peering {} with {}: {s} {t}",
                here.name,
                there.name
            );
        }
    }
    let blue = &nodes[0];
    for (line, name, parties, h) in [
        ("air", "Air deconfliction line", vec!["blue", "red"], 5_000),
        (
            "humanitarian",
            "Humanitarian line",
            vec!["blue", "red", "relief"],
            2_000,
        ),
    ] {
        let rules =
            json!({"horizontal_m": h, "vertical_m": 300, "time_s": 600, "notice_lead_time_s": 0});
        let body = json!({"id": line, "name": name, "parties": parties, "rules": rules});
        let (s, t) = post(&http, &blue.served.url, "/v1/lines", &blue.host, &body).await?;
        ensure!(s == 201, "line {line}: {s} {t}");
    }
    let now = crate::served::now_us();
    let at =
        |h: f64| parley_wire::format_timestamp(parley_engine::Timestamp(now + (h * 3.6e9) as i64));
    let disc = |lat: f64, lng: f64, r: f64, from: f64, to: f64, low: f64, high: f64| {
        json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": r, "units": "M"}},
            "altitude_lower": {"value": low, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": high, "reference": "W84", "units": "M"}},
            "time_start": {"value": at(from), "format": "RFC3339"},
            "time_end": {"value": at(to), "format": "RFC3339"}})
    };
    for (n, line, category, poc, volume) in [
        (
            0,
            "air",
            "air",
            "Blue AOC, strike cell",
            disc(35.95, 39.0, 15_000.0, 2.0, 4.0, 3_000.0, 9_000.0),
        ),
        (
            1,
            "air",
            "air",
            "Red air operations centre",
            disc(36.05, 39.1, 20_000.0, 3.0, 5.0, 5_000.0, 11_000.0),
        ),
        (
            2,
            "humanitarian",
            "ground",
            "Relief convoy desk",
            disc(36.2, 37.15, 3_000.0, 1.0, 8.0, 0.0, 100.0),
        ),
    ] {
        let node: &Node = &nodes[n];
        let body = json!({"category": category, "point_of_contact": poc, "volumes": [volume]});
        let path = format!("/v1/lines/{line}/notices");
        let (s, t) = post(&http, &node.served.url, &path, &node.officer, &body).await?;
        ensure!(s == 201, "{}'s notice: {s} {t}", node.party);
    }
    Ok(())
}

fn print(nodes: &[Node]) {
    println!("Parley federated demo: three nodes, each its own server and store");
    println!();
    println!("  {:<12} {:<26} {:<7} token", "node", "URL", "who");
    for n in nodes {
        println!(
            "  {:<12} {:<26} {:<7} {}",
            n.name, n.served.url, "host", n.host
        );
        println!("  {:<12} {:<26} {:<7} {}", "", "", n.party, n.officer);
    }
    println!();
    println!("Lines: air (blue.node and red.node: Red's patrol meets Blue's strike),");
    println!("       humanitarian (all three: the relief office's convoy near Aleppo).");
    println!(
        "Try: curl -H 'Authorization: Bearer {}' {}/v1/conflicts",
        nodes[1].officer, nodes[1].served.url
    );
    println!(
        "     curl -H 'Authorization: Bearer {}' {}/v1/federation",
        nodes[0].host, nodes[0].served.url
    );
    println!("Ctrl-C stops all three.");
    let _ = std::io::stdout().flush();
}
