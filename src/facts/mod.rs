//! Facts: the candidacy and registry files, parsed (JSON, YAML, NDJSON) into
//! a spanned tree, then read against the policy's declared shape.

pub mod json;
pub mod tree;
pub mod typed;
pub mod yaml;
