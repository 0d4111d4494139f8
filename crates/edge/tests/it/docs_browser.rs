//! The docs page in a real browser, offline: headless Chromium opens the
//! edge's `/docs/` with every other host unreachable (no DNS, a dead proxy
//! for anything not on this machine) and, once the page's scripts have run,
//! its DOM shows every operation of the API and the Authorize button.
//! Ignored by a plain `cargo nextest run` for want of Chromium
//! (`CHROMIUM_PATH`, default `/usr/bin/chromium`); `just test-docs-browser`
//! (part of `just test`) runs it.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::Stack;

/// Each operation as Swagger UI renders its summary: method and path.
const OPERATIONS: [(&str, &str); 8] = [
    ("GET", "/api/{user_id}/tasks"),
    ("POST", "/api/{user_id}/tasks"),
    ("GET", "/api/{user_id}/tasks/{id}"),
    ("PUT", "/api/{user_id}/tasks/{id}"),
    ("DELETE", "/api/{user_id}/tasks/{id}"),
    ("PATCH", "/api/{user_id}/tasks/{id}/complete"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
];

#[tokio::test]
#[ignore = "needs Chromium: just test-docs-browser"]
async fn the_docs_page_shows_every_operation_in_a_browser_offline() {
    let stack = Stack::builder().start().await;
    let url = format!("{}/docs/", stack.base());
    let profile = std::env::temp_dir().join(format!("edge-docs-chromium-{}", uuid::Uuid::new_v4()));
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let dom = tokio::task::spawn_blocking({
        let profile = profile.clone();
        move || {
            Command::new(&chromium)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    // Offline: no host name resolves but this machine's, and
                    // anything else would go through a proxy that is not there.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    "--proxy-server=http://127.0.0.1:9",
                    // Long enough (in virtual time) for the scripts and
                    // /openapi.json to load and the page to render.
                    "--virtual-time-budget=20000",
                    "--dump-dom",
                ])
                .arg(format!("--user-data-dir={}", profile.display()))
                .arg(&url)
                .output()
        }
    })
    .await
    .expect("join")
    .unwrap_or_else(|error| panic!("could not run Chromium ({error}): set CHROMIUM_PATH"));
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);

    assert!(dom.contains("btn authorize"), "no Authorize button: {dom}");
    let shown = shown_operations(&dom);
    let expected: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(shown, expected, "{dom}");
    stack.finish().await;
}

/// The (method, path) of each operation summary Swagger UI rendered:
/// `<span class="opblock-summary-method">GET</span>` and, next, the
/// summary's `data-path="/api/{user_id}/tasks"`.
fn shown_operations(dom: &str) -> BTreeSet<(String, String)> {
    dom.split("class=\"opblock-summary-method\">")
        .skip(1)
        .filter_map(|summary| {
            let (method, rest) = summary.split_once("</span>")?;
            let path = rest.split("data-path=\"").nth(1)?.split('"').next()?;
            Some((method.to_owned(), path.to_owned()))
        })
        .collect()
}
