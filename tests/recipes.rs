//! The webhook recipes for chat and push services (recipes.md): the examples under
//! `examples/recipes/` are current (`PVENOTIFY_UPDATE_DOCS=1 cargo test --test recipes`
//! rewrites them), each validates clean, and each delivers a failed backup's log to a
//! loopback server that behaves as the service documents (method, path, headers, JSON,
//! length limits, success and error answers). The hosted services cannot run here, so
//! these servers are hand-written, speaking HTTP/1.1 over a real socket. Also the rules
//! for reading answers (recipes.md §2) end to end.

mod fixture;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Output;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use fixture::{ConfigDir, pvenotify, stderr_of, stdout_of};
use pvenotify::recipes::{RECIPES, Recipe};
use serde_json::{Value, json};

const MARKER: &str = "<!-- generated from src/recipes.rs: do not edit below (PVENOTIFY_UPDATE_DOCS=1 cargo test --test recipes) -->";

/// A failed backup as Proxmox VE reports it, with everything that breaks hand-made JSON,
/// HTML or Markdown.
const TITLE: &str = "vzdump backup status (pve1.example.com): backup failed \"nightly\" — Größe";
const LOG: &str = "VMID\tNAME\tSTATUS\tTIME\r\n\
    100\tweb \"prod\"\tFAILED\t00:00:03\r\n\
    \r\n\
    ERROR: Backup of VM 100 failed - unable to open 'C:\\backups\\vm-100.vma': {{ secrets.token }} {{#if x}}\n\
    <script>alert('x')</script> & ünïcödé € 😀 \\u0041 `code` *bold* @everyone\n\
    INFO: Backup job finished with errors\n";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------
// The examples and the command

/// The files of `examples/recipes/NAME/`, generated from the table.
fn generated(recipe: &Recipe, readme: &str) -> Vec<(String, String)> {
    let public = recipe.public_section(recipe.name);
    let private = recipe.private_section(recipe.name);
    let prose = readme.split(MARKER).next().unwrap_or_default();
    vec![
        (
            "notifications.cfg".to_string(),
            public.trim_end().to_string() + "\n",
        ),
        (
            "priv/notifications.cfg".to_string(),
            private.trim_end().to_string() + "\n",
        ),
        (
            "README.md".to_string(),
            format!(
                "{}{MARKER}\n\n{}",
                prose.trim_end_matches('\n').to_string() + "\n\n",
                recipe.readme_part()
            ),
        ),
    ]
}

#[test]
fn examples_are_current() {
    let update = std::env::var_os("PVENOTIFY_UPDATE_DOCS").is_some_and(|v| v == "1");
    let mut problems = Vec::new();
    let root = repo().join("examples/recipes");
    let mut dirs: Vec<String> = fs::read_dir(&root)
        .expect("examples/recipes")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = RECIPES.iter().map(|r| r.name.to_string()).collect();
    names.sort();
    assert_eq!(dirs, names, "one directory per recipe");
    for recipe in RECIPES {
        let dir = root.join(recipe.name);
        let readme = fs::read_to_string(dir.join("README.md"))
            .unwrap_or_else(|e| panic!("{}/README.md: {e}", recipe.name));
        assert!(
            readme.contains(MARKER),
            "{}/README.md lacks the generated-part marker",
            recipe.name
        );
        for (file, content) in generated(recipe, &readme) {
            let path = dir.join(&file);
            if fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
                if update {
                    fs::create_dir_all(path.parent().unwrap()).unwrap();
                    fs::write(&path, &content).unwrap();
                } else {
                    problems.push(format!("examples/recipes/{}/{file}", recipe.name));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "stale: {problems:?}; run `PVENOTIFY_UPDATE_DOCS=1 cargo test --test recipes`"
    );
}

/// A config directory made of a recipe's example files, as a user would copy them.
fn example_dir(recipe: &Recipe) -> ConfigDir {
    let dir = repo().join("examples/recipes").join(recipe.name);
    let config = ConfigDir::new(&fs::read_to_string(dir.join("notifications.cfg")).unwrap());
    config.write(
        "priv/notifications.cfg",
        &fs::read_to_string(dir.join("priv/notifications.cfg")).unwrap(),
    );
    config
}

#[test]
fn every_example_validates_clean() {
    for recipe in RECIPES {
        let dir = example_dir(recipe);
        dir.write("user.cfg", "user:root@pam:1:0:::root@example.com:::\n");
        let out = dir.cmd(&["validate", "--strict"]).output().unwrap();
        assert_eq!(
            (
                out.status.code(),
                stdout_of(&out).as_str(),
                stderr_of(&out).as_str()
            ),
            (Some(0), "configuration is valid\n", ""),
            "{}",
            recipe.name
        );
    }
}

#[test]
fn the_command_prints_the_example_sections_under_any_name() {
    for recipe in RECIPES {
        let dir = repo().join("examples/recipes").join(recipe.name);
        let rename = |file: &str| {
            fs::read_to_string(dir.join(file)).unwrap().replacen(
                &format!("webhook: {}\n", recipe.name),
                "webhook: my-hook\n",
                1,
            ) + "\n"
        };
        let run = |flag: &str| {
            let out = pvenotify()
                .args(["recipe", recipe.name, "--name", "my-hook", flag])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
            stdout_of(&out)
        };
        assert_eq!(
            run("--public"),
            rename("notifications.cfg"),
            "{}",
            recipe.name
        );
        assert_eq!(run("--private"), rename("priv/notifications.cfg"));
        let both = pvenotify()
            .args(["recipe", recipe.name, "--name", "my-hook"])
            .output()
            .unwrap();
        let both = stdout_of(&both);
        assert!(both.contains(&rename("notifications.cfg")), "{both}");
        assert!(both.contains(&rename("priv/notifications.cfg")), "{both}");
    }
}

#[test]
fn the_command_lists_and_refuses() {
    let out = pvenotify().args(["recipe", "--list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let names: Vec<String> = stdout_of(&out)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "ntfy",
            "discord",
            "slack",
            "telegram",
            "matrix",
            "teams",
            "pushover",
            "home-assistant",
            "apprise"
        ]
    );
    let out = pvenotify().args(["recipe", "irc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(
        stderr_of(&out).starts_with("pvenotify: error: no recipe for 'irc' (there are: ntfy, ")
    );
    let out = pvenotify()
        .args(["recipe", "slack", "--name", "-x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", stderr_of(&out));
}

// ---------------------------------------------------------------------------------------
// A loopback HTTP/1.1 server

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    /// Path and query, as sent.
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }

    fn query(&self, key: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then(|| percent_decode(v))
        })
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("percent escape"));
            i += 3;
        } else if bytes[i] == b'+' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 after decoding")
}

/// An answer: status, extra headers, body.
struct Reply(u16, Vec<(&'static str, String)>, String);

fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply(status, Vec::new(), body.into())
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply(
        status,
        vec![("Content-Type", "application/json".to_string())],
        body.to_string(),
    )
}

/// A server on 127.0.0.1 answering every request with `handler`; the requests arrive on
/// the returned channel.
fn serve(handler: impl Fn(&Received) -> Reply + Send + 'static) -> (String, Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let target = parts.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let header = header.trim_end_matches(['\r', '\n']);
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                headers.push((name.to_string(), value.trim().to_string()));
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let received = Received {
                method,
                target,
                headers,
                body,
            };
            let Reply(status, extra, body) = handler(&received);
            let mut response = format!(
                "HTTP/1.1 {status} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in extra {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&body);
            let _ = stream.write_all(response.as_bytes());
            let _ = tx.send(received);
        }
    });
    (origin, rx)
}

fn next(rx: &Receiver<Received>) -> Received {
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the server got a request")
}

// ---------------------------------------------------------------------------------------
// Delivering through a recipe

/// A config with recipe `service` as target `hook`, its URL pointed at `origin`, the
/// given secret values, and a matcher sending everything there.
fn recipe_config(service: &str, origin: &str, secrets: &[(&str, &str)]) -> ConfigDir {
    let out = pvenotify()
        .args(["recipe", service, "--name", "hook", "--public"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let public: String = stdout_of(&out)
        .lines()
        .map(|line| match line.strip_prefix("\turl ") {
            Some(url) => {
                let (scheme, rest) = url.split_once("://").unwrap();
                assert!(scheme == "https" || service == "apprise", "{url}");
                let path = &rest[rest.find('/').unwrap()..];
                format!("\turl {origin}{path}\n")
            }
            None => format!("{line}\n"),
        })
        .collect();
    let dir = ConfigDir::new(&format!(
        "{public}matcher: default-matcher\n\tdisable true\n\nmatcher: everything\n\ttarget hook\n"
    ));
    let mut private = "webhook: hook\n".to_string();
    for (name, value) in secrets {
        private.push_str(&format!("\tsecret name={name},value={}\n", b64(value)));
    }
    dir.write("priv/notifications.cfg", &private);
    dir
}

fn send_log(dir: &ConfigDir, title: &str, body: &str) -> Output {
    dir.cmd(&[
        "send",
        "--severity",
        "error",
        "--timestamp",
        "1717416000",
        "--field",
        "type=vzdump",
        "--title",
        title,
        "--body",
        body,
    ])
    .timeout(Duration::from_secs(60))
    .output()
    .unwrap()
}

/// The outcome line and exit status; no secret value anywhere in the output.
fn assert_outcome(out: &Output, line: &str, status: i32, secrets: &[(&str, &str)]) {
    let text = format!("{}{}", stdout_of(out), stderr_of(out));
    assert!(text.contains(line), "expected {line:?} in:\n{text}");
    assert_eq!(out.status.code(), Some(status), "{text}");
    for (_, value) in secrets {
        assert!(!text.contains(value), "secret {value:?} printed:\n{text}");
    }
}

const DELIVERED: &str = "hook (webhook): delivered";

fn json_body(r: &Received) -> Result<Value, Reply> {
    if !r
        .header("Content-Type")
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return Err(reply(415, "Content-Type must be application/json"));
    }
    r.json().ok_or_else(|| reply(400, "invalid JSON"))
}

fn str_field<'a>(json: &'a Value, key: &str) -> Option<&'a str> {
    json.get(key).and_then(Value::as_str)
}

#[test]
fn ntfy() {
    const TOPIC: &str = "pve-alerts-Zq9x";
    let (origin, rx) = serve(|r| {
        let error = |code: u16, ntfy: u32, text: &str| {
            json_reply(
                code,
                json!({"code": ntfy, "http": code, "error": text, "link": "https://ntfy.sh/docs/publish/"}),
            )
        };
        // Publishing as JSON: POST to the root URL, the topic in the body.
        if r.method != "POST" || r.path() != "/" {
            return error(404, 40401, "page not found");
        }
        let Some(json) = r.json() else {
            return error(
                400,
                40017,
                "invalid request: request body must be message JSON",
            );
        };
        let topic = str_field(&json, "topic").unwrap_or_default();
        if topic.is_empty()
            || !topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return error(400, 40009, "invalid request: topic invalid");
        }
        if topic == "protected" {
            return error(403, 40301, "forbidden");
        }
        if !(1..=5).contains(&json["priority"].as_i64().unwrap_or(3)) {
            return error(400, 40007, "invalid priority");
        }
        let message = str_field(&json, "message").unwrap_or_default();
        if message.len() > 4096 {
            return error(413, 41301, "limit reached: message too large");
        }
        json_reply(
            200,
            json!({"id": "hwQ2YpKdmg", "event": "message", "topic": topic, "message": message}),
        )
    });
    let secrets = [("topic", TOPIC)];
    let out = send_log(&recipe_config("ntfy", &origin, &secrets), TITLE, LOG);
    assert_outcome(&out, DELIVERED, 0, &secrets);
    let r = next(&rx);
    let json = r.json().unwrap();
    assert_eq!(json["topic"], TOPIC);
    assert_eq!(json["title"], TITLE);
    assert_eq!(json["message"], LOG);
    assert_eq!(json["priority"], 4);
    assert_eq!(json["tags"], json!(["error"]));

    let secrets = [("topic", "protected")];
    let out = send_log(&recipe_config("ntfy", &origin, &secrets), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 403 Forbidden from {origin}: forbidden"
        ),
        78,
        &[],
    );
    next(&rx);

    let secrets = [("topic", TOPIC)];
    let long = "x".repeat(4097);
    let out = send_log(&recipe_config("ntfy", &origin, &secrets), TITLE, &long);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 413 Payload Too Large from {origin}: \
             limit reached: message too large"
        ),
        78,
        &secrets,
    );
}

#[test]
fn discord() {
    const HOOK: &str = "1234567890/Tok3n-abcDEF";
    let (origin, rx) = serve(|r| {
        let Some(hook) = r.path().strip_prefix("/api/webhooks/") else {
            return json_reply(404, json!({"message": "404: Not Found", "code": 0}));
        };
        if r.method != "POST" {
            return json_reply(
                405,
                json!({"message": "405: Method Not Allowed", "code": 0}),
            );
        }
        if hook != HOOK {
            return json_reply(
                401,
                json!({"message": "Invalid Webhook Token", "code": 50027}),
            );
        }
        let json = match json_body(r) {
            Ok(json) => json,
            Err(reply) => return reply,
        };
        let Some(content) = str_field(&json, "content") else {
            return json_reply(
                400,
                json!({"message": "Cannot send an empty message", "code": 50006}),
            );
        };
        if content.chars().count() > 2000 {
            return json_reply(
                400,
                json!({"content": ["Must be 2000 or fewer in length."]}),
            );
        }
        if r.query("wait").as_deref() == Some("true") {
            json_reply(200, json!({"id": "1", "type": 0, "content": content}))
        } else {
            reply(204, "")
        }
    });
    let secrets = [("hook", HOOK)];
    let out = send_log(&recipe_config("discord", &origin, &secrets), TITLE, LOG);
    assert_outcome(&out, DELIVERED, 0, &secrets);
    let json = next(&rx).json().unwrap();
    assert_eq!(json["content"], format!("{TITLE}\n```\n{LOG}\n```"));
    assert_eq!(json["allowed_mentions"], json!({"parse": []}));

    let long = "y".repeat(2000);
    let out = send_log(&recipe_config("discord", &origin, &secrets), TITLE, &long);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 400 Bad Request from {origin}/…: \
             content: Must be 2000 or fewer in length."
        ),
        78,
        &secrets,
    );
    next(&rx);

    let secrets = [("hook", "1234567890/wrong")];
    let out = send_log(&recipe_config("discord", &origin, &secrets), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 401 Unauthorized from {origin}/…: \
             Invalid Webhook Token"
        ),
        78,
        &secrets,
    );
}

#[test]
fn slack() {
    const HOOK: &str = "T0001/B0001/XXXXsecretXXXX";
    let (origin, rx) = serve(|r| {
        let Some(hook) = r.path().strip_prefix("/services/") else {
            return reply(404, "no_service");
        };
        if hook != HOOK {
            return reply(403, "invalid_token");
        }
        if r.method != "POST" {
            return reply(405, "invalid_method");
        }
        let Some(json) = r.json() else {
            return reply(400, "invalid_payload");
        };
        match str_field(&json, "text") {
            Some(text) if !text.is_empty() && text.chars().count() <= 40_000 => reply(200, "ok"),
            _ => reply(400, "no_text"),
        }
    });
    let secrets = [("hook", HOOK)];
    let out = send_log(&recipe_config("slack", &origin, &secrets), TITLE, LOG);
    assert_outcome(&out, DELIVERED, 0, &secrets);
    let r = next(&rx);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.json().unwrap()["text"],
        format!("{TITLE}\n```\n{LOG}\n```")
    );

    let secrets = [("hook", "T0001/B0001/revoked")];
    let out = send_log(&recipe_config("slack", &origin, &secrets), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 403 Forbidden from {origin}/…: invalid_token"
        ),
        78,
        &secrets,
    );
}

#[test]
fn telegram() {
    const TOKEN: &str = "123456789:AAE-secret_token";
    const CHAT: &str = "-1001234567890";
    let sent = Arc::new(Mutex::new(0));
    let count = sent.clone();
    let (origin, rx) = serve(move |r| {
        let error = |code: u16, description: &str| {
            json_reply(
                code,
                json!({"ok": false, "error_code": code, "description": description}),
            )
        };
        let Some(rest) = r.path().strip_prefix("/bot") else {
            return error(404, "Not Found");
        };
        let Some((token, "sendMessage")) = rest.split_once('/') else {
            return error(404, "Not Found");
        };
        if token != TOKEN {
            return error(401, "Unauthorized");
        }
        let json = match json_body(r) {
            Ok(json) => json,
            Err(reply) => return reply,
        };
        if json.get("parse_mode").is_some() {
            return error(400, "Bad Request: can't parse entities");
        }
        if str_field(&json, "chat_id") != Some(CHAT) {
            return error(400, "Bad Request: chat not found");
        }
        let Some(text) = str_field(&json, "text") else {
            return error(400, "Bad Request: message text is empty");
        };
        if text.chars().count() > 4096 {
            return error(400, "Bad Request: message is too long");
        }
        let mut sent = count.lock().unwrap();
        *sent += 1;
        if *sent > 1 {
            return json_reply(
                429,
                json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 14", "parameters": {"retry_after": 14}}),
            );
        }
        json_reply(
            200,
            json!({"ok": true, "result": {"message_id": 1, "text": text}}),
        )
    });
    let secrets = [("token", TOKEN), ("chat", CHAT)];
    let out = send_log(&recipe_config("telegram", &origin, &secrets), TITLE, LOG);
    assert_outcome(&out, DELIVERED, 0, &secrets);
    let json = next(&rx).json().unwrap();
    assert_eq!(json["text"], format!("{TITLE}\n\n{LOG}"));
    assert_eq!(json["chat_id"], CHAT);

    let out = send_log(&recipe_config("telegram", &origin, &secrets), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (temporary): HTTP 429 Too Many Requests from {origin}/…: \
             Too Many Requests: retry after 14; retry after 14 s"
        ),
        75,
        &secrets,
    );
    next(&rx);

    let long = "z".repeat(4097);
    let out = send_log(&recipe_config("telegram", &origin, &secrets), TITLE, &long);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 400 Bad Request from {origin}/…: \
             Bad Request: message is too long"
        ),
        78,
        &secrets,
    );
    next(&rx);

    let wrong = [("token", "123456789:AAE-wrong"), ("chat", CHAT)];
    let out = send_log(&recipe_config("telegram", &origin, &wrong), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 401 Unauthorized from {origin}/…: Unauthorized"
        ),
        78,
        &wrong,
    );
}

#[test]
fn matrix() {
    const ROOM: &str = "!AbCdEf:example.org";
    const TOKEN: &str = "syt_Ym90_secret";
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = events.clone();
    let (origin, rx) = serve(move |r| {
        let error = |code: u16, errcode: &str, text: &str| {
            json_reply(code, json!({"errcode": errcode, "error": text}))
        };
        let segments: Vec<&str> = r.path().split('/').collect();
        let [
            "",
            "_matrix",
            "client",
            "v3",
            "rooms",
            room,
            "send",
            "m.room.message",
            txn,
        ] = segments[..]
        else {
            return error(404, "M_UNRECOGNIZED", "Unrecognized request");
        };
        if r.method != "PUT" {
            return error(405, "M_UNRECOGNIZED", "Unrecognized request");
        }
        if r.header("Authorization") != Some(&format!("Bearer {TOKEN}")) {
            return error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
        }
        if percent_decode(room) != ROOM {
            return error(403, "M_FORBIDDEN", "User @bot:example.org not in room");
        }
        if r.body.len() > 65536 {
            return error(413, "M_TOO_LARGE", "event too large");
        }
        let json = match json_body(r) {
            Ok(json) => json,
            Err(reply) => return reply,
        };
        if str_field(&json, "msgtype") != Some("m.text") || str_field(&json, "body").is_none() {
            return error(400, "M_BAD_JSON", "msgtype and body required");
        }
        // The same transaction id again is the same event: nothing new is posted.
        let mut events = seen.lock().unwrap();
        let txn = percent_decode(txn);
        let index = match events.iter().position(|t| *t == txn) {
            Some(index) => index,
            None => {
                events.push(txn);
                events.len() - 1
            }
        };
        json_reply(200, json!({"event_id": format!("$event{index}")}))
    });
    let secrets = [("room", ROOM), ("token", TOKEN)];
    let dir = recipe_config("matrix", &origin, &secrets);
    // Two events in the same second are two messages (upstream would send the same TXN).
    for _ in 0..2 {
        assert_outcome(&send_log(&dir, TITLE, LOG), DELIVERED, 0, &secrets);
    }
    let (first, second) = (next(&rx), next(&rx));
    let txn = |r: &Received| r.path().rsplit('/').next().unwrap().to_string();
    assert!(
        txn(&first).starts_with("pve-1717416000-"),
        "{}",
        first.path()
    );
    assert_ne!(txn(&first), txn(&second));
    assert_eq!(events.lock().unwrap().len(), 2);
    assert_eq!(first.json().unwrap()["body"], format!("{TITLE}\n\n{LOG}"));

    let wrong = [("room", ROOM), ("token", "syt_wrong")];
    let out = send_log(&recipe_config("matrix", &origin, &wrong), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 401 Unauthorized from {origin}/…: \
             M_UNKNOWN_TOKEN: Invalid access token passed."
        ),
        78,
        &wrong,
    );
    next(&rx);

    let long = "m".repeat(70_000);
    let out = send_log(&dir, TITLE, &long);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 413 Payload Too Large from {origin}/…: \
             M_TOO_LARGE: event too large"
        ),
        78,
        &secrets,
    );
}

#[test]
fn teams() {
    const SIG: &str = "sIgNaTuRe-0123456789_abc";
    let (origin, rx) = serve(|r| {
        let unauthorized = || {
            json_reply(
                401,
                json!({"error": {"code": "DirectApiInvalidSignature", "message": "The request signature is not valid."}}),
            )
        };
        if !r.path().starts_with("/workflows/")
            || !r.path().ends_with("/triggers/manual/paths/invoke")
        {
            return json_reply(
                404,
                json!({"error": {"code": "WorkflowNotFound", "message": "The workflow could not be found."}}),
            );
        }
        if r.query("sig").as_deref() != Some(SIG)
            || r.query("sp").as_deref() != Some("/triggers/manual/run")
        {
            return unauthorized();
        }
        let json = match json_body(r) {
            Ok(json) => json,
            Err(reply) => return reply,
        };
        let card = &json["attachments"][0];
        if json["type"] != "message"
            || card["contentType"] != "application/vnd.microsoft.card.adaptive"
            || card["content"]["type"] != "AdaptiveCard"
            || r.body.len() > 28 * 1024
        {
            return json_reply(
                400,
                json!({"error": {"code": "InvalidRequestContent", "message": "The request content is not valid."}}),
            );
        }
        reply(202, "")
    });
    let secrets = [("sig", SIG)];
    let out = send_log(&recipe_config("teams", &origin, &secrets), TITLE, LOG);
    assert_outcome(&out, DELIVERED, 0, &secrets);
    let json = next(&rx).json().unwrap();
    let blocks = &json["attachments"][0]["content"]["body"];
    assert_eq!(blocks[0]["text"], TITLE);
    assert_eq!(blocks[1]["text"], LOG);

    let wrong = [("sig", "forged")];
    let out = send_log(&recipe_config("teams", &origin, &wrong), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 401 Unauthorized from {origin}/…: \
             DirectApiInvalidSignature: The request signature is not valid."
        ),
        78,
        &wrong,
    );
}

#[test]
fn pushover() {
    const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
    const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
    let (origin, rx) = serve(|r| {
        let error = |field: &str, text: &str| {
            json_reply(
                400,
                json!({field: "invalid", "errors": [text], "status": 0, "request": "5042853c"}),
            )
        };
        if r.path() != "/1/messages.json" || r.method != "POST" {
            return json_reply(404, json!({"errors": ["not found"], "status": 0}));
        }
        let json = match json_body(r) {
            Ok(json) => json,
            Err(reply) => return reply,
        };
        if str_field(&json, "token") != Some(TOKEN) {
            return error("token", "application token is invalid");
        }
        if str_field(&json, "user") != Some(USER) {
            return error(
                "user",
                "user identifier is not a valid user, group, or subscribed user key",
            );
        }
        let message = str_field(&json, "message").unwrap_or_default();
        if message.is_empty() {
            return error("message", "message cannot be blank");
        }
        if message.chars().count() > 1024 {
            return error("message", "message cannot be longer than 1024 characters");
        }
        if str_field(&json, "title")
            .unwrap_or_default()
            .chars()
            .count()
            > 250
        {
            return error("title", "title cannot be longer than 250 characters");
        }
        if !json["priority"].is_i64() {
            return error("priority", "priority is invalid");
        }
        json_reply(200, json!({"status": 1, "request": "647d2300"}))
    });
    let secrets = [("token", TOKEN), ("user", USER)];
    let out = send_log(&recipe_config("pushover", &origin, &secrets), TITLE, LOG);
    assert_outcome(&out, DELIVERED, 0, &secrets);
    let json = next(&rx).json().unwrap();
    assert_eq!(json["title"], TITLE);
    assert_eq!(json["message"], LOG);
    assert_eq!(json["priority"], 1);

    let long = "p".repeat(1025);
    let out = send_log(&recipe_config("pushover", &origin, &secrets), TITLE, &long);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 400 Bad Request from {origin}/…: \
             message cannot be longer than 1024 characters"
        ),
        78,
        &secrets,
    );
    next(&rx);

    let wrong = [("token", TOKEN), ("user", "uWRONG")];
    let out = send_log(&recipe_config("pushover", &origin, &wrong), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (configuration): HTTP 400 Bad Request from {origin}/…: \
             user identifier is not a valid user, group, or subscribed user key"
        ),
        78,
        &wrong,
    );
}

#[test]
fn home_assistant() {
    const ID: &str = "pve-notify-3f9a";
    let triggered: Arc<Mutex<Vec<Value>>> = Arc::default();
    let automation = triggered.clone();
    let (origin, rx) = serve(move |r| {
        // Home Assistant answers 200 with an empty body whatever happens.
        if let Some(id) = r.path().strip_prefix("/api/webhook/")
            && id == ID
            && r.method == "POST"
            && let Some(json) = r.json()
        {
            automation.lock().unwrap().push(json);
        }
        reply(200, "")
    });
    let secrets = [("id", ID)];
    let out = send_log(
        &recipe_config("home-assistant", &origin, &secrets),
        TITLE,
        LOG,
    );
    assert_outcome(&out, DELIVERED, 0, &secrets);
    next(&rx);
    let json = triggered
        .lock()
        .unwrap()
        .pop()
        .expect("automation triggered");
    assert_eq!(json["title"], TITLE);
    assert_eq!(json["message"], LOG);
    assert_eq!(json["severity"], "error");
    assert_eq!(json["timestamp"], 1717416000);
    assert_eq!(json["fields"]["type"], "vzdump");

    // An unknown id is "delivered" too: the answer cannot tell (README).
    let wrong = [("id", "no-such-hook")];
    let out = send_log(
        &recipe_config("home-assistant", &origin, &wrong),
        TITLE,
        LOG,
    );
    assert_outcome(&out, DELIVERED, 0, &wrong);
    next(&rx);
    assert!(triggered.lock().unwrap().is_empty());
}

#[test]
fn apprise() {
    let (origin, rx) = serve(|r| {
        let Some(key) = r.path().strip_prefix("/notify/") else {
            return reply(404, "Not Found");
        };
        let json = match json_body(r) {
            Ok(json) => json,
            Err(reply) => return reply,
        };
        let types = ["info", "success", "warning", "failure"];
        if str_field(&json, "body").is_none_or(str::is_empty)
            || !types.contains(&str_field(&json, "type").unwrap_or_default())
        {
            return reply(400, "Bad FORM Payload provided.");
        }
        match key {
            "pve" => reply(200, "Notification(s) sent."),
            "broken" => reply(424, "One or more notification could not be sent."),
            _ => reply(204, ""),
        }
    });
    let secrets = [("key", "pve")];
    let out = send_log(&recipe_config("apprise", &origin, &secrets), TITLE, LOG);
    assert_outcome(&out, DELIVERED, 0, &secrets);
    let json = next(&rx).json().unwrap();
    assert_eq!(json["title"], TITLE);
    assert_eq!(json["body"], LOG);
    assert_eq!(json["type"], "failure");
    assert_eq!(json["format"], "text");

    let broken = [("key", "broken")];
    let out = send_log(&recipe_config("apprise", &origin, &broken), TITLE, LOG);
    assert_outcome(
        &out,
        &format!(
            "hook (webhook): failed (temporary): HTTP 424 Failed Dependency from {origin}/…: \
             One or more notification could not be sent."
        ),
        75,
        &[],
    );
}

// ---------------------------------------------------------------------------------------
// Reading answers (recipes.md §2)

const SECRET: &str = "s3cr3t-T0ken";

/// A plain webhook `hook` to `ORIGIN/hook/{{ secrets.token }}` whose server gives `answer`.
fn answered(answer: Reply) -> (Output, String) {
    let answer = Arc::new(Mutex::new(Some(answer)));
    let (origin, rx) = serve(move |_| answer.lock().unwrap().take().expect("one request"));
    let dir = ConfigDir::new(&format!(
        "webhook: hook\n\tmethod post\n\turl {origin}/hook/{{{{ secrets.token }}}}\n\
         \tbody {}\n\n\
         matcher: default-matcher\n\tdisable true\n\nmatcher: everything\n\ttarget hook\n",
        b64("{{ escape message }}")
    ));
    dir.write(
        "priv/notifications.cfg",
        &format!("webhook: hook\n\tsecret name=token,value={}\n", b64(SECRET)),
    );
    let out = send_log(&dir, "t", "b");
    next(&rx);
    (out, origin)
}

fn check_answer(answer: Reply, expected: &str, status: i32) {
    let (out, origin) = answered(answer);
    let line = format!("hook (webhook): {}", expected.replace("ORIGIN", &origin));
    assert_outcome(&out, &line, status, &[("token", SECRET)]);
    let text = stderr_of(&out);
    assert!(!text.contains("/hook/"), "{text}");
}

#[test]
fn ok_false_in_a_200_is_a_failure() {
    check_answer(
        json_reply(
            200,
            json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
        ),
        "failed (configuration): HTTP 200 OK from ORIGIN/…, but the service reports a failure: \
         Forbidden: bot was blocked by the user",
        78,
    );
}

#[test]
fn status_0_with_errors_in_a_200_is_a_failure() {
    check_answer(
        json_reply(
            200,
            json!({"status": 0, "errors": ["application token is invalid"], "token": "invalid"}),
        ),
        "failed (configuration): HTTP 200 OK from ORIGIN/…, but the service reports a failure: \
         application token is invalid",
        78,
    );
}

#[test]
fn error_bodies_per_status_class() {
    check_answer(
        reply(404, "no_service"),
        "failed (configuration): HTTP 404 Not Found from ORIGIN/…: no_service",
        78,
    );
    check_answer(
        json_reply(
            422,
            json!({"message": "Unprocessable: field 'text' missing"}),
        ),
        "failed (configuration): HTTP 422 Unprocessable Entity from ORIGIN/…: Unprocessable: field 'text' missing",
        78,
    );
    check_answer(
        json_reply(503, json!({"error": "down for maintenance"})),
        "failed (temporary): HTTP 503 Service Unavailable from ORIGIN/…: down for maintenance",
        75,
    );
    check_answer(
        reply(408, "request timeout"),
        "failed (temporary): HTTP 408 Request Timeout from ORIGIN/…: request timeout",
        75,
    );
}

#[test]
fn a_429_names_the_retry_after() {
    check_answer(
        Reply(
            429,
            vec![("Retry-After", "30".to_string())],
            "rate limited".to_string(),
        ),
        "failed (temporary): HTTP 429 Too Many Requests from ORIGIN/…: rate limited; retry after 30 s",
        75,
    );
    check_answer(
        json_reply(
            429,
            json!({"message": "You are being rate limited.", "retry_after": 1.25, "global": false}),
        ),
        "failed (temporary): HTTP 429 Too Many Requests from ORIGIN/…: You are being rate limited.; retry after 2 s",
        75,
    );
}

#[test]
fn a_secret_echoed_in_an_error_body_is_masked() {
    check_answer(
        json_reply(
            401,
            json!({"error": format!("token {SECRET} is not valid for POST /hook/{SECRET}")}),
        ),
        "failed (configuration): HTTP 401 Unauthorized from ORIGIN/…: token <masked> is not valid for POST <masked>",
        78,
    );
}

#[test]
fn an_overlong_error_text_is_cut_at_200_characters() {
    let text = "0123456789".repeat(30);
    let (out, origin) = answered(json_reply(400, json!({"description": text})));
    let stderr = stderr_of(&out);
    let prefix =
        format!("hook (webhook): failed (configuration): HTTP 400 Bad Request from {origin}/…: ");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(line, &text[..200]);
}
