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
