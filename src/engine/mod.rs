//! The functional core: everything that decides, nothing that touches the world. No
//! tokio, no file system, no clock (the `engine_is_pure` test greps for them): the as-of
//! date and the reports' bytes are arguments.
//!
//! Rules ([`rules`]) say what each commitment expects; reports ([`report`]) are parsed
//! from bytes; [`matcher`] compiles every rule into one automaton and finds each report's
//! evidence, talk and breaches; [`evaluate`] applies docs/reference.md, Statuses at one date and [`history`]
//! at every date; [`replay`] reduces reports to what evaluation needs, [`tally`] is the
//! daemon's daily count of them; [`marks`] are the reports a timeline shows; [`alert`]
//! decides which status changes make an alert.

pub(crate) mod alert;
pub mod dates;
pub mod evaluate;
pub(crate) mod explain;
pub(crate) mod history;
pub(crate) mod marks;
pub mod matcher;
pub mod problem;
pub mod replay;
pub mod report;
pub mod rules;
pub(crate) mod ruletest;
pub mod schedule;
pub(crate) mod tally;
pub(crate) mod toml_fields;
