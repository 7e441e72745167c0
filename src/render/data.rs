//! The data every template gets besides its own (templates.md §1): `hostname`, `fqdn`
//! and, from corosync.conf, `cluster-name`, each only where the data lacks it.

use serde_json::{Map, Value};

/// Adds the common keys that `data` does not have yet.
pub fn add_common(
    data: &mut Map<String, Value>,
    hostname: &str,
    fqdn: &str,
    cluster_name: Option<&str>,
) {
    let common = [
        ("hostname", Some(hostname)),
        ("fqdn", Some(fqdn)),
        ("cluster-name", cluster_name),
    ];
    for (key, value) in common {
        if let Some(value) = value
            && !data.contains_key(key)
        {
            data.insert(key.to_string(), Value::String(value.to_string()));
        }
    }
}

/// `cluster_name` of the top-level `totem { … }` section of a corosync.conf text.
pub fn corosync_cluster_name(text: &str) -> Option<String> {
    let mut sections: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(name) = line.strip_suffix('{') {
            sections.push(name.trim());
        } else if line == "}" {
            sections.pop();
        } else if sections == ["totem"]
            && let Some((key, value)) = line.split_once(':')
            && key.trim() == "cluster_name"
        {
            let value = value.trim();
            return (!value.is_empty()).then(|| value.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn common_keys_are_added_where_absent() {
        let mut data = json!({"hostname": "given", "x": 1})
            .as_object()
            .unwrap()
            .clone();
        add_common(&mut data, "pve1", "pve1.example.com", Some("prod"));
        assert_eq!(
            Value::Object(data),
            json!({"hostname": "given", "x": 1, "fqdn": "pve1.example.com", "cluster-name": "prod"})
        );
        let mut data = Map::new();
        add_common(&mut data, "pve1", "pve1", None);
        assert_eq!(
            Value::Object(data),
            json!({"hostname": "pve1", "fqdn": "pve1"})
        );
    }

    #[test]
    fn cluster_name_from_the_totem_section_only() {
        let conf = "\
logging {
  debug: off
  cluster_name: not-this
}

nodelist {
  node {
    name: pve1
  }
}

totem {
  # cluster_name: commented
  config_version: 3
  interface {
    cluster_name: nested
    linknumber: 0
  }
  cluster_name: prod-cluster
  ip_version: ipv4-6
}
";
        assert_eq!(corosync_cluster_name(conf).as_deref(), Some("prod-cluster"));
        assert_eq!(corosync_cluster_name("totem {\n}\n"), None);
        assert_eq!(corosync_cluster_name(""), None);
    }
}
