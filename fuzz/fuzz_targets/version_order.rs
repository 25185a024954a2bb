//! Arbitrary bytes as two or three versions, one a line
//! (`version::parse`): no panic; when all parse, `Ord` is a total order
//! (antisymmetric, transitive), agrees with `Eq` and with `Hash`, and a
//! version re-parsed from its own text is equal to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regle::version::{parse, Version};
use std::cmp::Ordering;
use std::hash::{DefaultHasher, Hash, Hasher};

fn hash(v: &Version) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts: Vec<&str> = text.splitn(3, '\n').collect();
    let mut vs = Vec::new();
    for p in &parts {
        match parse(p) {
            Ok(v) => {
                assert_eq!(v.as_str(), *p, "as_str is the text as written");
                let again = parse(v.as_str()).expect("a version's own text parses");
                assert!(again == v && again.cmp(&v) == Ordering::Equal);
                vs.push(v);
            }
            Err(e) => assert!(!e.message.is_empty(), "an error says what is wrong"),
        }
    }
    if parts.len() < 2 || vs.len() != parts.len() {
        return;
    }
    for a in &vs {
        assert_eq!(a.cmp(a), Ordering::Equal, "reflexive: {a:?}");
        for b in &vs {
            let ab = a.cmp(b);
            assert_eq!(ab, b.cmp(a).reverse(), "antisymmetric: {a:?} {b:?}");
            assert_eq!(
                a == b,
                ab == Ordering::Equal,
                "Eq agrees with Ord: {a:?} {b:?}"
            );
            assert_eq!(a.partial_cmp(b), Some(ab), "PartialOrd agrees with Ord");
            if a == b {
                assert_eq!(hash(a), hash(b), "equal versions hash alike: {a:?} {b:?}");
            }
            for c in &vs {
                let bc = b.cmp(c);
                if ab != Ordering::Greater && bc != Ordering::Greater {
                    assert_ne!(
                        a.cmp(c),
                        Ordering::Greater,
                        "transitive: {a:?} <= {b:?} <= {c:?}"
                    );
                }
                if ab == Ordering::Equal && bc == Ordering::Equal {
                    assert_eq!(
                        a.cmp(c),
                        Ordering::Equal,
                        "transitive ==: {a:?} {b:?} {c:?}"
                    );
                }
            }
        }
    }
});
