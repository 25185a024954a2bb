//! Facts: the candidacy and registry files, parsed (JSON, YAML, NDJSON) into
//! a spanned tree, then read against the policy's declared shape.

pub mod json;
pub mod tree;
pub mod typed;
pub mod yaml;

use crate::source::Source;
use std::cell::RefCell;
use std::sync::OnceLock;
use std::thread::LocalKey;
use tree::{Limits, Tree};

/// What `slot` holds for this thread, left there by its last document
/// (empty when none is, or when it is in use or being torn down).
pub(crate) fn take_kept<T: Default>(slot: &'static LocalKey<RefCell<T>>) -> T {
    slot.try_with(|k| k.try_borrow_mut().map(|mut k| std::mem::take(&mut *k)).ok())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Leave `value` in `slot` for this thread's next document.
pub(crate) fn keep<T>(slot: &'static LocalKey<RefCell<T>>, value: T) {
    let _ = slot.try_with(|k| k.try_borrow_mut().map(|mut k| *k = value));
}

/// A document kept for its text, its tree parsed again only when asked
/// for. The registry is one: evaluation reads the values typed from it,
/// its tree is needed only to point a diagnostic into it, and keeping the
/// tree for the whole run would double the registry's memory. Parsing is
/// deterministic: the nodes are those the values were read from.
#[derive(Debug)]
pub struct Reparsed {
    pub source: Source,
    yaml: bool,
    limits: Limits,
    tree: OnceLock<Option<Tree>>,
}

impl Reparsed {
    pub fn new(source: Source, yaml: bool, limits: Limits) -> Reparsed {
        Reparsed {
            source,
            yaml,
            limits,
            tree: OnceLock::new(),
        }
    }

    /// The tree, parsed on the first call.
    pub fn tree(&self) -> Option<&Tree> {
        self.tree
            .get_or_init(|| {
                let text = &self.source.text;
                if self.yaml {
                    yaml::parse_yaml(text, &self.limits).ok()
                } else {
                    json::parse_json(text, 0, &self.limits).ok()
                }
            })
            .as_ref()
    }
}
