//! JSON text eight bytes at a time (a little-endian word each): which
//! bytes a JSON string cannot hold as they are, for the facts parser
//! (where a run of plain bytes ends) and the report writer (whether a text
//! needs escaping).

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);

/// The top bit of each byte of `w` that is a control character, `"` or
/// `\\` (and DEL, with `del`). A byte below 0x20 borrows when 0x20 is
/// subtracted from each byte, into a byte whose top bit was clear; a byte
/// equal to `c` leaves a zero byte in `w ^ c`. A borrow can mark a byte
/// above a true match, never a word without one: the lowest mark is a
/// true one.
#[inline]
pub(crate) fn special(w: u64, del: bool) -> u64 {
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
    let found = below(w, 0x20)
        | below(w ^ (ONES * u64::from(b'"')), 1)
        | below(w ^ (ONES * u64::from(b'\\')), 1);
    if del {
        found | below(w ^ (ONES * 0x7f), 1)
    } else {
        found
    }
}
