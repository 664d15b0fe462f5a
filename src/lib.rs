//! pledgewatch holds parties to what they declared.
//!
//! Data flows one way: **file → parse ([`report`]) → match ([`matcher`]) → ledger →
//! evaluate ([`evaluate`]) → alert**. Rules ([`rules`]) say what each commitment expects.
//! The core (rules, reports, matching, evaluation) is synchronous and pure: the as-of date
//! is an argument, never the clock, so every status can be reproduced and tested.
//!
//! The inbox is filled by people and by [`feed`]: `fetch gdelt` writes GDELT 2.0 rows into
//! it the way a person drops a file (hidden name, then a rename), so the daemon treats both
//! alike. The feed's decisions (slots, lists, filter, retries) are pure too
//! ([`feed::gdelt`]); downloads and files stay in [`feed::fetch`].

pub mod alert;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod dates;
pub mod evaluate;
pub mod feed;
pub mod history;
pub mod history_output;
pub mod html;
pub mod inbox;
pub mod ledger;
pub mod logging;
pub mod matcher;
pub mod output;
pub mod problem;
pub mod replay;
pub mod report;
pub mod rules;
pub mod schedule;
pub mod toml_fields;
