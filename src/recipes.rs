//! Webhook recipes for chat and push services (recipes.md §1): the one table the `recipe`
//! command prints from and `examples/recipes/` is generated from (tests/recipes.rs keeps
//! the examples current). Recipes use upstream syntax only, so the sections work in
//! Proxmox VE itself; the templates put every value into JSON strings with `escape` so
//! that any title and message arrive intact.

use base64::Engine;

use crate::config::Prop;

/// One service reached through a `webhook:` target.
#[derive(Debug)]
pub struct Recipe {
    /// The command's argument and the directory under `examples/recipes/`.
    pub name: &'static str,
    pub service: &'static str,
    pub method: &'static str,
    /// The URL template; the host is literal (upstream allows no template there).
    pub url: &'static str,
    /// Header names and value templates, in order.
    pub headers: &'static [(&'static str, &'static str)],
    pub body: &'static str,
    pub secrets: &'static [Placeholder],
    /// How much text the service takes.
    pub limit: &'static str,
    /// What the service answers, for success and failure.
    pub answers: &'static str,
}

/// A private secret with a stand-in value and where the real one comes from.
#[derive(Debug)]
pub struct Placeholder {
    pub name: &'static str,
    pub placeholder: &'static str,
    pub source: &'static str,
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

pub const RECIPES: &[Recipe] = &[
    Recipe {
        name: "ntfy",
        service: "ntfy",
        method: "post",
        url: "https://ntfy.sh/",
        headers: &[JSON],
        body: r#"{"topic": "{{ escape secrets.topic }}", "title": "{{ escape title }}", "message": "{{ escape message }}", "priority": {{#if (eq severity "error")}}4{{else}}3{{/if}}, "tags": ["{{ severity }}"]}"#,
        secrets: &[Placeholder {
            name: "topic",
            placeholder: "TOPIC",
            source: "the topic name (on ntfy.sh anyone who knows it can read it: make it long and random)",
        }],
        limit: "4096 bytes of message; a longer one becomes an attachment (ntfy.sh) or is refused with 413",
        answers: "200 with the message as JSON; errors as JSON with `error`: 400 (invalid topic), 401/403 (protected topic), 413 (too large), 429 (rate limit)",
    },
    Recipe {
        name: "discord",
        service: "Discord",
        method: "post",
        url: "https://discord.com/api/webhooks/{{ secrets.hook }}?wait=true",
        headers: &[JSON],
        body: r#"{"content": "{{ escape title }}\n```\n{{ escape message }}\n```", "allowed_mentions": {"parse": []}}"#,
        secrets: &[Placeholder {
            name: "hook",
            placeholder: "ID/TOKEN",
            source: "the last two parts of the webhook URL (Server Settings → Integrations → Webhooks → Copy Webhook URL)",
        }],
        limit: "2000 characters of content (title, message and 8 for the code block); longer is refused with 400",
        answers: "200 with the message as JSON (`?wait=true`); 400 naming the field, 401/404 for a wrong hook, 429 with `retry_after`",
    },
    Recipe {
        name: "slack",
        service: "Slack",
        method: "post",
        url: "https://hooks.slack.com/services/{{ secrets.hook }}",
        headers: &[JSON],
        body: r#"{"text": "{{ escape title }}\n```\n{{ escape message }}\n```"}"#,
        secrets: &[Placeholder {
            name: "hook",
            placeholder: "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            source: "the part of the incoming-webhook URL after /services/ (app settings → Incoming Webhooks)",
        }],
        limit: "40,000 characters; Slack cuts longer texts",
        answers: "200 with the text `ok`; errors are words: `invalid_payload`/`no_text` (400), `invalid_token`/`action_prohibited` (403), `no_service` (404), `channel_is_archived` (410); 429",
    },
    Recipe {
        name: "telegram",
        service: "Telegram",
        method: "post",
        url: "https://api.telegram.org/bot{{ secrets.token }}/sendMessage",
        headers: &[JSON],
        body: r#"{"chat_id": "{{ escape secrets.chat }}", "text": "{{ escape title }}\n\n{{ escape message }}"}"#,
        secrets: &[
            Placeholder {
                name: "token",
                placeholder: "123456789:BOT-TOKEN",
                source: "the bot token @BotFather gives for /newbot",
            },
            Placeholder {
                name: "chat",
                placeholder: "CHAT-ID",
                source: "the numeric chat id (\"chat\":{\"id\":…} in https://api.telegram.org/botTOKEN/getUpdates after writing to the bot) or @channelname",
            },
        ],
        limit: "4096 characters of text (title, message and 2); longer is refused with 400 `message is too long`",
        answers: "200 `{\"ok\":true,…}`; errors `{\"ok\":false,\"error_code\":N,\"description\":…}` with 400/401/403, 429 with `parameters.retry_after`",
    },
    Recipe {
        name: "matrix",
        service: "Matrix",
        method: "put",
        url: "https://matrix.example.org/_matrix/client/v3/rooms/{{ url-encode secrets.room }}/send/m.room.message/pve-{{ timestamp }}-{{ id }}",
        headers: &[JSON, ("Authorization", "Bearer {{ secrets.token }}")],
        body: r#"{"msgtype": "m.text", "body": "{{ escape title }}\n\n{{ escape message }}"}"#,
        secrets: &[
            Placeholder {
                name: "room",
                placeholder: "!ROOM-ID:example.org",
                source: "the internal room id (Element: Room settings → Advanced), not the #alias",
            },
            Placeholder {
                name: "token",
                placeholder: "ACCESS-TOKEN",
                source: "the access token of the (bot) account that is a member of the room (Element: Settings → Help & About → Access Token)",
            },
        ],
        limit: "65536 bytes per event (the whole event JSON); larger is refused with 413 `M_TOO_LARGE`",
        answers: "200 `{\"event_id\":…}`; errors `{\"errcode\":\"M_…\",\"error\":…}` with 400/401/403/404, 429 `M_LIMIT_EXCEEDED` with `retry_after_ms`",
    },
    Recipe {
        name: "teams",
        service: "Microsoft Teams (Workflows)",
        method: "post",
        url: "https://prod-00.westeurope.logic.azure.com:443/workflows/WORKFLOW-ID/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={{ secrets.sig }}",
        headers: &[JSON],
        body: r#"{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "{{ escape title }}", "weight": "Bolder", "size": "Medium", "wrap": true}, {"type": "TextBlock", "text": "{{ escape message }}", "fontType": "Monospace", "wrap": true}]}}]}"#,
        secrets: &[Placeholder {
            name: "sig",
            placeholder: "SIGNATURE",
            source: "the value of sig= at the end of the workflow's HTTP POST URL (the rest of that URL goes into url)",
        }],
        limit: "about 28 KB per message",
        answers: "202 Accepted and nothing else: the workflow runs later and may still fail (see its run history); 400 bad request, 401 wrong signature, 404 unknown workflow, 429",
    },
    Recipe {
        name: "pushover",
        service: "Pushover",
        method: "post",
        url: "https://api.pushover.net/1/messages.json",
        headers: &[JSON],
        body: r#"{"priority": {{#if (eq severity "error")}}1{{else}}0{{/if}}, "token": "{{ escape secrets.token }}", "user": "{{ escape secrets.user }}", "title": "{{ escape title }}", "message": "{{ escape message }}"}"#,
        secrets: &[
            Placeholder {
                name: "token",
                placeholder: "APPLICATION-TOKEN",
                source: "the API token of an application you create at https://pushover.net/apps/build",
            },
            Placeholder {
                name: "user",
                placeholder: "USER-KEY",
                source: "your user (or group) key from the Pushover dashboard",
            },
        ],
        limit: "1024 characters of message, 250 of title; longer is refused with 400",
        answers: "200 `{\"status\":1,…}`; errors `{\"status\":0,\"errors\":[…]}` with 400, 429 when the monthly quota is used up",
    },
    Recipe {
        name: "home-assistant",
        service: "Home Assistant",
        method: "post",
        url: "https://homeassistant.local:8123/api/webhook/{{ secrets.id }}",
        headers: &[JSON],
        body: r#"{"title": "{{ escape title }}", "message": "{{ escape message }}", "severity": "{{ severity }}", "timestamp": {{ timestamp }}, "fields": {{ json fields }}}"#,
        secrets: &[Placeholder {
            name: "id",
            placeholder: "WEBHOOK-ID",
            source: "the webhook id of an automation with a Webhook trigger (Settings → Automations)",
        }],
        limit: "none of its own; what the automation does with the text decides",
        answers: "200 with an empty body, also for an unknown webhook id and when the automation fails",
    },
    Recipe {
        name: "apprise",
        service: "Apprise API",
        method: "post",
        url: "http://apprise.lan:8000/notify/{{ secrets.key }}",
        headers: &[JSON],
        body: r#"{"title": "{{ escape title }}", "body": "{{ escape message }}", "type": "{{#if (eq severity "error")}}failure{{else}}{{#if (eq severity "warning")}}warning{{else}}info{{/if}}{{/if}}", "format": "text"}"#,
        secrets: &[Placeholder {
            name: "key",
            placeholder: "CONFIG-KEY",
            source: "the key under which the Apprise API server stores the configuration (its web page /cfg/KEY)",
        }],
        limit: "that of each service Apprise notifies (Apprise splits or cuts for them)",
        answers: "200 when sent; 424 when a service behind Apprise failed; 204 when the key has no configuration (nothing sent, yet a 2xx)",
    },
];

/// The recipe for `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Recipe> {
    RECIPES.iter().find(|recipe| recipe.name == name)
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

impl Recipe {
    /// The `webhook:` section for `notifications.cfg`, as Proxmox VE writes it (header
    /// values and body base64-encoded), ending in an empty line.
    pub fn public_section(&self, target: &str) -> String {
        let mut text = format!(
            "webhook: {target}\n\t{} {}\n\t{} {}\n",
            Prop::Method,
            self.method,
            Prop::Url,
            self.url
        );
        for (name, value) in self.headers {
            text.push_str(&format!(
                "\t{} name={name},value={}\n",
                Prop::Header,
                base64(value)
            ));
        }
        text.push_str(&format!("\t{} {}\n\n", Prop::Body, base64(self.body)));
        text
    }

    /// The section for `priv/notifications.cfg` with the placeholders base64-encoded.
    pub fn private_section(&self, target: &str) -> String {
        let mut text = format!("webhook: {target}\n");
        for secret in self.secrets {
            text.push_str(&format!(
                "\t{} name={},value={}\n",
                Prop::Secret,
                secret.name,
                base64(secret.placeholder)
            ));
        }
        text.push('\n');
        text
    }

    /// The generated part of the recipe's README: what to fill in, the limit, the
    /// answers, and the values for the Proxmox VE web interface (which encodes them itself).
    pub fn readme_part(&self) -> String {
        let name = self.name;
        let mut text = format!(
            "## What to fill in\n\n\
             Add the target with `pvenotify recipe {name} --name TARGET` (or copy\n\
             `notifications.cfg` and `priv/notifications.cfg` of this directory), replace each\n\
             secret value in the private section by the base64 of the real value\n\
             (`printf '%s' 'VALUE' | base64 -w0`), and name the target in a matcher.\n\n"
        );
        for secret in self.secrets {
            text.push_str(&format!(
                "- `{}` (placeholder `{}`): {}\n",
                secret.name, secret.placeholder, secret.source
            ));
        }
        text.push_str(&format!(
            "\n## Size limit\n\n{}.\n\n## What the service answers\n\n{}.\n\n",
            self.limit, self.answers
        ));
        text.push_str(
            "## In the Proxmox VE web interface\n\n\
             Datacenter → Notifications → Add → Webhook, with these values in plain text:\n\n",
        );
        text.push_str(&format!(
            "- Method: `{}`\n- URL: `{}`\n",
            self.method.to_uppercase(),
            self.url
        ));
        for (name, value) in self.headers {
            text.push_str(&format!("- Header `{name}`: `{value}`\n"));
        }
        text.push_str(&format!("- Body:\n\n  ````\n  {}\n  ````\n\n", self.body));
        for secret in self.secrets {
            text.push_str(&format!(
                "- Secret `{}`: the real value (placeholder `{}`)\n",
                secret.name, secret.placeholder
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::http::Secrets;
    use crate::endpoints::template::{Renderer, template_data};
    use crate::notification::{Notification, Severity};

    /// A failed backup's log with everything that breaks hand-written JSON.
    fn event() -> Notification {
        let fields = [
            ("hostname".to_string(), "pve1".to_string()),
            ("type".to_string(), "vzdump".to_string()),
        ]
        .into_iter()
        .collect();
        Notification::new(
            "vzdump backup status (pve1): backup failed \"nightly\" ä",
            "ERROR: Backup of VM 100 failed - C:\\dump\t{{ x }}\r\n<script>\"ü\"</script>",
            Severity::Error,
            1717416000,
            fields,
        )
    }

    #[test]
    fn names_are_unique_and_every_body_renders_to_valid_json() {
        let mut names: Vec<&str> = RECIPES.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RECIPES.len());
        let event = event();
        for recipe in RECIPES {
            let secrets = recipe
                .secrets
                .iter()
                .map(|s| (s.name.to_string(), format!("{}\"\\", s.placeholder)))
                .collect();
            let data = template_data(&event, &secrets);
            let body = Renderer::new()
                .render(
                    crate::endpoints::template::Part::Body,
                    recipe.body,
                    &data,
                    &Secrets::default(),
                )
                .unwrap();
            let json: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{}: {e}: {body}", recipe.name));
            let text = json.to_string();
            assert!(
                text.contains("<script>\\\"ü\\\"</script>"),
                "{}",
                recipe.name
            );
        }
    }

    #[test]
    fn sections_are_base64_encoded_as_proxmox_ve_writes_them() {
        let recipe = find("slack").unwrap();
        assert_eq!(
            recipe.public_section("chat"),
            format!(
                "webhook: chat\n\tmethod post\n\turl https://hooks.slack.com/services/{{{{ secrets.hook }}}}\n\
                 \theader name=Content-Type,value=YXBwbGljYXRpb24vanNvbg==\n\tbody {}\n\n",
                base64(recipe.body)
            )
        );
        assert_eq!(
            recipe.private_section("chat"),
            format!(
                "webhook: chat\n\tsecret name=hook,value={}\n\n",
                base64("T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX")
            )
        );
        assert!(find("nope").is_none());
    }
}
