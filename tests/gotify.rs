//! `send` to a gotify target against the Gotify mock, tinyproxy and the fault ports of the
//! test services: what goes on the wire, how each failure is reported (message, class,
//! exit status), that other targets are still delivered, and that no secret is printed.

mod common;
mod fixture;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{DEFAULT_TIMEOUT, Services, services, unique_marker};
use fixture::{ConfigDir, fake_sendmail, stderr_of, stdout_of};

/// A proxy password that must never be printed.
const PROXY_PASSWORD: &str = "pr0xy-Passw0rd";

/// A gotify target `phone` next to a sendmail target `archive`, both matched by every
/// event; `token` goes to priv/notifications.cfg when given.
fn config(server: &str, token: Option<&str>, http_proxy: Option<&str>) -> ConfigDir {
    let dir = ConfigDir::new(&format!(
        "sendmail: archive\n\tmailto archive@example.com\n\n\
         gotify: phone\n\tserver {server}\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: everything\n\ttarget archive\n\ttarget phone\n"
    ));
    if let Some(token) = token {
        dir.write(
            "priv/notifications.cfg",
            &format!("gotify: phone\n\ttoken {token}\n"),
        );
    }
    if let Some(proxy) = http_proxy {
        dir.write("datacenter.cfg", &format!("http_proxy: {proxy}\n"));
    }
    dir
}

/// `pvenotify -vv --sendmail FAKE send …` with `marker` in the title; `ca` trusts the
/// test CA. Returns the output; the fake sendmail records into the config directory.
fn send(dir: &ConfigDir, marker: &str, ca: bool, env: &[(&str, &str)]) -> Output {
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let mut cmd = dir.cmd(&[
        "-vv",
        "--sendmail",
        sendmail.to_str().unwrap(),
        "send",
        "--severity",
        "warning",
        "--title",
        &format!("Disk full {marker}"),
        "--body",
        "| dev | use |\n| sda | 99% |",
    ]);
    cmd.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    if ca {
        cmd.env("SSL_CERT_FILE", services().ca);
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.timeout(Duration::from_secs(60)).output().unwrap()
}

fn all_output(out: &Output) -> String {
    format!("{}{}", stdout_of(out), stderr_of(out))
}

/// The outcome line of `phone`, the sendmail target delivered, the exit status, and no
/// secret anywhere in the output.
fn assert_outcome(
    dir: &ConfigDir,
    out: &Output,
    expected_line: &str,
    status: i32,
    secrets: &[&str],
) {
    let text = all_output(out);
    assert!(
        text.contains(expected_line),
        "expected {expected_line:?} in:\n{text}"
    );
    assert!(text.contains("archive (sendmail): delivered"), "{text}");
    assert!(
        dir.file("sendmail.input").exists(),
        "the sendmail target was not run:\n{text}"
    );
    assert_eq!(out.status.code(), Some(status), "{text}");
    for secret in secrets {
        assert!(!text.contains(secret), "secret {secret:?} printed:\n{text}");
    }
}

fn find_marked(svc: &Services, marker: &str) -> Option<common::RecordedRequest> {
    svc.find_request(|r| r.body().contains(marker))
}

fn check_gotify_request(svc: &Services, marker: &str, listener: &str) {
    let request = svc.wait_for_request(|r| r.body().contains(marker), DEFAULT_TIMEOUT);
    assert_eq!(request.method(), "POST");
    assert_eq!(request.path(), "/message");
    assert_eq!(request.listener(), listener);
    assert_eq!(request.response_status(), Some(200));
    let token = &svc.gotify_token;
    assert_eq!(
        request.header("Authorization"),
        Some(format!("Bearer {token}"))
    );
    assert_eq!(request.header("X-Gotify-Key").as_ref(), Some(token));
    assert_eq!(
        request.header("Content-Type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        request.header("User-Agent"),
        Some(format!("pvenotify/{}", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        request.header("Content-Length"),
        Some(request.body_bytes().len().to_string())
    );
    let body = request.body_json().expect("JSON body");
    assert_eq!(
        body,
        &serde_json::json!({
            "title": format!("Disk full {marker}"),
            "message": "```\n| dev | use |\n| sda | 99% |\n```",
            "priority": 5,
            "extras": {"client::display": {"contentType": "text/markdown"}}
        })
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn delivers_over_http_with_both_auth_headers() {
    let svc = services();
    let marker = unique_marker("gotify-http");
    // One trailing slash is dropped: POST /message, not //message.
    let dir = config(&svc.http_url("/"), Some(&svc.gotify_token), None);
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): delivered",
        0,
        &[&svc.gotify_token],
    );
    check_gotify_request(&svc, &marker, "http");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn delivers_over_https_with_the_system_trust_store() {
    let svc = services();
    let marker = unique_marker("gotify-https");
    let dir = config(&svc.https_url(""), Some(&svc.gotify_token), None);
    let out = send(&dir, &marker, true, &[]);
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): delivered",
        0,
        &[&svc.gotify_token],
    );
    check_gotify_request(&svc, &marker, "https");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn goes_through_the_datacenter_proxy() {
    let svc = services();
    let marker = unique_marker("gotify-proxy");
    // `localhost` (not 127.0.0.1) so this test's CONNECT line is its own.
    let proxy = format!(
        "http://pvenotify:{PROXY_PASSWORD}@{}",
        svc.addr(svc.proxy_port)
    );
    let dir = config(
        &svc.https_localhost_url(""),
        Some(&svc.gotify_token),
        Some(&proxy),
    );
    let since = svc.proxy_log_len();
    let out = send(&dir, &marker, true, &[]);
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): delivered",
        0,
        &[&svc.gotify_token, PROXY_PASSWORD],
    );
    check_gotify_request(&svc, &marker, "https");
    svc.wait_for_proxy_log(
        &format!("CONNECT localhost:{}", svc.https_port),
        since,
        DEFAULT_TIMEOUT,
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn goes_through_the_datacenter_proxy_in_absolute_form_over_plain_http() {
    let svc = services();
    let marker = unique_marker("gotify-proxy-http");
    let proxy = format!(
        "http://pvenotify:{PROXY_PASSWORD}@{}",
        svc.addr(svc.proxy_port)
    );
    // The test proxy, like stock Squid and tinyproxy, refuses CONNECT to this port.
    let server = format!("http://localhost:{}", svc.http_port);
    let dir = config(&server, Some(&svc.gotify_token), Some(&proxy));
    let since = svc.proxy_log_len();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): delivered",
        0,
        &[&svc.gotify_token, PROXY_PASSWORD],
    );
    check_gotify_request(&svc, &marker, "http");
    let request = svc.wait_for_request(|r| r.body().contains(&marker), DEFAULT_TIMEOUT);
    assert!(
        request
            .header("Via")
            .is_some_and(|via| via.contains("pvenotify-test-proxy")),
        "{:?}",
        request.headers()
    );
    svc.wait_for_proxy_log(
        &format!("POST http://localhost:{}/message HTTP/1.1", svc.http_port),
        since,
        DEFAULT_TIMEOUT,
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn ignores_proxies_from_the_environment() {
    let svc = services();
    let marker = unique_marker("gotify-noproxy");
    let dir = config(&svc.http_url(""), Some(&svc.gotify_token), None);
    // Were any of these used, delivery would fail: nothing listens there.
    let dead = format!("http://{}", svc.addr(svc.closed_port));
    let env: Vec<(&str, &str)> = [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ]
    .into_iter()
    .map(|var| (var, dead.as_str()))
    .collect();
    let out = send(&dir, &marker, false, &env);
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): delivered",
        0,
        &[&svc.gotify_token],
    );
    check_gotify_request(&svc, &marker, "http");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn wrong_token_is_a_configuration_failure_with_gotifys_description() {
    let svc = services();
    let marker = unique_marker("gotify-401");
    let token = format!("wrong-{marker}");
    let dir = config(&svc.http_url(""), Some(&token), None);
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "phone (gotify): failed (configuration): HTTP 401 Unauthorized from {}: \
             you need to provide a valid access token or user credentials to access this api",
            svc.http_url("")
        ),
        78,
        &[&token],
    );
    let request = svc.wait_for_request(|r| r.body().contains(&marker), DEFAULT_TIMEOUT);
    assert_eq!(request.response_status(), Some(401));
    assert_eq!(request.header("X-Gotify-Key"), Some(token));

    // Without -v the description is shown too (recipes.md §2).
    let quiet = dir
        .cmd(&[
            "--sendmail",
            dir.file("fake-sendmail").to_str().unwrap(),
            "send",
            "--title",
            &marker,
            "--body",
            "b",
        ])
        .output()
        .unwrap();
    let text = all_output(&quiet);
    assert!(
        text.contains(&format!(
            "phone (gotify): failed (configuration): HTTP 401 Unauthorized from {}: \
             you need to provide a valid access token or user credentials to access this api\n",
            svc.http_url("")
        )),
        "{text}"
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn not_found_is_a_configuration_failure_and_shows_the_server_reduced() {
    let svc = services();
    let marker = unique_marker("gotify-404");
    let dir = config(
        &svc.http_url(&format!("/status/404/{marker}")),
        Some(&svc.gotify_token),
        None,
    );
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "phone (gotify): failed (configuration): HTTP 404 Not Found from {}",
            svc.http_url("/…")
        ),
        78,
        &[&svc.gotify_token, &format!("/status/404/{marker}")],
    );
    let request = svc.wait_for_request(|r| r.path().contains(&marker), DEFAULT_TIMEOUT);
    assert_eq!(request.path(), format!("/status/404/{marker}/message"));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn server_error_is_temporary() {
    let svc = services();
    let marker = unique_marker("gotify-500");
    let dir = config(&svc.http_url("/status/500"), Some(&svc.gotify_token), None);
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "phone (gotify): failed (temporary): HTTP 500 Internal Server Error from {}",
            svc.http_url("/…")
        ),
        75,
        &[&svc.gotify_token],
    );
    let request = svc.wait_for_request(|r| r.body().contains(&marker), DEFAULT_TIMEOUT);
    assert_eq!(request.response_status(), Some(500));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn redirect_is_not_followed_and_is_a_configuration_failure() {
    let svc = services();
    let marker = unique_marker("gotify-302");
    let dir = config(&svc.http_url("/status/302"), Some(&svc.gotify_token), None);
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "phone (gotify): failed (configuration): HTTP 302 Found from {}: \
             redirects are not followed",
            svc.http_url("/…")
        ),
        78,
        &[&svc.gotify_token],
    );
    let request = svc.wait_for_request(|r| r.body().contains(&marker), DEFAULT_TIMEOUT);
    assert_eq!(request.response_status(), Some(302));
    // Only this test provokes redirects in this binary: nothing went to the target.
    let first = request.id;
    let followed = svc
        .requests()
        .into_iter()
        .find(|r| r.path() == "/redirected" && r.id > first);
    assert!(followed.is_none(), "redirect followed: {followed:?}");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_server_that_never_answers_times_out_after_10_s() {
    let svc = services();
    let marker = unique_marker("gotify-timeout");
    let server = format!("http://{}", svc.addr(svc.smtp_hang_port));
    let dir = config(&server, Some(&svc.gotify_token), None);
    let started = Instant::now();
    let out = send(&dir, &marker, false, &[]);
    let elapsed = started.elapsed();
    assert_outcome(
        &dir,
        &out,
        &format!("phone (gotify): failed (temporary): request to {server} timed out after 10 s"),
        75,
        &[&svc.gotify_token],
    );
    assert!(elapsed >= Duration::from_secs(9), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn connection_refused_is_temporary() {
    let svc = services();
    let marker = unique_marker("gotify-refused");
    let server = format!("http://{}", svc.addr(svc.closed_port));
    let dir = config(&server, Some(&svc.gotify_token), None);
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!("phone (gotify): failed (temporary): connection to {server} refused"),
        75,
        &[&svc.gotify_token],
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_proxy_that_is_down_is_temporary_and_its_password_stays_hidden() {
    let svc = services();
    let marker = unique_marker("gotify-proxy-down");
    let proxy = format!(
        "http://pvenotify:{PROXY_PASSWORD}@{}",
        svc.addr(svc.closed_port)
    );
    let dir = config(&svc.http_url(""), Some(&svc.gotify_token), Some(&proxy));
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "phone (gotify): failed (temporary): connection to proxy {} refused",
            svc.addr(svc.closed_port)
        ),
        75,
        &[&svc.gotify_token, PROXY_PASSWORD],
    );
    assert!(find_marked(&svc, &marker).is_none());
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn an_unresolvable_host_is_temporary() {
    let svc = services();
    let marker = unique_marker("gotify-dns");
    let dir = config(
        "https://gotify.nonexistent.invalid",
        Some(&svc.gotify_token),
        None,
    );
    let out = send(&dir, &marker, true, &[]);
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): failed (temporary): cannot resolve host gotify.nonexistent.invalid",
        75,
        &[&svc.gotify_token],
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn an_untrusted_certificate_is_temporary() {
    let svc = services();
    let marker = unique_marker("gotify-untrusted");
    let dir = config(&svc.https_url(""), Some(&svc.gotify_token), None);
    // No SSL_CERT_FILE: the system store does not know the test CA.
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "phone (gotify): failed (temporary): TLS connection to {} failed: \
             invalid peer certificate: UnknownIssuer",
            svc.https_url("")
        ),
        75,
        &[&svc.gotify_token],
    );
    assert!(find_marked(&svc, &marker).is_none());
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn without_token_nothing_is_sent() {
    let svc = services();
    let marker = unique_marker("gotify-notoken");
    let dir = config(&svc.http_url(""), None, None);
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): failed (configuration): no token configured",
        78,
        &[],
    );
    assert!(find_marked(&svc, &marker).is_none());
}

/// A one-shot "proxy" that records the CONNECT request and refuses it with 407.
fn refusing_proxy() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ = stream
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
        String::from_utf8_lossy(&head).into_owned()
    });
    (port, handle)
}

#[test]
fn proxy_credentials_go_into_proxy_authorization_and_are_never_printed() {
    let (port, proxy) = refusing_proxy();
    let dir = config(
        "https://gotify.example.com",
        Some("tok-secret-1"),
        Some(&format!(
            "http://pvenotify:{PROXY_PASSWORD}@127.0.0.1:{port}"
        )),
    );
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "-vv",
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--title",
            "t",
            "--body",
            "b",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let head = proxy.join().unwrap();
    assert!(
        head.starts_with("CONNECT gotify.example.com:443 HTTP/1.1\r\n"),
        "{head}"
    );
    // base64("pvenotify:pr0xy-Passw0rd")
    assert!(
        head.contains("Proxy-Authorization: Basic cHZlbm90aWZ5OnByMHh5LVBhc3N3MHJk\r\n"),
        "{head}"
    );
    assert_outcome(
        &dir,
        &out,
        &format!(
            "phone (gotify): failed (temporary): proxy 127.0.0.1:{port} could not open a \
             connection to gotify.example.com:443: HTTP 407 Proxy Authentication Required"
        ),
        75,
        &["tok-secret-1", PROXY_PASSWORD],
    );
}

#[test]
fn an_unusable_http_proxy_is_a_configuration_failure() {
    let dir = config(
        "https://gotify.example.com",
        Some("tok-secret-2"),
        Some(&format!(
            "https://pvenotify:{PROXY_PASSWORD}@proxy.example.com:3128"
        )),
    );
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "-vv",
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--title",
            "t",
            "--body",
            "b",
        ])
        .output()
        .unwrap();
    assert_outcome(
        &dir,
        &out,
        "phone (gotify): failed (configuration): http_proxy in datacenter.cfg cannot be used: \
         proxy scheme 'https' is not supported (only http)",
        78,
        &["tok-secret-2", PROXY_PASSWORD],
    );
}
