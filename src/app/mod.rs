//! The composition root: what assembles every domain's state, routes and background work
//! into one server (configuration, the shared state, the router and its edge layers, the
//! OpenAPI document, the embedded UI, the demo). Domains stand on `platform`; only this
//! module knows them all.

pub mod config;
pub mod demo;
pub mod headers;
mod health;
mod openapi;
pub mod server;
pub mod state;
pub mod web;

pub use openapi::ApiDoc;

#[cfg(test)]
mod tests {
    use std::{fs, path::Path};

    /// `platform` is the ground every domain stands on: it names none of them (nor `app`),
    /// so a domain can never become something the ground depends on.
    #[test]
    fn platform_imports_no_domain() {
        assert_eq!(
            modules_named_in("platform", &["platform"]),
            Vec::<String>::new()
        );
    }

    /// A simulator speaks its service's wire format and nothing of the hub's: sharing the
    /// client's types or signing code would mirror a mistake instead of catching it.
    #[test]
    fn simulators_share_nothing_with_the_domains() {
        let allowed = ["platform", "simulators"];
        assert_eq!(
            modules_named_in("simulators", &allowed),
            Vec::<String>::new()
        );
    }

    /// Chatwoot's integration feeds the domains through consumers and hooks `app`
    /// registers (ADR 20); it calls none of them itself.
    #[test]
    fn chatwoot_calls_no_consumer_of_its_events() {
        let allowed = [
            "app",
            "audit",
            "auth",
            "chatwoot",
            "entitlements",
            "inbound",
            "platform",
            "realtime",
            "simulators",
            "tenancy",
        ];
        assert_eq!(modules_named_in("chatwoot", &allowed), Vec::<String>::new());
    }

    /// Which top-level modules other than `allowed` the files under `src/<dir>` name.
    fn modules_named_in(dir: &str, allowed: &[&str]) -> Vec<String> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let modules: Vec<String> = fs::read_dir(&src)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter_map(|path| Some(path.file_stem()?.to_str()?.to_string()))
            .filter(|name| !["lib", "main"].contains(&name.as_str()))
            .filter(|name| !allowed.contains(&name.as_str()))
            .collect();
        assert!(modules.contains(&"kanban".to_string()), "{modules:?}");
        let mut named = Vec::new();
        let mut pending = vec![src.join(dir)];
        while let Some(dir) = pending.pop() {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let text = fs::read_to_string(&path).unwrap();
                for root in crate_roots(&text) {
                    if modules.contains(&root) {
                        named.push(format!("{} names {root}", path.display()));
                    }
                }
            }
        }
        named
    }

    /// The first segment of every path that starts at `crate::`, inside `use` trees too:
    /// `crate::{a::b, c}` names `a` and `c`.
    fn crate_roots(text: &str) -> Vec<String> {
        let mut roots = Vec::new();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            if let Some(tree) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut item_start = true;
                let mut word = String::new();
                for c in tree.chars() {
                    if item_start && (c.is_alphanumeric() || c == '_') {
                        word.push(c);
                        continue;
                    }
                    if !word.is_empty() {
                        roots.push(std::mem::take(&mut word));
                        item_start = false;
                    }
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        _ => {}
                    }
                }
            } else {
                let word: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                roots.push(word);
            }
        }
        roots
    }

    #[test]
    fn crate_roots_reads_use_trees() {
        let text = "use crate::{a::{b, c}, d, e as f};\nlet x = crate::g::h();";
        assert_eq!(crate_roots(text), ["a", "d", "e", "g"]);
    }
}
