// SPDX-License-Identifier: BSD-2-Clause
//! The kernel side of kmock's door, for the API files compiled here (`bsd::mbuf`): the
//! mbuf accounting. Every mbuf is counted in [`LIVE`] from allocation until drop; the
//! module prints the count at unload.

use core::panic::Location;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// mbufs allocated and not yet freed.
pub static LIVE: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The accounting record inside every mbuf (`MbufTag` of kmock's host).
///
/// # Invariants
///
/// Counted once in [`LIVE`] from creation until drop.
pub struct MbufTag {
    id: u64,
}

impl MbufTag {
    /// The mbuf's number (from 1, in allocation order).
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for MbufTag {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A tag for a new mbuf. The memory allocation itself (`kmalloc(GFP_ATOMIC)`) is the one
/// that can fail, in `bsd::mbuf`; this never does.
pub fn mbuf_alloc(
    _what: &'static str,
    _hdr: bool,
    _like: Option<&MbufTag>,
    _site: &'static Location<'static>,
) -> Option<MbufTag> {
    LIVE.fetch_add(1, Ordering::Relaxed);
    Some(MbufTag {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
    })
}
