#![no_main]
//! Every report format on arbitrary bytes (the first byte picks the format): every record
//! ends as a report, a rejection or a skip, and nothing panics.
use libfuzzer_sys::fuzz_target;
use pledgewatch::engine::report::{Format, Item, read_bytes};

const FORMATS: [Format; 5] = [Format::Toml, Format::Json, Format::JsonLines, Format::Markdown, Format::Gdelt];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let format = FORMATS[usize::from(first) % FORMATS.len()];
    read_bytes(std::path::Path::new("fuzz"), format, rest, &mut |item| {
        if let Item::Report(r) = item {
            assert!(!r.actors.is_empty());
            assert!(!r.id.is_empty());
        }
    });
});
