//! The sessions shown in docs/writing-rules.md are real: each ```console block's command is
//! run again and must print exactly what the guide shows.

use super::*;

/// The `$ pledgewatch ...` blocks of a Markdown file: (command line, the output shown).
fn sessions(markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("```console\n") {
        let block = &rest[start + "```console\n".len()..];
        let end = block.find("```").expect("a closed console block");
        let (command, shown) = block[..end].split_once('\n').expect("a command line");
        out.push((command.to_string(), shown.to_string()));
        rest = &block[end + 3..];
    }
    out
}

#[test]
fn the_rule_writing_guide_shows_real_sessions() {
    let guide = std::fs::read_to_string(root().join("docs/writing-rules.md")).unwrap();
    let sessions = sessions(&guide);
    assert!(sessions.len() >= 6, "{} sessions", sessions.len());
    for (command, shown) in sessions {
        let args: Vec<&str> = command
            .strip_prefix("$ pledgewatch ")
            .unwrap_or_else(|| panic!("not a pledgewatch command: {command}"))
            .split_whitespace()
            .collect();
        let r = run(pledgewatch().args(&args));
        assert_eq!(r.code, 0, "{command}: {}", r.stderr);
        assert_eq!(
            r.stdout, shown,
            "{command}: the guide shows other output than the binary prints"
        );
    }
}

/// The text of the `## NAME` section of a Markdown file.
fn section<'a>(markdown: &'a str, name: &str) -> &'a str {
    let start = markdown
        .find(&format!("\n## {name}\n"))
        .unwrap_or_else(|| panic!("no section {name}"));
    let body = &markdown[start + name.len() + 5..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

/// docs/reference.md names every command the binary has, every key of the shipped config
/// (which shows them all), and every field of the JSON output: a new one cannot land
/// without its line in the reference.
#[test]
fn the_reference_names_every_command_config_key_and_json_field() {
    let reference = std::fs::read_to_string(root().join("docs/reference.md")).unwrap();
    let help = run(pledgewatch().arg("--help")).stdout;
    let commands: Vec<&str> = help
        .split_once("Commands:\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 8, "{commands:?}");
    let text = section(&reference, "Commands");
    for c in &commands {
        assert!(
            text.contains(&format!("pledgewatch {c} ")),
            "the reference's Commands section lacks `pledgewatch {c}`"
        );
    }
    let fetch = run(pledgewatch().args(["fetch", "--help"])).stdout;
    assert!(fetch.contains("gdelt") && text.contains("pledgewatch fetch gdelt"));

    // the shipped config, with its commented-out sections (Alertmanager, webhook) taken in
    let shipped = std::fs::read_to_string(root().join("config/pledgewatch.toml")).unwrap();
    let uncommented: Vec<String> = shipped
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.starts_with('[') => rest.to_string(),
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest.to_string()
            }
            _ => l.to_string(),
        })
        .collect();
    let config: toml::Table = toml::from_str(&uncommented.join("\n")).unwrap();
    let text = section(&reference, "Configuration");
    fn keys(table: &toml::Table, prefix: &str, out: &mut Vec<(String, String)>) {
        for (k, v) in table {
            match v {
                toml::Value::Table(t) => keys(t, &format!("{prefix}{k}."), out),
                _ => out.push((prefix.trim_end_matches('.').to_string(), k.clone())),
            }
        }
    }
    let mut all = Vec::new();
    keys(&config, "", &mut all);
    assert!(all.len() >= 20, "{all:?}");
    for (table, key) in all {
        let in_table = if table.is_empty() {
            text.split("\n[").next().unwrap()
        } else {
            let at = text
                .find(&format!("[{table}]\n"))
                .unwrap_or_else(|| panic!("the reference's Configuration lacks [{table}]"));
            let rest = &text[at..];
            &rest[..rest[1..].find("\n[").map_or(rest.len(), |i| i + 1)]
        };
        assert!(
            in_table.contains(&format!("\n{key} = ")),
            "the reference's Configuration lacks {table}.{key}"
        );
    }

    let (v, _) = replay_json(
        &root().join("rules"),
        &[&root().join("examples/reports")],
        "2026-01-01",
    );
    let text = section(&reference, "JSON output");
    let mut fields: Vec<String> = Vec::new();
    let mut add = |o: &serde_json::Value| {
        fields.extend(o.as_object().unwrap().keys().cloned());
    };
    add(&v);
    add(&v["reports"]);
    add(&v["agreements"][0]);
    add(commitment(&v, "military-cooperation"));
    add(&commitment(&v, "border-treaty-ratified")["parties"][0]);
    for f in fields {
        assert!(
            text.contains(&format!("\"{f}\"")),
            "the reference's JSON output lacks \"{f}\""
        );
    }
}
