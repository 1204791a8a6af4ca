//! The web console: served by the real binary with its security headers and
//! every file it references; and driven end to end in headless Chromium
//! (`tests/console/console_test.py`, Selenium) against `parley demo`.

mod common;

use common::demo::{python, root, Demo};
use std::process::Command;

/// What a console file must be served as, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        other => panic!("unexpected console file type {other:?}"),
    }
}

/// Every quoted string in `text` that starts with `prefix` (up to the closing quote).
fn quoted(text: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for quote in ['"', '\''] {
        let open = format!("{quote}{prefix}");
        let mut rest = text;
        while let Some(i) = rest.find(&open) {
            let tail = &rest[i + 1..];
            let end = tail.find(quote).expect("a closing quote");
            found.push(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    found
}

#[tokio::test]
async fn the_console_and_every_file_it_references_are_served() {
    let demo = Demo::start("assets");
    let client = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    };
    let res = client.get(format!("{}/", demo.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, parley_server::CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains(" style="),
        "no inline script or style"
    );

    // Follow the references: the page's, then each module's imports and fetches.
    let mut queue: Vec<String> = quoted(&html, "/console/");
    assert!(
        queue.len() >= 2,
        "index.html references its script and styles: {queue:?}"
    );
    let mut seen = Vec::new();
    while let Some(path) = queue.pop() {
        if seen.contains(&path) {
            continue;
        }
        let res = client
            .get(format!("{}{path}", demo.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], content_type(&path), "{path}");
        assert!(
            res.headers().contains_key("content-security-policy"),
            "{path}"
        );
        let body = res.text().await.unwrap();
        if path.ends_with(".js") {
            queue.extend(
                quoted(&body, "./")
                    .into_iter()
                    .map(|p| format!("/console/{}", &p[2..])),
            );
            queue.extend(quoted(&body, "/console/"));
        }
        seen.push(path);
    }
    for expected in [
        "/console/app.js",
        "/console/map.js",
        "/console/i18n.js",
        "/console/i18n-ru.js",
        "/console/i18n-zh.js",
        "/console/api.js",
        "/console/format.js",
        "/console/actions.js",
        "/console/timeline.js",
        "/console/brief.js",
        "/console/console.css",
        "/console/data/countries-50m.json",
    ] {
        assert!(
            seen.iter().any(|s| s == expected),
            "{expected} not reached from index.html: {seen:?}"
        );
    }
    let missing = client
        .get(format!("{}/console/nope.js", demo.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let api = client
        .get(format!("{}/v1/health", demo.url))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200, "the API is still there");
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

#[test]
fn the_console_in_headless_chromium() {
    let python = python();
    for program in ["chromium", "chromedriver"] {
        assert!(
            on_path(program),
            "{program} is missing: the console's browser test needs Debian's chromium and chromium-driver \
             (`apt-get install chromium chromium-driver`; .ci/run installs them)"
        );
    }
    let demo = Demo::start("browser");
    let screenshots = root().join("target/console-screenshots");
    let _ = std::fs::remove_dir_all(&screenshots);
    let out = Command::new(&python)
        .arg(root().join("tests/console/console_test.py"))
        .arg("--tokens")
        .arg(&demo.tokens)
        .arg("--screenshots")
        .arg(&screenshots)
        // Selenium must not look for a browser or driver on the network.
        .env("SE_OFFLINE", "true")
        .output()
        .expect("the browser test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "tests/console/console_test.py failed ({}); screenshots in {}",
        out.status,
        screenshots.display()
    );
    assert!(stdout.contains("screenshot: "), "no screenshots were saved");
}

/// The keys of one dictionary (`const NAME = { "key": "...", ... };`) in i18n.js.
fn dictionary(source: &str, name: &str) -> Vec<String> {
    let start = source
        .find(&format!("const {name} = {{"))
        .unwrap_or_else(|| panic!("i18n.js has no dictionary {name}"));
    let body = &source[start..];
    let body = &body[..body.find("\n};").expect("the dictionary ends")];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split_once("\":").map(|(k, _)| k.to_string()))
        .collect()
}

/// Every `marker"key"` in `text` where the marker starts a word: the keys it looks up.
fn lookups(text: &str, marker: &str) -> Vec<String> {
    text.match_indices(marker)
        .filter(|(i, _)| {
            !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '.' || c == '_' || c == '-')
        })
        .filter_map(|(i, _)| {
            let rest = &text[i + marker.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

#[test]
fn every_interface_text_is_in_english_russian_and_chinese() {
    let dir = root().join("crates/server/console");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    // English in i18n.js, the others in i18n-ru.js and i18n-zh.js.
    let i18n = ["i18n.js", "i18n-ru.js", "i18n-zh.js"].map(read).concat();
    let en = dictionary(&i18n, "en");
    assert!(en.len() > 100, "{} keys", en.len());
    for lang in ["ru", "zh"] {
        let other = dictionary(&i18n, lang);
        let missing: Vec<_> = en.iter().filter(|k| !other.contains(k)).collect();
        let extra: Vec<_> = other.iter().filter(|k| !en.contains(k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{lang}: missing {missing:?}, unknown {extra:?}"
        );
    }
    let html = read("index.html");
    let mut used = Vec::new();
    for marker in [
        "data-i18n=\"",
        "data-i18n-aria=\"",
        "data-i18n-placeholder=\"",
    ] {
        used.extend(lookups(&html, marker));
    }
    // Every module of the console, not only app.js.
    let mut scripts = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "js") {
            used.extend(lookups(&std::fs::read_to_string(&path).unwrap(), "t(\""));
            scripts += 1;
        }
    }
    assert!(scripts >= 10, "{scripts} scripts found");
    assert!(used.len() > 50, "{} lookups found", used.len());
    let unknown: Vec<_> = used.iter().filter(|k| !en.contains(k)).collect();
    assert!(
        unknown.is_empty(),
        "texts without a translation: {unknown:?}"
    );
}
