//! Software versions, as publishers write them, and how they are ordered.
//!
//! # Writing a version
//!
//! A version is one or more numbers separated by dots, optionally preceded
//! by `v` or `V`, optionally followed by a pre-release tag and by build
//! metadata:
//!
//! | Part            | Written as                                   | Examples                          |
//! |-----------------|----------------------------------------------|-----------------------------------|
//! | prefix          | `v` or `V` (optional)                        | `v5.1`, `V3.0.2`                  |
//! | release         | numbers separated by dots                    | `5`, `5.1`, `5.1.0`, `2024.10.3`  |
//! | pre-release tag | `-`, then identifiers separated by dots      | `3.0.2-b`, `1.0.0-rc.1`, `2.0-beta2` |
//! | build metadata  | `+`, then identifiers separated by dots      | `1.0.0+20240501`, `1.0-rc.1+build.5` |
//!
//! - The release has between 1 and 16 numbers. Each number is made of the
//!   digits `0` to `9` only, and is at most 18 digits long.
//! - An identifier (in a pre-release tag or in build metadata) is made of
//!   ASCII letters, digits and `-`, and cannot be empty.
//! - Nothing else is accepted. In particular these are errors: an empty
//!   text, whitespace anywhere (including around the version: ` 5.1` is
//!   rejected, not trimmed), letters in the release (`5.a`, `2.0beta2`; write
//!   `2.0-beta2`), two dots in a row (`5..1`), a trailing dot (`5.1.`), and a
//!   `-` or `+` with nothing after it (`1.0-`, `1.0+`).
//!
//! # Order
//!
//! Any two versions compare as exactly one of lower, equal or higher (a
//! total order), decided as follows:
//!
//! 1. **Release numbers** are compared numerically, from left to right. A
//!    missing number counts as `0`, so trailing zeros do not matter, and
//!    neither do leading zeros:
//!    - `1.10` > `1.9` (10 is more than 9; this is not a decimal fraction)
//!    - `2024.10` > `2024.9.3`
//!    - `5.1` = `5.1.0` = `5.1.0.0`
//!    - `01.2` = `1.2`
//! 2. With the same release, a version **with a pre-release tag is lower**
//!    than the version without one: `1.0.0-rc.1` < `1.0.0`, and
//!    `3.0.2-b` < `3.0.2`. (But `3.0.2-b` > `3.0.1`: the release is
//!    compared first.)
//! 3. Two **pre-release tags** are compared identifier by identifier, as
//!    [Semantic Versioning](https://semver.org/#spec-item-11) does:
//!    - identifiers made only of digits are compared numerically (leading
//!      zeros do not matter: `rc.01` = `rc.1`);
//!    - such numeric identifiers are lower than identifiers with letters or
//!      `-` in them;
//!    - other identifiers are compared character by character in ASCII
//!      order (so uppercase letters come before lowercase ones:
//!      `1.0-RC` < `1.0-beta`);
//!    - when one tag is the beginning of the other, the shorter one is
//!      lower.
//!
//!    For example: `1.0.0-alpha` < `1.0.0-alpha.1` < `1.0.0-alpha.beta` <
//!    `1.0.0-beta` < `1.0.0-beta.2` < `1.0.0-beta.11` < `1.0.0-rc.1` <
//!    `1.0.0`.
//! 4. The `v` prefix and **build metadata are ignored**, both for order and
//!    for equality: `V5.1.0` = `5.1`, and `1.0.0+a` = `1.0.0+b` = `1.0.0`.
//!
//! Equal versions may be written differently; a [`Version`] keeps its
//! original text, which is what it displays (see [`Version::as_str`]).
//!
//! # Relation to Semantic Versioning
//!
//! A strict [SemVer](https://semver.org) version (`MAJOR.MINOR.PATCH`, with
//! an optional pre-release tag and build metadata, and no `v`) is ordered
//! exactly as SemVer's precedence rules say. This module additionally
//! accepts versions that SemVer rejects: a `v` prefix, fewer or more than
//! three release numbers, and leading zeros.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Most numbers a release may have (`1.2.3` has 3).
const MAX_NUMBERS: usize = 16;
/// Most digits in one number; 18 digits always fit in a `u64`.
const MAX_DIGITS: usize = 18;
/// Inputs quoted in error messages are cut after this many characters.
const QUOTE_MAX_CHARS: usize = 48;

const GENERIC_HELP: &str = "write a version as numbers separated by dots, like `5.1.0`, \
     optionally followed by `-` and a pre-release tag, like `3.0.2-b`";
const LIMITS_HELP: &str = "a version may have at most 16 numbers separated by dots, \
     each at most 18 digits long";

/// A parsed software version; see the [module documentation](self) for
/// what is accepted and how versions are ordered.
///
/// Equality, ordering and hashing all ignore how the version was written
/// (`v` prefix, trailing zeros, leading zeros, build metadata), and agree
/// with each other: `a == b` exactly when `a.cmp(&b)` is `Equal`, and equal
/// versions have equal hashes.
#[derive(Clone)]
pub struct Version {
    /// Release numbers, trailing zeros removed (`5.1.0` is `[5, 1]`, `0` is `[]`).
    release: Vec<u64>,
    /// Pre-release identifiers; empty when there is no pre-release tag.
    pre: Vec<Identifier>,
    /// The text the version was parsed from.
    text: Box<str>,
}

/// One identifier of a pre-release tag. The derived order is the SemVer
/// one: numeric identifiers first (compared numerically), then the others
/// (compared by ASCII bytes).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Identifier {
    Num(u64),
    Alpha(Box<str>),
}

/// Why a text is not a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionError {
    /// What is wrong, in lowercase with no final period; quotes the input.
    pub message: String,
    /// How to write it instead, when there is something useful to say.
    pub help: Option<String>,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VersionError {}

impl Version {
    /// The text this version was parsed from, exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Version").field(&self.text).finish()
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.release == other.release && self.pre == other.pre
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Exactly the fields `eq` looks at.
        self.release.hash(state);
        self.pre.hash(state);
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // Trailing zeros are stripped, so comparing the vectors
        // lexicographically (a shorter prefix is lower) is the same as
        // comparing them padded with zeros.
        self.release.cmp(&other.release).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            }
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text)
    }
}

/// Parses a version; see the [module documentation](self) for the syntax.
pub fn parse(text: &str) -> Result<Version, VersionError> {
    // A strict SemVer string is read by the `semver` crate, so that its
    // precedence is SemVer's own; the rest by the rules above.
    if let Ok(v) = semver::Version::parse(text) {
        return Ok(from_semver(&v, text));
    }
    parse_with(text, true)
}

fn from_semver(v: &semver::Version, text: &str) -> Version {
    let mut release = vec![v.major, v.minor, v.patch];
    while release.last() == Some(&0) {
        release.pop();
    }
    let pre = if v.pre.is_empty() {
        Vec::new()
    } else {
        v.pre
            .as_str()
            .split('.')
            .map(|id| match id.parse::<u64>() {
                Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => Identifier::Num(n),
                _ => Identifier::Alpha(id.into()),
            })
            .collect()
    };
    Version {
        release,
        pre,
        text: text.into(),
    }
}

/// `suggest`: whether to try to build a corrected version for the help
/// (off when checking such a suggestion, so this recurses at most once).
fn parse_with(text: &str, suggest: bool) -> Result<Version, VersionError> {
    if text.is_empty() {
        return Err(VersionError {
            message: "an empty text is not a version".to_string(),
            help: Some(GENERIC_HELP.to_string()),
        });
    }
    check_whitespace(text, suggest)?;

    let body = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let prefix_len = text.len() - body.len();
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(error(text, "it must start with a number", GENERIC_HELP));
    }
    // `+` first: build metadata may itself contain `-`.
    let (body, build) = match body.split_once('+') {
        Some((body, build)) => (body, Some(build)),
        None => (body, None),
    };
    let (release_text, pre_text) = match body.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (body, None),
    };

    let release = parse_release(text, prefix_len, release_text, suggest)?;
    let pre = match pre_text {
        None => Vec::new(),
        Some("") => {
            return Err(error(
                text,
                "there must be a pre-release tag after `-`",
                GENERIC_HELP,
            ))
        }
        Some(tag) => parse_pre_release(text, tag)?,
    };
    match build {
        None => {}
        Some("") => {
            return Err(error(
                text,
                "there must be build metadata after `+`",
                GENERIC_HELP,
            ))
        }
        Some(build) => check_identifiers(text, build, "the build metadata")?,
    }

    Ok(Version {
        release,
        pre,
        text: text.into(),
    })
}

fn check_whitespace(text: &str, suggest: bool) -> Result<(), VersionError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(error(text, "it is only whitespace", GENERIC_HELP));
    }
    let starts = text.starts_with(char::is_whitespace);
    let ends = text.ends_with(char::is_whitespace);
    let reason = match (starts, ends) {
        (true, true) => "it has whitespace around it",
        (true, false) => "it starts with whitespace",
        (false, true) => "it ends with whitespace",
        (false, false) if text.contains(char::is_whitespace) => "it contains whitespace",
        (false, false) => return Ok(()),
    };
    let help = if (starts || ends) && suggest && parse_with(trimmed, false).is_ok() {
        format!("remove the whitespace: {}", quote(trimmed))
    } else {
        GENERIC_HELP.to_string()
    };
    Err(VersionError {
        message: message(text, reason),
        help: Some(help),
    })
}

/// `release_text` is the part of `text` after the optional `v` (which is
/// `prefix_len` bytes long) and before any `-` or `+`; it starts with a digit.
fn parse_release(
    text: &str,
    prefix_len: usize,
    release_text: &str,
    suggest: bool,
) -> Result<Vec<u64>, VersionError> {
    let mut release = Vec::new();
    // Byte offset of the current number in `text`.
    let mut offset = prefix_len;
    for (index, number) in release_text.split('.').enumerate() {
        if index == MAX_NUMBERS {
            return Err(error(
                text,
                "it has more than 16 numbers separated by dots",
                LIMITS_HELP,
            ));
        }
        if number.is_empty() {
            return Err(error(
                text,
                "each dot must be followed by a number",
                GENERIC_HELP,
            ));
        }
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            let reason = format!("{} is not a number", quote(number));
            let help = suggest
                .then(|| pre_release_suggestion(text, offset, number))
                .flatten()
                .unwrap_or_else(|| GENERIC_HELP.to_string());
            return Err(VersionError {
                message: message(text, reason),
                help: Some(help),
            });
        }
        if number.len() > MAX_DIGITS {
            let reason = format!("{} has more than 18 digits", quote(number));
            return Err(error(text, reason, LIMITS_HELP));
        }
        release.push(digits_value(number));
        offset += number.len() + 1;
    }
    while release.last() == Some(&0) {
        release.pop();
    }
    Ok(release)
}

/// For a number like `0beta2` (at byte `offset` in `text`), suggests the
/// same version with a `-` before the letters, if that is a valid version.
fn pre_release_suggestion(text: &str, offset: usize, number: &str) -> Option<String> {
    let digits = number.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !number[digits..].starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let at = offset + digits;
    let fixed = format!("{}-{}", text.get(..at)?, text.get(at..)?);
    parse_with(&fixed, false).ok()?;
    Some(format!(
        "to add a pre-release tag, put `-` before it: {}",
        quote(&fixed)
    ))
}

fn parse_pre_release(text: &str, tag: &str) -> Result<Vec<Identifier>, VersionError> {
    check_identifiers(text, tag, "the pre-release tag")?;
    let mut pre = Vec::new();
    for identifier in tag.split('.') {
        if identifier.bytes().all(|b| b.is_ascii_digit()) {
            if identifier.len() > MAX_DIGITS {
                let reason = format!(
                    "the number {} in the pre-release tag has more than 18 digits",
                    quote(identifier)
                );
                return Err(error(text, reason, LIMITS_HELP));
            }
            pre.push(Identifier::Num(digits_value(identifier)));
        } else {
            pre.push(Identifier::Alpha(identifier.into()));
        }
    }
    Ok(pre)
}

/// Checks that `part` (of `text`) is non-empty identifiers made of ASCII
/// letters, digits and `-`, separated by dots. `what` names the part.
fn check_identifiers(text: &str, part: &str, what: &str) -> Result<(), VersionError> {
    for identifier in part.split('.') {
        if identifier.is_empty() {
            let reason = format!("{what} {} has an empty part", quote(part));
            return Err(error(text, reason, GENERIC_HELP));
        }
        if let Some(bad) = identifier
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            let reason = format!(
                "{what} {} may only contain letters, digits, `-` and dots, found {}",
                quote(part),
                quote(bad.encode_utf8(&mut [0; 4]))
            );
            return Err(error(text, reason, GENERIC_HELP));
        }
    }
    Ok(())
}

/// The value of a string of at most [`MAX_DIGITS`] ASCII digits (which
/// cannot overflow a `u64`).
fn digits_value(digits: &str) -> u64 {
    digits
        .bytes()
        .fold(0, |value, digit| value * 10 + u64::from(digit - b'0'))
}

fn error(text: &str, reason: impl fmt::Display, help: &str) -> VersionError {
    VersionError {
        message: message(text, reason),
        help: Some(help.to_string()),
    }
}

fn message(text: &str, reason: impl fmt::Display) -> String {
    format!("{} is not a version: {reason}", quote(text))
}

/// `text` in backticks, on one line: control and other invisible characters
/// (and `\`) are escaped as Rust does (`\t`, `\n`, `\u{200b}`), and long
/// texts are cut with `...`.
fn quote(text: &str) -> String {
    let mut quoted = String::from("`");
    for (index, c) in text.chars().enumerate() {
        if index == QUOTE_MAX_CHARS {
            quoted.push_str("...");
            break;
        }
        match c {
            '"' | '\'' => quoted.push(c),
            _ => quoted.extend(c.escape_debug()),
        }
    }
    quoted.push('`');
    quoted
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::hash::{BuildHasher, RandomState};

    fn v(text: &str) -> Version {
        match parse(text) {
            Ok(version) => version,
            Err(error) => panic!("{text:?} should parse: {}", error.message),
        }
    }

    fn err(text: &str) -> VersionError {
        match parse(text) {
            Ok(version) => panic!("{text:?} should not parse, got {version:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn trailing_zeros_and_v_prefix_do_not_matter() {
        assert_eq!(v("5.1"), v("5.1.0"));
        assert_eq!(v("5.1"), v("V5.1.0"));
        assert_eq!(v("5.1.0"), v("v5.1.0.0"));
        assert_eq!(v("V3.0.2"), v("3.0.2"));
        assert_eq!(v("0"), v("0.0.0"));
        assert_eq!(v("5.1").cmp(&v("V5.1.0")), Ordering::Equal);
    }

    #[test]
    fn leading_zeros_do_not_matter() {
        assert_eq!(v("01.2"), v("1.2"));
        assert_eq!(v("1.0-rc.01"), v("1.0-rc.1"));
    }

    #[test]
    fn release_numbers_compare_numerically() {
        assert!(v("2024.10") > v("2024.9.3"));
        assert!(v("1.10") > v("1.9"));
        assert!(v("5.1.1") > v("5.1"));
        assert!(v("5.0.0.1") > v("5"));
        assert!(v("999999999999999999") > v("99999999999999999.9"));
    }

    #[test]
    fn pre_release_chain_is_increasing() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for (i, a) in chain.iter().enumerate() {
            for (j, b) in chain.iter().enumerate() {
                assert_eq!(v(a).cmp(&v(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn pre_release_is_lower_than_its_release_only() {
        assert!(v("3.0.2-b") < v("3.0.2"));
        assert!(v("3.0.2-b") > v("3.0.1"));
        assert!(v("2.0-beta2") < v("2.0"));
        assert!(v("1.0-RC") < v("1.0-beta"));
        assert_eq!(v("3.0.2-b"), v("v3.0.2.0-b"));
    }

    #[test]
    fn build_metadata_is_ignored_for_order_and_equality() {
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"));
        assert_eq!(v("1.0.0+a"), v("1.0.0"));
        assert_eq!(v("1.0.0-rc.1+build-5"), v("1.0.0-rc.1"));
        assert_eq!(v("1.0+x").cmp(&v("1.0+y")), Ordering::Equal);
        let hasher = RandomState::new();
        assert_eq!(hasher.hash_one(v("1.0.0+a")), hasher.hash_one(v("1")));
    }

    #[test]
    fn original_text_is_kept() {
        assert_eq!(v("V5.1.0+build").as_str(), "V5.1.0+build");
        assert_eq!(v("05.1").to_string(), "05.1");
        assert_eq!(format!("{:?}", v("1.0")), r#"Version("1.0")"#);
        assert_eq!("2.0".parse::<Version>(), Ok(v("2")));
    }

    #[test]
    fn error_messages_quote_the_input() {
        let e = err("abc");
        assert_eq!(
            e.message,
            "`abc` is not a version: it must start with a number"
        );
        assert_eq!(e.help.as_deref(), Some(GENERIC_HELP));
        assert_eq!(
            GENERIC_HELP,
            "write a version as numbers separated by dots, like `5.1.0`, optionally \
             followed by `-` and a pre-release tag, like `3.0.2-b`"
        );

        let e = err("5..1");
        assert_eq!(
            e.message,
            "`5..1` is not a version: each dot must be followed by a number"
        );

        let e = err(" 5.1\t");
        assert_eq!(
            e.message,
            "` 5.1\\t` is not a version: it has whitespace around it"
        );
        assert_eq!(e.help.as_deref(), Some("remove the whitespace: `5.1`"));

        let e = err("2.0beta2");
        assert_eq!(
            e.message,
            "`2.0beta2` is not a version: `0beta2` is not a number"
        );
        assert_eq!(
            e.help.as_deref(),
            Some("to add a pre-release tag, put `-` before it: `2.0-beta2`")
        );
    }

    #[test]
    fn bad_inputs_are_rejected() {
        let cases = [
            ("", "an empty text is not a version"),
            ("5.a", "`5.a` is not a version: `a` is not a number"),
            (
                "5.1.",
                "`5.1.` is not a version: each dot must be followed by a number",
            ),
            (
                "1.0-",
                "`1.0-` is not a version: there must be a pre-release tag after `-`",
            ),
            (
                "1.0-+b",
                "`1.0-+b` is not a version: there must be a pre-release tag after `-`",
            ),
            (
                "1.0+",
                "`1.0+` is not a version: there must be build metadata after `+`",
            ),
            ("v", "`v` is not a version: it must start with a number"),
            ("vv1", "`vv1` is not a version: it must start with a number"),
            (".5", "`.5` is not a version: it must start with a number"),
            ("5 .1", "`5 .1` is not a version: it contains whitespace"),
            ("5.1 ", "`5.1 ` is not a version: it ends with whitespace"),
            ("\n", "`\\n` is not a version: it is only whitespace"),
            (
                "1.0-rc..1",
                "`1.0-rc..1` is not a version: the pre-release tag `rc..1` has an empty part",
            ),
            (
                "1.0-rc_1",
                "`1.0-rc_1` is not a version: the pre-release tag `rc_1` may only contain \
                 letters, digits, `-` and dots, found `_`",
            ),
            (
                "1.0+a+b",
                "`1.0+a+b` is not a version: the build metadata `a+b` may only contain \
                 letters, digits, `-` and dots, found `+`",
            ),
            (
                "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17",
                "`1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17` is not a version: \
                 it has more than 16 numbers separated by dots",
            ),
            (
                "1234567890123456789",
                "`1234567890123456789` is not a version: \
                 `1234567890123456789` has more than 18 digits",
            ),
            (
                "1-1234567890123456789",
                "`1-1234567890123456789` is not a version: the number \
                 `1234567890123456789` in the pre-release tag has more than 18 digits",
            ),
            (
                "1.\u{7}",
                "`1.\\u{7}` is not a version: `\\u{7}` is not a number",
            ),
            ("1.\\", "`1.\\\\` is not a version: `\\\\` is not a number"),
        ];
        for (input, expected) in cases {
            let e = err(input);
            assert_eq!(e.message, expected, "for {input:?}");
            assert!(e.help.is_some(), "for {input:?}");
        }
        // Exactly at the limits is fine.
        v("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16");
        v("123456789012345678");
        v("1-123456789012345678");
    }

    #[test]
    fn long_inputs_are_cut_in_messages() {
        let input = format!("x{}", "1".repeat(100));
        let e = err(&input);
        assert_eq!(
            e.message,
            format!(
                "`x{}...` is not a version: it must start with a number",
                "1".repeat(47)
            )
        );
    }

    /// Strict SemVer versions, in increasing order, with some equal pairs
    /// (differing only in build metadata).
    const STRICT_SEMVER: &[&str] = &[
        "0.0.0-0",
        "0.0.0",
        "0.0.1",
        "0.1.0-alpha",
        "0.1.0",
        "0.9.0",
        "0.10.0",
        "1.0.0-0",
        "1.0.0-0.3.7",
        "1.0.0-1",
        "1.0.0-10",
        "1.0.0--",
        "1.0.0-A",
        "1.0.0-Z.1",
        "1.0.0-a-b",
        "1.0.0-alpha",
        "1.0.0-alpha+001",
        "1.0.0-alpha.1",
        "1.0.0-alpha.1.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0-x.7.z.92",
        "1.0.0-x-y-z.--",
        "1.0.0",
        "1.0.0+20130313144700",
        "1.0.0+exp.sha.5114f85",
        "1.0.1",
        "1.1.0",
        "1.9.0",
        "1.10.0",
        "2.0.0-rc.1+build.123",
        "2.0.0",
        "2024.9.3",
        "2024.10.0",
        "999999999999999999.0.0",
    ];

    #[test]
    fn strict_semver_order_agrees_with_semver_crate() {
        for a in STRICT_SEMVER {
            let sa = semver::Version::parse(a).unwrap();
            for b in STRICT_SEMVER {
                let sb = semver::Version::parse(b).unwrap();
                let ours = v(a).cmp(&v(b));
                assert_eq!(ours, sa.cmp_precedence(&sb), "{a} vs {b}");
                assert_eq!(v(a) == v(b), ours == Ordering::Equal, "{a} vs {b}");
            }
        }
    }

    fn release_number() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (0u64..4).prop_map(|n| n.to_string()),
            1 => (0u64..4).prop_map(|n| format!("0{n}")),
            1 => Just("10".to_string()),
            1 => Just("999999999999999999".to_string()),
        ]
    }

    fn identifier() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u64..4).prop_map(|n| n.to_string()),
            Just("11".to_string()),
            prop::sample::select(vec!["a", "alpha", "beta", "rc", "B", "x-1", "-", "0a"])
                .prop_map(str::to_string),
        ]
    }

    fn dotted(parts: Vec<String>) -> String {
        parts.join(".")
    }

    /// Version texts with a small vocabulary, so that equal and close
    /// versions come up often.
    fn version_text() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["", "", "v", "V"]),
            prop::collection::vec(release_number(), 1..5).prop_map(dotted),
            prop::option::of(prop::collection::vec(identifier(), 1..4).prop_map(dotted)),
            prop::option::of(prop::collection::vec(identifier(), 1..3).prop_map(dotted)),
        )
            .prop_map(|(prefix, release, pre, build)| {
                let mut text = format!("{prefix}{release}");
                if let Some(pre) = pre {
                    text = format!("{text}-{pre}");
                }
                if let Some(build) = build {
                    text = format!("{text}+{build}");
                }
                text
            })
    }

    /// Strict SemVer texts (no `v`, three numbers, no leading zeros).
    fn strict_semver_text() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            (0u64..4).prop_map(|n| n.to_string()),
            Just("10".to_string())
        ];
        let identifier = prop_oneof![
            (0u64..4).prop_map(|n| n.to_string()),
            Just("11".to_string()),
            prop::sample::select(vec!["a", "alpha", "beta", "rc", "B", "x-1", "-", "0a"])
                .prop_map(str::to_string),
        ];
        (
            prop::collection::vec(number, 3).prop_map(dotted),
            prop::option::of(prop::collection::vec(identifier, 1..4).prop_map(dotted)),
            prop::option::of(Just("build.7")),
        )
            .prop_map(|(release, pre, build)| {
                let mut text = release;
                if let Some(pre) = pre {
                    text = format!("{text}-{pre}");
                }
                if let Some(build) = build {
                    text = format!("{text}+{build}");
                }
                text
            })
    }

    proptest! {
        #[test]
        fn generated_versions_parse_and_keep_their_text(text in version_text()) {
            let version = parse(&text).unwrap();
            prop_assert_eq!(version.as_str(), text.as_str());
            prop_assert_eq!(version.to_string(), text);
        }

        #[test]
        fn order_is_total_and_consistent(
            a in version_text(),
            b in version_text(),
            c in version_text(),
        ) {
            let (a, b, c) = (v(&a), v(&b), v(&c));
            let hasher = RandomState::new();
            for (x, y) in [(&a, &b), (&b, &c), (&a, &c), (&a, &a)] {
                // Antisymmetry.
                prop_assert_eq!(x.cmp(y), y.cmp(x).reverse());
                // `cmp` and `==` agree, and so does `partial_cmp`.
                prop_assert_eq!(x == y, x.cmp(y) == Ordering::Equal);
                prop_assert_eq!(x.partial_cmp(y), Some(x.cmp(y)));
                // Equal versions hash the same.
                if x == y {
                    prop_assert_eq!(hasher.hash_one(x), hasher.hash_one(y));
                }
            }
            // Transitivity, in every arrangement of the triple.
            for (x, y, z) in [
                (&a, &b, &c), (&a, &c, &b), (&b, &a, &c),
                (&b, &c, &a), (&c, &a, &b), (&c, &b, &a),
            ] {
                if x <= y && y <= z {
                    prop_assert!(x <= z, "{:?} <= {:?} <= {:?}", x, y, z);
                }
                if x < y && y < z {
                    prop_assert!(x < z, "{:?} < {:?} < {:?}", x, y, z);
                }
                if x == y && y == z {
                    prop_assert!(x == z, "{:?} == {:?} == {:?}", x, y, z);
                }
            }
        }

        #[test]
        fn trailing_zeros_prefix_and_build_do_not_change_a_version(text in version_text()) {
            let version = v(&text);
            let plain = text.trim_start_matches(['v', 'V']);
            let plain = plain.split_once('+').map_or(plain, |(before, _)| before);
            let padded = match plain.split_once('-') {
                Some((release, pre)) => format!("v{release}.0.0-{pre}+other"),
                None => format!("V{plain}.0+other"),
            };
            prop_assert_eq!(&version, &v(&padded));
        }

        #[test]
        fn strict_semver_order_agrees_with_semver(
            a in strict_semver_text(),
            b in strict_semver_text(),
        ) {
            let (sa, sb) = (semver::Version::parse(&a).unwrap(), semver::Version::parse(&b).unwrap());
            prop_assert_eq!(v(&a).cmp(&v(&b)), sa.cmp_precedence(&sb), "{} vs {}", a, b);
        }

        #[test]
        fn any_text_parses_or_gives_a_clean_one_line_error(
            text in prop_oneof![any::<String>(), "[0-9vV.+a-z \t\n_-]{0,14}"],
        ) {
            if let Err(e) = parse(&text) {
                prop_assert!(!e.message.chars().any(char::is_control), "{:?}", e.message);
                prop_assert!(!e.message.ends_with('.') || e.message.ends_with("..."), "{:?}", e.message);
                prop_assert!(
                    e.message.starts_with(|c: char| c == '`' || c.is_lowercase()),
                    "{:?}",
                    e.message
                );
                prop_assert!(e.help.is_some());
            }
        }
    }
}
