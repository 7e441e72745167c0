//! `send` to a webhook target against the HTTP mock, tinyproxy and the fault ports of the
//! test services: rendered URL, headers and body on the wire, failures with their message,
//! class and exit status, other targets still delivered, and no secret printed.

mod common;
mod fixture;

use std::process::Output;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{DEFAULT_TIMEOUT, RecordedRequest, Services, services, unique_marker};
use fixture::{ConfigDir, fake_sendmail, stderr_of, stdout_of};

/// Secret values of the private section; never printed.
const PATH_SECRET: &str = "path-S3cret";
const TOKEN_SECRET: &str = "tok/en S3cret";
const PROXY_PASSWORD: &str = "pr0xy-Passw0rd";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// What a webhook target `hook` looks like; `archive` (sendmail) is matched too.
struct Hook<'a> {
    method: &'a str,
    url: String,
    /// (name, template) pairs, base64-encoded into the config.
    headers: Vec<(&'a str, &'a str)>,
    body: Option<&'a str>,
    http_proxy: Option<String>,
}

impl<'a> Hook<'a> {
    fn post(url: String) -> Self {
        Hook {
            method: "post",
            url,
            headers: Vec::new(),
            body: None,
            http_proxy: None,
        }
    }

    fn config(&self) -> ConfigDir {
        let mut section = format!(
            "webhook: hook\n\tmethod {}\n\turl {}\n",
            self.method, self.url
        );
        for (name, value) in &self.headers {
            section.push_str(&format!("\theader name={name},value={}\n", b64(value)));
        }
        if let Some(body) = self.body {
            section.push_str(&format!("\tbody {}\n", b64(body)));
        }
        let dir = ConfigDir::new(&format!(
            "sendmail: archive\n\tmailto archive@example.com\n\n{section}\n\
             matcher: default-matcher\n\tdisable true\n\n\
             matcher: everything\n\ttarget archive\n\ttarget hook\n"
        ));
        dir.write(
            "priv/notifications.cfg",
            &format!(
                "webhook: hook\n\tsecret name=path,value={}\n\tsecret name=token,value={}\n",
                b64(PATH_SECRET),
                b64(TOKEN_SECRET)
            ),
        );
        if let Some(proxy) = &self.http_proxy {
            dir.write("datacenter.cfg", &format!("http_proxy: {proxy}\n"));
        }
        dir
    }
}

/// `pvenotify -vv --sendmail FAKE send …` with `marker` in the title and a field.
fn send(dir: &ConfigDir, marker: &str, ca: bool, env: &[(&str, &str)]) -> Output {
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let mut cmd = dir.cmd(&[
        "-vv",
        "--sendmail",
        sendmail.to_str().unwrap(),
        "send",
        "--severity",
        "error",
        "--timestamp",
        "1717416000",
        "--field",
        "type=vzdump",
        "--field",
        "greeting=hello world",
        "--title",
        &format!("Backup \"{marker}\" failed"),
        "--body",
        "line 1\nline 2",
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

/// The outcome line of `hook`, `archive` delivered, the exit status, and no secret (in
/// plain or percent-encoded form) in the output.
fn assert_outcome(dir: &ConfigDir, out: &Output, expected_line: &str, status: i32) {
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
    for secret in [PATH_SECRET, TOKEN_SECRET, "tok%2Fen", PROXY_PASSWORD] {
        assert!(!text.contains(secret), "secret {secret:?} printed:\n{text}");
    }
}

fn wait_marked(svc: &Services, marker: &str) -> RecordedRequest {
    svc.wait_for_request(|r| r.target().contains(marker), DEFAULT_TIMEOUT)
}

fn find_marked(svc: &Services, marker: &str) -> Option<RecordedRequest> {
    svc.find_request(|r| r.target().contains(marker) || r.body().contains(marker))
}

const BODY_TEMPLATE: &str = r#"{"title":"{{ escape title }}","text":"{{ escape message }}","severity":"{{ severity }}","ts":{{ timestamp }},"fields":{{ json fields }},"host":"{{ fields.hostname }}"}"#;

fn expected_body(marker: &str) -> serde_json::Value {
    serde_json::json!({
        "title": format!("Backup \"{marker}\" failed"),
        "text": "line 1\nline 2",
        "severity": "error",
        "ts": 1717416000,
        // `send` adds the host name field itself.
        "fields": {"greeting": "hello world", "hostname": "pve1", "type": "vzdump"},
        "host": "pve1"
    })
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn post_renders_url_headers_and_body_with_secrets_and_helpers() {
    let svc = services();
    let marker = unique_marker("webhook-post");
    let mut hook = Hook::post(svc.http_url(&format!(
        "/hook/{marker}/{{{{ secrets.path }}}}?g={{{{ url-encode fields.greeting }}}}&sev={{{{ severity }}}}"
    )));
    hook.headers = vec![
        ("X-Auth", "Bearer {{ secrets.token }}"),
        ("X-Type", "{{ fields.type }}"),
        ("X-Multi", "one"),
        ("X-Multi", "two"),
    ];
    hook.body = Some(BODY_TEMPLATE);
    let dir = hook.config();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(&dir, &out, "hook (webhook): delivered", 0);

    let request = wait_marked(&svc, &marker);
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.target(),
        format!("/hook/{marker}/{PATH_SECRET}?g=hello%20world&sev=error")
    );
    assert_eq!(
        request.header("X-Auth"),
        Some(format!("Bearer {TOKEN_SECRET}"))
    );
    assert_eq!(request.header("X-Type").as_deref(), Some("vzdump"));
    let multi: Vec<String> = request
        .headers()
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("X-Multi"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(multi, ["one", "two"]);
    assert_eq!(
        request.header("Content-Type"),
        None,
        "no automatic Content-Type"
    );
    assert_eq!(
        request.header("User-Agent"),
        Some(format!("pvenotify/{}", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        request.header("Content-Length"),
        Some(request.body_bytes().len().to_string())
    );
    assert_eq!(request.body_json(), Some(&expected_body(&marker)));
    let names: Vec<String> = request
        .headers()
        .into_iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names,
        [
            "content-length",
            "host",
            "user-agent",
            "x-auth",
            "x-multi",
            "x-type"
        ],
        "only configured headers besides Host, User-Agent and Content-Length"
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn put_over_https_with_a_configured_content_type() {
    let svc = services();
    let marker = unique_marker("webhook-https");
    let mut hook = Hook::post(svc.https_url(&format!("/put/{marker}")));
    hook.method = "put";
    hook.headers = vec![("Content-Type", "application/json")];
    hook.body = Some(BODY_TEMPLATE);
    let dir = hook.config();
    let out = send(&dir, &marker, true, &[]);
    assert_outcome(&dir, &out, "hook (webhook): delivered", 0);
    let request = wait_marked(&svc, &marker);
    assert_eq!(request.method(), "PUT");
    assert_eq!(request.listener(), "https");
    assert!(request.tls());
    assert_eq!(
        request.header("Content-Type").as_deref(),
        Some("application/json")
    );
    assert_eq!(request.body_json(), Some(&expected_body(&marker)));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn get_sends_content_length_only_with_a_body_and_post_always() {
    let svc = services();
    for (method, body, length) in [
        ("get", None, None),
        ("get", Some("{{ severity }}"), Some("5")),
        ("post", None, Some("0")),
    ] {
        let marker = unique_marker(&format!("webhook-{method}"));
        let mut hook = Hook::post(svc.http_url(&format!("/plain/{marker}")));
        hook.method = method;
        hook.body = body;
        let dir = hook.config();
        let out = send(&dir, &marker, false, &[]);
        assert_outcome(&dir, &out, "hook (webhook): delivered", 0);
        let request = wait_marked(&svc, &marker);
        assert_eq!(request.method(), method.to_uppercase());
        assert_eq!(
            request.header("Content-Length").as_deref(),
            length,
            "{method}"
        );
        assert_eq!(request.body(), if body.is_some() { "error" } else { "" });
    }
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn goes_through_the_datacenter_proxy() {
    let svc = services();
    let marker = unique_marker("webhook-proxy");
    // Plain http goes to the proxy in absolute form: the test proxy, like stock Squid and
    // tinyproxy, refuses CONNECT to this port.
    let mut hook = Hook::post(format!(
        "http://localhost:{}/proxied/{marker}",
        svc.http_port
    ));
    hook.http_proxy = Some(format!(
        "http://pvenotify:{PROXY_PASSWORD}@{}",
        svc.addr(svc.proxy_port)
    ));
    let dir = hook.config();
    let since = svc.proxy_log_len();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(&dir, &out, "hook (webhook): delivered", 0);
    let request = wait_marked(&svc, &marker);
    svc.wait_for_proxy_log(
        &format!(
            "POST http://localhost:{}/proxied/{marker} HTTP/1.1",
            svc.http_port
        ),
        since,
        DEFAULT_TIMEOUT,
    );
    // Forwarded by the proxy (not tunnelled), to the server the URL names.
    assert!(
        request
            .header("Via")
            .is_some_and(|via| via.contains("pvenotify-test-proxy")),
        "{:?}",
        request.headers()
    );
    assert_eq!(
        request.header("Host"),
        Some(format!("localhost:{}", svc.http_port))
    );
    // tinyproxy, having no BasicAuth of its own, relays the credentials; so they were sent.
    assert_eq!(
        request.header("Proxy-Authorization").as_deref(),
        Some("Basic cHZlbm90aWZ5OnByMHh5LVBhc3N3MHJk")
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn ignores_proxies_from_the_environment() {
    let svc = services();
    let marker = unique_marker("webhook-noproxy");
    let dir = Hook::post(svc.https_url(&format!("/direct/{marker}"))).config();
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
    let out = send(&dir, &marker, true, &env);
    assert_outcome(&dir, &out, "hook (webhook): delivered", 0);
    wait_marked(&svc, &marker);
}

/// A webhook to `/status/CODE/MARKER/{{ secrets.path }}`: the failure shows the URL
/// reduced, so neither the marker path nor the secret appears.
fn status_case(code: u16, expected: &str, exit: i32) {
    let svc = services();
    let marker = unique_marker(&format!("webhook-{code}"));
    let hook = Hook::post(svc.http_url(&format!("/status/{code}/{marker}/{{{{ secrets.path }}}}")));
    let dir = hook.config();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!("hook (webhook): {expected} from {}", svc.http_url("/…")),
        exit,
    );
    assert!(!all_output(&out).contains(&marker), "{}", all_output(&out));
    let request = wait_marked(&svc, &marker);
    assert_eq!(request.response_status(), Some(code));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn unauthorized_is_a_configuration_failure() {
    status_case(401, "failed (configuration): HTTP 401 Unauthorized", 78);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn not_found_is_a_configuration_failure() {
    status_case(404, "failed (configuration): HTTP 404 Not Found", 78);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn server_error_is_temporary() {
    status_case(
        500,
        "failed (temporary): HTTP 500 Internal Server Error",
        75,
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn redirect_is_not_followed_and_is_a_configuration_failure() {
    status_case(
        307,
        "failed (configuration): HTTP 307 Temporary Redirect",
        78,
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_server_that_never_answers_times_out_after_10_s() {
    let svc = services();
    let marker = unique_marker("webhook-hang");
    let dir = Hook::post(svc.http_url(&format!("/hang/{marker}"))).config();
    let started = Instant::now();
    let out = send(&dir, &marker, false, &[]);
    let elapsed = started.elapsed();
    assert_outcome(
        &dir,
        &out,
        &format!(
            "hook (webhook): failed (temporary): request to {} timed out after 10 s",
            svc.http_url("/…")
        ),
        75,
    );
    assert!(elapsed >= Duration::from_secs(9), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let request = wait_marked(&svc, &marker);
    assert_eq!(request.response_status(), None);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn connection_refused_is_temporary() {
    let svc = services();
    let marker = unique_marker("webhook-refused");
    let origin = format!("http://{}", svc.addr(svc.closed_port));
    let dir = Hook::post(format!("{origin}/x/{marker}")).config();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!("hook (webhook): failed (temporary): connection to {origin} refused"),
        75,
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_proxy_that_is_down_is_temporary() {
    let svc = services();
    let marker = unique_marker("webhook-proxy-down");
    let mut hook = Hook::post(svc.https_url(&format!("/x/{marker}")));
    hook.http_proxy = Some(format!(
        "pvenotify:{PROXY_PASSWORD}@{}",
        svc.addr(svc.closed_port)
    ));
    let dir = hook.config();
    let out = send(&dir, &marker, true, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "hook (webhook): failed (temporary): connection to proxy {} refused",
            svc.addr(svc.closed_port)
        ),
        75,
    );
    assert!(find_marked(&svc, &marker).is_none());
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn an_unresolvable_host_is_temporary() {
    let marker = unique_marker("webhook-dns");
    let dir = Hook::post(format!("https://hooks.nonexistent.invalid/{marker}")).config();
    let out = send(&dir, &marker, true, &[]);
    assert_outcome(
        &dir,
        &out,
        "hook (webhook): failed (temporary): cannot resolve host hooks.nonexistent.invalid",
        75,
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn an_untrusted_certificate_is_temporary() {
    let svc = services();
    let marker = unique_marker("webhook-untrusted");
    let dir = Hook::post(svc.https_localhost_url(&format!("/x/{marker}"))).config();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        &format!(
            "hook (webhook): failed (temporary): TLS connection to https://localhost:{} failed: \
             invalid peer certificate: UnknownIssuer",
            svc.https_port
        ),
        75,
    );
    assert!(find_marked(&svc, &marker).is_none());
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_render_error_is_a_configuration_failure_and_nothing_is_sent() {
    let svc = services();
    let marker = unique_marker("webhook-render");
    let mut hook = Hook::post(svc.http_url(&format!("/render/{marker}")));
    hook.body = Some("{{#if title}}unclosed {{ secrets.token }}");
    let dir = hook.config();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        "hook (webhook): failed (configuration): failed to render webhook body: ",
        78,
    );
    // A helper used wrongly, in a header.
    let mut hook = Hook::post(svc.http_url(&format!("/render/{marker}")));
    hook.headers = vec![("X-Sev", "{{ url-encode timestamp }}")];
    let dir = hook.config();
    let out = send(&dir, &marker, false, &[]);
    assert_outcome(
        &dir,
        &out,
        "hook (webhook): failed (configuration): failed to render webhook header X-Sev: ",
        78,
    );
    assert!(find_marked(&svc, &marker).is_none());
}

#[test]
fn bad_base64_is_a_configuration_failure() {
    let dir = Hook::post("http://127.0.0.1:9/never".to_string()).config();
    // Replace the private file with an undecodable secret next to a good one.
    dir.write(
        "priv/notifications.cfg",
        &format!(
            "webhook: hook\n\tsecret name=token,value={}\n\tsecret name=broken,value=not*base64\n",
            b64(TOKEN_SECRET)
        ),
    );
    let out = send(&dir, "b64", false, &[]);
    assert_outcome(
        &dir,
        &out,
        "hook (webhook): failed (configuration): secret 'broken': invalid base64",
        78,
    );
}

#[test]
fn header_injection_after_rendering_is_refused() {
    let mut hook = Hook::post("http://127.0.0.1:9/never".to_string());
    hook.headers = vec![("X-Title", "{{ message }}")];
    let dir = hook.config();
    let out = send(&dir, "crlf", false, &[]);
    assert_outcome(
        &dir,
        &out,
        "hook (webhook): failed (configuration): header 'X-Title' has a line break (CR or LF) \
         in its value after rendering",
        78,
    );
}
