//! Country codes and names for the event datasets (docs/reference.md, "Event datasets"):
//! ACLED gives ISO numeric codes and names inside actor names, UCDP Gleditsch–Ward
//! numbers, ICEWS and POLECAT English names. The table (`data/countries.tsv`: ISO 3166
//! alpha-3, ISO numeric, Gleditsch–Ward number, short and official English name) is
//! compiled in; every lookup answers with the alpha-3 code the rules use.

use crate::engine::matcher::normalize;
use aho_corasick::AhoCorasick;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One row of the table.
struct Country {
    alpha3: &'static str,
    numeric: Option<u16>,
    gw: Option<u16>,
}

/// The table and its indexes, built once.
struct Table {
    rows: Vec<Country>,
    /// Folded `name` and `official_name` -> row.
    by_name: HashMap<String, usize>,
    /// Every folded name, for finding names inside text; `names[i]` belongs to
    /// `name_rows[i]`.
    names: Option<AhoCorasick>,
    name_rows: Vec<usize>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = Vec::new();
        let mut by_name = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut name_rows = Vec::new();
        for line in include_str!("../../../data/countries.tsv").lines().skip(1) {
            let cols: Vec<&'static str> = line.split('\t').collect();
            let [alpha3, numeric, gw, name, official] = cols[..] else {
                continue;
            };
            let row = rows.len();
            rows.push(Country {
                alpha3,
                numeric: numeric.parse().ok(),
                gw: gw.parse().ok(),
            });
            for n in [name, official] {
                let key = folded(n);
                if by_name.insert(key.clone(), row).is_none() {
                    patterns.push(key);
                    name_rows.push(row);
                }
            }
        }
        // The names are a fixed, small set: building cannot fail on them (a failure would
        // only leave names inside text unfound).
        let names = AhoCorasick::new(&patterns).ok();
        Table {
            rows,
            by_name,
            names,
            name_rows,
        }
    })
}

/// Case folded, white space runs as one space, trimmed.
fn folded(text: &str) -> String {
    let mut out = String::new();
    normalize(text.trim(), &mut out);
    out
}

/// A number written as digits (a trailing `.0`, as spreadsheets write it, allowed).
fn number(text: &str) -> Option<u16> {
    let text = text.trim();
    let text = text.strip_suffix(".0").unwrap_or(text);
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The alpha-3 code of a code of the table ("KGZ", any case), or `None`.
pub fn by_alpha3(code: &str) -> Option<&'static str> {
    let code = code.trim();
    table()
        .rows
        .iter()
        .find(|c| c.alpha3.eq_ignore_ascii_case(code))
        .map(|c| c.alpha3)
}

/// The alpha-3 code of an ISO 3166 numeric code ("417" -> "KGZ").
pub fn by_numeric(code: &str) -> Option<&'static str> {
    let n = number(code)?;
    table()
        .rows
        .iter()
        .find(|c| c.numeric == Some(n))
        .map(|c| c.alpha3)
}

/// The alpha-3 code of a Gleditsch–Ward number ("703" -> "KGZ").
pub fn by_gw(code: &str) -> Option<&'static str> {
    let n = number(code)?;
    table()
        .rows
        .iter()
        .find(|c| c.gw == Some(n))
        .map(|c| c.alpha3)
}

/// The alpha-3 code of a country whose short or official name equals `name`
/// (case-insensitively, white space runs folded).
pub fn by_name(name: &str) -> Option<&'static str> {
    let t = table();
    t.by_name.get(&folded(name)).map(|&row| t.rows[row].alpha3)
}

/// The alpha-3 codes of every country named in `text` as a phrase on word boundaries
/// (the matching of `keywords`), in order of appearance, without repeats. A name found
/// only inside a longer name found at the same place does not count: "South Sudan" is not
/// also Sudan, "Democratic Republic of the Congo" not also the Republic of the Congo.
pub fn named_in(text: &str, out: &mut Vec<&'static str>) {
    let t = table();
    let Some(names) = &t.names else { return };
    let hay = folded(text);
    let mut found: Vec<(usize, usize, usize)> = names
        .find_overlapping_iter(&hay)
        .filter(|m| on_word_boundaries(&hay, m.start(), m.end()))
        .map(|m| (m.start(), m.end(), t.name_rows[m.pattern().as_usize()]))
        .collect();
    // longest first at each start, so that a contained match sees its container first
    found.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for (s, e, row) in found {
        if kept.iter().any(|&(ks, ke)| ks <= s && e <= ke) {
            continue;
        }
        kept.push((s, e));
        let code = t.rows[row].alpha3;
        if !out.contains(&code) {
            out.push(code);
        }
    }
}

fn on_word_boundaries(hay: &str, start: usize, end: usize) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let before = hay[..start].chars().next_back();
    let after = hay[end..].chars().next();
    let first = hay[start..].chars().next();
    let last = hay[..end].chars().next_back();
    let joined_before = first.is_some_and(is_word) && before.is_some_and(is_word);
    let joined_after = last.is_some_and(is_word) && after.is_some_and(is_word);
    !joined_before && !joined_after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(text: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        named_in(text, &mut out);
        out
    }

    #[test]
    fn codes_by_every_path() {
        assert_eq!(by_numeric("417"), Some("KGZ"));
        assert_eq!(by_numeric("762"), Some("TJK"));
        assert_eq!(by_numeric("004"), Some("AFG"), "leading zeros");
        assert_eq!(by_numeric("417.0"), Some("KGZ"));
        assert_eq!(by_numeric("999"), None);
        assert_eq!(by_numeric("KGZ"), None);
        assert_eq!(by_gw("703"), Some("KGZ"));
        assert_eq!(by_gw(" 702 "), Some("TJK"));
        assert_eq!(by_gw("999"), None);
        assert_eq!(by_alpha3("kgz"), Some("KGZ"));
        assert_eq!(by_alpha3("XYZ"), None);
        assert_eq!(by_name("Kyrgyzstan"), Some("KGZ"));
        assert_eq!(by_name("kyrgyz  REPUBLIC"), Some("KGZ"), "official, folded");
        assert_eq!(by_name("Republic of Tajikistan"), Some("TJK"));
        assert_eq!(by_name("Côte d'Ivoire"), Some("CIV"));
        assert_eq!(
            by_name("CÔTE D'IVOIRE"),
            Some("CIV"),
            "non-ASCII case folding"
        );
        assert_eq!(by_name("Kyrgyz"), None, "a part of a name is not the name");
        assert_eq!(by_name("Atlantis"), None);
    }

    #[test]
    fn names_inside_actor_names() {
        assert_eq!(named("Military Forces of Kyrgyzstan (2021-)"), ["KGZ"]);
        assert_eq!(named("Rioters (Tajikistan)"), ["TJK"]);
        assert_eq!(
            named("Military Forces of Tajikistan (1994-) Border Service; Civilians (Kyrgyzstan)"),
            ["TJK", "KGZ"]
        );
        assert_eq!(named("Kyrgyz Frontier Force"), Vec::<&str>::new());
        assert_eq!(named("Tajikistani"), Vec::<&str>::new(), "word boundaries");
    }

    #[test]
    fn names_that_contain_other_names() {
        assert_eq!(named("Military Forces of South Sudan"), ["SSD"]);
        assert_eq!(named("Police Forces of Sudan"), ["SDN"]);
        assert_eq!(named("Government of Guinea-Bissau"), ["GNB"]);
        assert_eq!(named("Government of Papua New Guinea"), ["PNG"]);
        assert_eq!(
            named("Rioters (Nigeria)"),
            ["NGA"],
            "Niger is not inside Nigeria"
        );
        assert_eq!(named("Rioters (Niger)"), ["NER"]);
        assert_eq!(named("Democratic Republic of the Congo"), ["COD"]);
        assert_eq!(named("Republic of the Congo"), ["COG"]);
        assert_eq!(named("Dominican Republic and Dominica"), ["DOM", "DMA"]);
        assert_eq!(named("Sudan and South Sudan"), ["SDN", "SSD"]);
    }
}
