//! Reports: an evaluation's `Report` as JSON (one object, the contract of
//! `spec/report.md`) or as text for a person. Formatting only: every
//! decision was taken by `eval`.

pub mod human;
pub mod json;
