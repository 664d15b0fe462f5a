//! Feeds that keep the inbox filled by themselves (docs/reference.md, The GDELT feed).
//!
//! A feed run fetches published event files, keeps the rows that concern the rules, and
//! writes them into the inbox the way a person would drop a file there: under a hidden
//! name first, then renamed. The daemon never knows where a file came from.
//!
//! - [`gdelt`]: the pure part of the GDELT 2.0 feed: slots, the file lists, the row
//!   filter and the record of done slots, with the decisions about them. No I/O, no clock.
//! - [`fetch`]: one run of `pledgewatch fetch gdelt`: lock, lists, downloads, checks,
//!   unpacking, the atomic write into the inbox and the state file.

pub(crate) mod fetch;
pub(crate) mod gdelt;
