//! The recruiter's badge page in a real headless chromium: view links minted over
//! gRPC, the page following live sessions segment by segment through Server-Sent
//! Events, a replay turning it to alert, a challenge button, refused links, and
//! screenshots at full width and in a 320 px side panel.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use candor_server::proto::{self, MediaFormat, create_view_link_request::Scope as LinkScope};
use candor_server::view_link::{Grant, KeyRing, KeySource, Scope, unix_now};
use candor_server::{Limits, ServerSettings};
use support::browser::Browser;
use support::data;
use support::server::*;
use tonic::Code;

/// The server's view link key in these tests; the tests sign forged and expired links
/// with it (or without it) to see them refused.
const LINK_KEY: &str = "t1:badge-test-secret-0123456789abcdef0123";

fn ring() -> KeyRing {
    KeyRing::parse(LINK_KEY).unwrap()
}

fn badge_settings(limits: Limits) -> ServerSettings {
    let mut s = settings(limits);
    s.badge.keys = KeySource::Fixed(ring());
    s
}

async fn create_link(
    c: &proto::candor_client::CandorClient<tonic::transport::Channel>,
    key: &str,
    scope: LinkScope,
    allow_challenges: bool,
    ttl_s: Option<u32>,
) -> Result<proto::CreateViewLinkResponse, tonic::Status> {
    c.clone()
        .create_view_link(authed(
            proto::CreateViewLinkRequest {
                scope: Some(scope),
                ttl_s,
                allow_challenges,
            },
            key,
        ))
        .await
        .map(|r| r.into_inner())
}

/// A raw HTTP/1.1 request; the status code and body.
async fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    // An event stream does not end: its head is enough.
    let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_string(&mut out)).await;
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

fn signed(tenant: &str, scope: Scope, issued_at: i64, ttl: i64, challenges: bool) -> String {
    ring()
        .sign(&Grant {
            id: "test-link".into(),
            tenant: tenant.into(),
            scope,
            challenges,
            issued_at,
            expires_at: issued_at + ttl,
        })
        .unwrap()
}

/// A TCP proxy in front of the web port that the test can cut: while down it drops
/// every open connection and refuses new ones.
struct Proxy {
    addr: SocketAddr,
    up: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*watch.borrow() {
                    continue;
                }
                let mut down = watch.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// Where screenshots go: under the target folder, kept for people to look at.
fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("badge-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SEGMENTS_SHOWN: &str = "document.querySelectorAll('#timeline .seg').length";
const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_badge_follows_live_sessions_in_a_browser() {
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    let settings = badge_settings(limits());
    let data_dir = settings.data_dir.clone().unwrap();
    let server = start(settings).await;
    let web = server.web_addr.expect("the badge is served");
    let c = client(server.grpc_addr).await;
    let dir = tempfile::tempdir().unwrap();
    // 3 s of a real talking face: two segments, both clear.
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());

    let (tx, call) = open_session(&c, "badge-real", MediaFormat::Jpeg).await;
    let link = create_link(
        &c,
        KEY_A,
        LinkScope::SessionId("badge-real".into()),
        true,
        None,
    )
    .await
    .expect("link minted");
    assert!(link.path.starts_with("/badge?t="), "{link:?}");
    let lifetime = link.expires_at_unix_s - unix_now();
    assert!((7100..=7200).contains(&lifetime), "default 2 h: {lifetime}");
    // Another tenant cannot mint a link to it; nor can anyone to a session that does
    // not exist, or for longer than a day.
    let refused = create_link(
        &c,
        KEY_B,
        LinkScope::SessionId("badge-real".into()),
        true,
        None,
    );
    assert_eq!(refused.await.unwrap_err().code(), Code::NotFound);
    let refused = create_link(&c, KEY_A, LinkScope::SessionId("nobody".into()), true, None);
    assert_eq!(refused.await.unwrap_err().code(), Code::NotFound);
    let refused = create_link(
        &c,
        KEY_A,
        LinkScope::SessionId("badge-real".into()),
        true,
        Some(86_401),
    );
    assert_eq!(refused.await.unwrap_err().code(), Code::InvalidArgument);

    // The page goes through a proxy the test can cut, as a network would drop.
    let proxy = Proxy::start(web).await;
    browser.set_viewport(1280, 900).await;
    browser
        .goto(&format!("http://{}{}", proxy.addr, link.path))
        .await;

    // The first 2.4 s close the first segment only: the page shows exactly one.
    for m in frames_at_25fps(&jpegs[..60]) {
        tx.send(m).await.unwrap();
    }
    browser
        .wait_for(&format!("{SEGMENTS_SHOWN} >= 1"), LONG)
        .await;
    assert_eq!(browser.eval(SEGMENTS_SHOWN).await, 1);
    let state = browser
        .eval("document.getElementById('badge').dataset.state")
        .await;
    assert_eq!(state, "clear");
    let words = browser
        .eval("document.getElementById('badge-state').textContent")
        .await;
    assert_eq!(words, "Clear");
    let icon = browser
        .eval("!!document.querySelector('#badge-icon svg')")
        .await;
    assert_eq!(icon, true, "an icon beside the colour");
    let confidence = browser
        .eval("document.getElementById('confidence').textContent")
        .await;
    assert!(confidence.as_str().unwrap().contains('%'), "{confidence}");

    // A challenge from the page's button: the server acknowledges it with its id.
    browser
        .eval("document.querySelector('button[data-kind=turn_head]').click()")
        .await;
    let challenge_id = browser
        .wait_for(
            "(() => { const li = document.querySelector('#challenge-list li'); \
             return li && !li.dataset.id.startsWith('error') && li.dataset.id; })()",
            Duration::from_secs(20),
        )
        .await;

    // A network drop: the page says its stream is lost, then reconnects by itself
    // and the warning goes.
    proxy.set_up(false);
    browser
        .wait_for(
            "!document.getElementById('stale').hidden",
            Duration::from_secs(15),
        )
        .await;
    let warning = browser
        .eval("document.getElementById('stale').textContent")
        .await;
    println!("while cut off: {warning}");
    proxy.set_up(true);
    browser
        .wait_for(
            "document.getElementById('stale').hidden",
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(browser.eval(SEGMENTS_SHOWN).await, 1, "no segment twice");

    // Screenshots of the live badge: a full window and a 320 px side panel.
    let shots = screenshot_dir();
    for (width, name) in [(1280, "badge-live-1280.png"), (320, "badge-live-320.png")] {
        browser.set_viewport(width, 900).await;
        let path = shots.join(name);
        browser.screenshot(&path).await;
        println!("screenshot: {}", path.display());
        assert!(std::fs::metadata(&path).unwrap().len() > 1000);
    }
    // Nothing spills sideways in the side panel.
    let overflow = browser
        .eval("document.documentElement.scrollWidth <= 320")
        .await;
    assert_eq!(overflow, true, "the page fits 320 px");

    // The rest of the clip: the second segment arrives, then the summary; the
    // challenge, its window cut short by the end, gets its outcome.
    for m in frames_at_25fps(&jpegs).skip(60) {
        tx.send(m).await.unwrap();
    }
    tx.send(finish()).await.unwrap();
    drop(tx);
    let out = collect(call).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    assert_eq!(out.segments().len(), 2);
    browser
        .wait_for(
            "!document.getElementById('summary').hidden",
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(browser.eval(SEGMENTS_SHOWN).await, 2);
    if let Some(result) = out.challenge() {
        assert_eq!(result.challenge_id, challenge_id.as_str().unwrap());
        let outcome = browser
            .wait_for(
                "(() => { const o = document.querySelector('#challenge-list li').dataset.outcome; \
                 return o !== 'pending' && o; })()",
                Duration::from_secs(10),
            )
            .await;
        println!("challenge outcome on the page: {outcome}");
    }

    // A replay of a tablet screen, followed through an interview link minted before
    // its session starts: the page waits, then turns to alert and says why in words.
    let link = create_link(
        &c,
        KEY_A,
        LinkScope::InterviewRef("iv-replay".into()),
        false,
        Some(600),
    )
    .await
    .unwrap();
    browser.goto(&format!("http://{web}{}", link.path)).await;
    browser
        .wait_for(
            "document.getElementById('badge').dataset.state === 'waiting'",
            Duration::from_secs(10),
        )
        .await;
    let screen = std::fs::read(data("spoof-samples/image_F2.jpg")).unwrap();
    let mut msgs = vec![proto::AnalyzeRequest {
        message: Some(proto::analyze_request::Message::Start(
            proto::SessionStart {
                session_id: "badge-replay".into(),
                participant_id: "p1".into(),
                interview_ref: Some("iv-replay".into()),
                format: MediaFormat::Jpeg as i32,
                ..Default::default()
            },
        )),
    }];
    msgs.extend((0..20).map(|i| frame(i * 200_000, screen.clone(), 0, 0)));
    msgs.push(finish());
    let mut cc = c.clone();
    let replay = tokio::spawn(async move { analyze(&mut cc, KEY_A, msgs, Duration::ZERO).await });
    browser
        .wait_for(
            "document.getElementById('badge').dataset.state === 'alert'",
            LONG,
        )
        .await;
    let out = replay.await.unwrap();
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let words = browser
        .eval("document.getElementById('badge-state').textContent")
        .await;
    assert!(words.as_str().unwrap().starts_with("Alert"), "{words}");
    let reason = browser
        .eval("document.getElementById('reason-text').textContent")
        .await;
    let todo = browser
        .eval("document.getElementById('reason-todo').textContent")
        .await;
    let (reason, todo) = (reason.as_str().unwrap(), todo.as_str().unwrap());
    println!("alert reason on the page: {reason} / {todo}");
    assert!(
        reason.len() > 15 && !reason.contains('_'),
        "plain words: {reason}"
    );
    assert!(!todo.is_empty(), "what to do");
    let buttons = browser
        .eval("document.getElementById('challenges').hidden")
        .await;
    assert_eq!(buttons, true, "this link may not start challenges");
    browser.set_viewport(320, 700).await;
    let path = shots.join("badge-alert-320.png");
    browser.screenshot(&path).await;
    println!("screenshot: {}", path.display());

    // A link that names another tenant, though signed with the server's key, reaches
    // nothing of tenant A's: 403 and no data.
    let other = signed(
        "tenant-b",
        Scope::Session("badge-real".into()),
        unix_now(),
        600,
        true,
    );
    for path in ["/badge", "/badge/events"] {
        let (code, body) = http(web, "GET", &format!("{path}?t={other}")).await;
        assert_eq!(code, 403, "{path}: {body}");
        assert!(!body.contains("badge-real"), "{body}");
    }
    let (code, _) = http(
        web,
        "POST",
        &format!("/badge/challenge?t={other}&kind=blink"),
    )
    .await;
    assert_eq!(code, 403);
    server.shutdown().await.unwrap();

    // Every view and the challenge were written to tenant A's audit log with the
    // link's id.
    use candor_store::Store;
    let store = candor_store::SqliteStore::open(&data_dir).unwrap();
    let log = store.audit_log("tenant-a", 100).unwrap();
    let kinds: Vec<&str> = log.iter().map(|l| l.kind.as_str()).collect();
    for kind in ["view_link_created", "view_link_view", "view_link_challenge"] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    let challenge_line = log
        .iter()
        .find(|l| l.kind == "view_link_challenge")
        .unwrap();
    let detail: serde_json::Value = serde_json::from_str(&challenge_line.detail_json).unwrap();
    assert!(detail["link_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(detail["extra"]["challenge_id"], challenge_id);
    assert_eq!(challenge_line.session_id.as_deref(), Some("badge-real"));
}

/// Forged, expired and tampered links, and links without challenge rights, are
/// refused with a plain 403 page and no data; the browser shows that page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_links_get_a_plain_403_and_no_data() {
    let mut settings = badge_settings(limits());
    settings.badge.frame_ancestors =
        candor_server::FrameAncestors::parse("tenant-a=https://ats.example.com").unwrap();
    // Refusing links needs no models; loading them would only slow the other test.
    settings.engine.manifest = "no-such-manifest.toml".into();
    // The page on its own port (--web-listen): the metrics port then has none of it.
    settings.badge.listen = Some("127.0.0.1:0".parse().unwrap());
    let server = candor_server::start(settings).await.expect("server starts");
    let web = server.web_addr.unwrap();
    let metrics = server.metrics_addr.unwrap();
    assert_ne!(web, metrics);
    let c = client(server.grpc_addr).await;

    // An interview link needs no session yet; it works until it is tampered with.
    let link = create_link(
        &c,
        KEY_A,
        LinkScope::InterviewRef("iv-1".into()),
        false,
        None,
    )
    .await
    .unwrap();
    let (code, body) = http(web, "GET", &link.path).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(http(metrics, "GET", &link.path).await.0, 404);
    assert!(body.contains("content-security-policy"), "{body}");
    assert!(body.contains("frame-ancestors 'none'"), "{body}");
    assert!(body.contains("x-frame-options: DENY"), "{body}");
    // Embedded: only the tenant's own site may frame it.
    let (code, body) = http(web, "GET", &format!("{}&embed=1", link.path)).await;
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("frame-ancestors https://ats.example.com\r\n"),
        "{body}"
    );
    assert!(!body.contains("x-frame-options"), "{body}");
    let token = link.token.clone();
    let flipped = {
        let (head, sig) = token.rsplit_once('.').unwrap();
        let first = if sig.starts_with('A') { 'B' } else { 'A' };
        format!("{head}.{first}{}", &sig[1..])
    };
    let impostor = KeyRing::parse("t1:not-the-server-secret-but-long-enough-0000")
        .unwrap()
        .sign(&Grant {
            id: "x".into(),
            tenant: "tenant-a".into(),
            scope: Scope::Interview("iv-1".into()),
            challenges: true,
            issued_at: unix_now(),
            expires_at: unix_now() + 600,
        })
        .unwrap();
    let expired = signed(
        "tenant-a",
        Scope::Interview("iv-1".into()),
        unix_now() - 7200,
        3600,
        true,
    );
    let too_long = signed(
        "tenant-a",
        Scope::Interview("iv-1".into()),
        unix_now(),
        3 * 86_400,
        true,
    );
    for (what, t) in [
        ("tampered", flipped.as_str()),
        ("forged", impostor.as_str()),
        ("expired", expired.as_str()),
        ("too long", too_long.as_str()),
        ("garbage", "not-a-token"),
        ("none", ""),
    ] {
        for path in ["/badge", "/badge/events"] {
            let (code, body) = http(web, "GET", &format!("{path}?t={t}")).await;
            assert_eq!(code, 403, "{what} {path}: {body}");
            assert!(body.contains("403 Forbidden"), "{what}: {body}");
            assert!(!body.contains("iv-1"), "{what}: {body}");
        }
    }
    // The link holds no challenge rights; an unknown kind is a bad request.
    let (code, body) = http(
        web,
        "POST",
        &format!("/badge/challenge?t={token}&kind=blink"),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    let rights = signed(
        "tenant-a",
        Scope::Interview("iv-1".into()),
        unix_now(),
        600,
        true,
    );
    let (code, _) = http(
        web,
        "POST",
        &format!("/badge/challenge?t={rights}&kind=dance"),
    )
    .await;
    assert_eq!(code, 400);
    // No session of the interview runs: nothing to challenge.
    let (code, _) = http(
        web,
        "POST",
        &format!("/badge/challenge?t={rights}&kind=blink"),
    )
    .await;
    assert_eq!(code, 409);

    // Bad requests for links.
    let no_scope = c
        .clone()
        .create_view_link(authed(proto::CreateViewLinkRequest::default(), KEY_A))
        .await;
    assert_eq!(no_scope.unwrap_err().code(), Code::InvalidArgument);
    let short = create_link(
        &c,
        KEY_A,
        LinkScope::InterviewRef("iv".into()),
        false,
        Some(5),
    );
    assert_eq!(short.await.unwrap_err().code(), Code::InvalidArgument);
    let unauthenticated = c
        .clone()
        .create_view_link(proto::CreateViewLinkRequest {
            scope: Some(LinkScope::InterviewRef("iv".into())),
            ..Default::default()
        })
        .await;
    assert_eq!(unauthenticated.unwrap_err().code(), Code::Unauthenticated);

    // In a browser: the plain 403 page, and none of the badge.
    if let Some(mut browser) = Browser::launch().await {
        browser
            .goto(&format!("http://{web}/badge?t={expired}"))
            .await;
        let text = browser.eval("document.body.innerText").await;
        assert!(text.as_str().unwrap().contains("403 Forbidden"), "{text}");
        let badge = browser.eval("!!document.getElementById('badge')").await;
        assert_eq!(badge, false);
    }
    server.shutdown().await.unwrap();
}
