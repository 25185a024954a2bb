//! regle: a declarative policy language and its interpreter.
//!
//! The pipeline, one module a stage: `syntax` (text to spanned AST) →
//! `check` (names, types, tables, facts shape → IR) → `eval` (facts and an
//! evaluation date → a report) → `report` (human, JSON, NDJSON). Every stage
//! returns data; only `render` and the binary print.

pub mod alloc;
pub mod batch;
pub mod check;
pub mod cli;
pub mod diag;
pub mod eval;
pub mod facts;
pub mod ir;
pub mod render;
pub mod report;
pub mod source;
mod swar;
pub mod syntax;
pub mod version;
