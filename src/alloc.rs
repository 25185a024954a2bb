//! The allocator of the `regle` binary and its benchmark: mimalloc
//! (version 2), called the way the C library is meant to be called.
//!
//! Evaluation allocates many small, short-lived values (about 450 a
//! candidacy). The `mimalloc` crate's allocator passes every request to
//! mimalloc's aligned entry points, which first test whether the block's
//! natural alignment suffices and then take the plain path: a few calls and
//! tests more for each allocation and each reallocation. Here a request
//! whose alignment mimalloc guarantees anyway (at most 16 bytes, and no more
//! than its size: `mi_malloc_is_naturally_aligned` in mimalloc's
//! `alloc-aligned.c`, the same test as the standard library's system
//! allocator) goes to `mi_malloc` directly; any other to the aligned entry
//! points, as before. 20,000 generated candidacies on one thread: 9.546 G
//! instructions with the crate's allocator, 9.374 G with this one.
//!
//! The only `unsafe` code of the crate: a global allocator is an unsafe
//! trait, and mimalloc a C library.
#![allow(unsafe_code)]

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// mimalloc's `MI_MAX_ALIGN_SIZE`: every block of at least this size is
/// aligned to it, a smaller one to its size class (a multiple of 8).
const NATURAL_ALIGN: usize = 16;

/// mimalloc, version 2, as a Rust global allocator.
pub struct Allocator;

/// A block of `size` bytes from `mi_malloc` is aligned to `align`.
fn natural(size: usize, align: usize) -> bool {
    align <= NATURAL_ALIGN && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it: `mi_free`
// takes blocks of either entry point, and `mi_realloc` keeps a block's
// natural alignment (the new size passes the same test, else the aligned
// `mi_realloc_aligned` is called). A null pointer is returned as is, which
// is how `GlobalAlloc` reports a failed allocation.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if natural(layout.size(), layout.align()) {
            mi::mi_malloc(layout.size()).cast()
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if natural(layout.size(), layout.align()) {
            mi::mi_zalloc(layout.size()).cast()
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr.cast::<c_void>());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if natural(new_size, layout.align()) {
            mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
        } else {
            mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
        }
    }
}

// mimalloc's own entry point (declared by `libmimalloc-sys` only with its
// `extended` feature, which adds a dependency for this one call).
unsafe extern "C" {
    fn mi_collect(force: bool);
}

/// Give back to the system the memory this thread freed and mimalloc still
/// holds, now rather than when the thread next allocates: after dropping a
/// large structure on a thread that then mostly waits (the registry's parse
/// tree, on the thread that reads the batch), so that the workers' first
/// allocations are not made while it is still resident. Harmless when
/// mimalloc is not the global allocator (its own heap is then empty).
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointer and may be called at any time
    // from any thread; it only returns freed memory to the system.
    unsafe { mi_collect(true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fill a block with a pattern its length and the position decide.
    fn fill(bytes: &mut [u8]) {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
    }

    /// Every size up to a few pages, with every alignment up to 4 KiB:
    /// each block is aligned as asked, zeroed when asked, and keeps its
    /// bytes when shrunk or grown, whichever entry point serves it.
    #[test]
    fn blocks_are_aligned_zeroed_and_kept_as_asked() {
        let a = Allocator;
        let sizes = (1..=160).chain([255, 256, 1000, 4096, 5000, 70_000]);
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let Ok(mut layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                let case = format!("{size} bytes aligned to {align}");
                // SAFETY: every layout has a non-zero size; each block is
                // read and written within its size, and freed once, with
                // the layout it has then.
                unsafe {
                    let plain = a.alloc(layout);
                    assert!(!plain.is_null(), "{case}");
                    assert_eq!(plain as usize % align, 0, "{case}");
                    fill(std::slice::from_raw_parts_mut(plain, size));
                    a.dealloc(plain, layout);

                    let mut p = a.alloc_zeroed(layout);
                    assert!(!p.is_null(), "{case}");
                    assert_eq!(p as usize % align, 0, "{case}");
                    let bytes = std::slice::from_raw_parts_mut(p, size);
                    assert!(bytes.iter().all(|&b| b == 0), "{case}: zeroed");
                    fill(bytes);
                    for new_size in [size / 2 + 1, size * 3 + 1] {
                        let kept = layout.size().min(new_size);
                        p = a.realloc(p, layout, new_size);
                        assert!(!p.is_null(), "{case}, to {new_size}");
                        assert_eq!(p as usize % align, 0, "{case}, to {new_size}");
                        let moved = std::slice::from_raw_parts(p, kept);
                        assert!(
                            moved.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8),
                            "{case}, to {new_size}: bytes kept"
                        );
                        layout = Layout::from_size_align_unchecked(new_size, align);
                        fill(std::slice::from_raw_parts_mut(p, new_size));
                    }
                    a.dealloc(p, layout);
                }
            }
        }
    }
}
