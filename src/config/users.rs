//! `user.cfg`: only the e-mail addresses of users, looked up as upstream does (config.md §5.1).

use std::collections::{BTreeMap, BTreeSet};

/// user id → address, for users whose deciding line has a non-empty field 6. The first
/// `user:` line of an id decides, even when a later line for the same id has an address.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut seen = BTreeSet::new();
    let mut addresses = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.first().map(|f| f.trim()) != Some("user") {
            continue;
        }
        let Some(user) = fields.get(1).map(|f| f.trim()) else {
            continue;
        };
        if !seen.insert(user.to_string()) {
            continue;
        }
        let address = fields.get(6).map(|f| f.trim()).unwrap_or_default();
        if !address.is_empty() {
            addresses.insert(user.to_string(), address.to_string());
        }
    }
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_rules() {
        let text = "\
user:root@pam:1:0:::root@example.com:::
user:alice@pve:1:0:Alice:Smith:alice@example.com:on call::
user:nomail@pve:1:0:::::
user:short@pve:1
user:nomail@pve:1:0:::late@example.com:::
user:alice@pve:1:0:::other@example.com:::
 user : spaced@pve :0:1234:::  spaced@example.com  :::
user:disabled@pve:0:1:::disabled@example.com:::
group:admins:root@pam,alice@pve::
token:root@pam!t:0:1::
acl:1:/:root@pam:Administrator:
user:Root@pam:1:0:::upper@example.com:::\r
";
        let users = parse(text);
        assert_eq!(
            users.get("root@pam").map(String::as_str),
            Some("root@example.com")
        );
        // The first line decides.
        assert_eq!(
            users.get("alice@pve").map(String::as_str),
            Some("alice@example.com")
        );
        assert_eq!(users.get("nomail@pve"), None);
        assert_eq!(users.get("short@pve"), None);
        // Fields are trimmed; enabled flag and expiry are not consulted.
        assert_eq!(
            users.get("spaced@pve").map(String::as_str),
            Some("spaced@example.com")
        );
        assert_eq!(
            users.get("disabled@pve").map(String::as_str),
            Some("disabled@example.com")
        );
        // Case-sensitive ids; CRLF ends are trimmed away with the field.
        assert_eq!(
            users.get("Root@pam").map(String::as_str),
            Some("upper@example.com")
        );
        assert_eq!(users.get("admins"), None);
        assert_eq!(users.len(), 5);
    }
}
