// SPDX-License-Identifier: BSD-2-Clause
//! The host's mbuf zone: numbering, live accounting, leak tracking and mbuf failure
//! injection for one kernel (DragonFly's `mbuf_cache`/objcache statistics).
//!
//! The zone hands out an [`MbufTag`] for every mbuf the API layer creates; the tag lives
//! inside the mbuf and returns to the zone when the mbuf is dropped (`m_free`), so the live
//! count is exact whoever frees the mbuf.

use core::panic::Location;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::event::{Event, EventSink};
use super::faults::{site_name, AllocFaults};
use super::sync::lock;
use crate::bsd::param::MSIZE;

/// mbuf accounting of one kernel.
pub struct MbufZone {
    events: Arc<EventSink>,
    faults: Arc<AllocFaults>,
    next_id: AtomicU64,
    live: AtomicUsize,
    allocated: AtomicU64,
    /// The armed failure: 0 when disarmed, else how many allocations until it fires.
    failalloc: AtomicU32,
    track: AtomicBool,
    live_ids: Mutex<BTreeSet<u64>>,
}

/// A snapshot of [`MbufZone`] counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MbufStats {
    /// mbufs allocated and not yet freed.
    pub live: usize,
    /// Bytes they occupy (`live * MSIZE`).
    pub live_bytes: usize,
    /// mbufs ever allocated.
    pub allocated: u64,
}

/// The zone's record of one live mbuf: its number, and the zone it returns to when dropped.
///
/// # Invariants
///
/// Counted once in `zone.live` from creation until drop.
pub struct MbufTag {
    id: u64,
    zone: Arc<MbufZone>,
}

impl MbufTag {
    /// The mbuf's number in its zone (from 1, in allocation order, never reused).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The zone the mbuf belongs to.
    pub(crate) fn zone(&self) -> &Arc<MbufZone> {
        &self.zone
    }
}

impl Drop for MbufTag {
    fn drop(&mut self) {
        self.zone.freed(self.id);
    }
}

impl MbufZone {
    pub(crate) fn new(events: Arc<EventSink>, faults: Arc<AllocFaults>) -> Self {
        MbufZone {
            events,
            faults,
            next_id: AtomicU64::new(1),
            live: AtomicUsize::new(0),
            allocated: AtomicU64::new(0),
            failalloc: AtomicU32::new(0),
            track: AtomicBool::new(false),
            live_ids: Mutex::new(BTreeSet::new()),
        }
    }

    /// Current counters.
    pub fn stats(&self) -> MbufStats {
        let live = self.live.load(Ordering::SeqCst);
        MbufStats {
            live,
            live_bytes: live * MSIZE,
            allocated: self.allocated.load(Ordering::SeqCst),
        }
    }

    /// mbufs allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Arms (`Some(n)`, n ≥ 1) or disarms (`None`) an injected mbuf failure: the n-th next
    /// allocation through `m_get`, `m_gethdr`, `m_prepend` or `m_pullup` fails, once.
    /// Environment allocations (`alloc_env`, `packet_from`) are not counted.
    pub fn set_failalloc(&self, n: Option<u32>) {
        self.failalloc.store(n.unwrap_or(0), Ordering::SeqCst);
    }

    /// Starts (or stops) remembering the ids of live mbufs, for leak reports.
    pub fn track_ids(&self, on: bool) {
        self.track.store(on, Ordering::SeqCst);
        if !on {
            lock(&self.live_ids).clear();
        }
    }

    /// Ids of live mbufs, ascending (only those allocated while tracking was on).
    pub fn live_ids(&self) -> Vec<u64> {
        lock(&self.live_ids).iter().copied().collect()
    }

    /// A tag for a new mbuf, never failing (environment allocations).
    pub(crate) fn tag(self: &Arc<Self>) -> MbufTag {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.live.fetch_add(1, Ordering::SeqCst);
        self.allocated.fetch_add(1, Ordering::SeqCst);
        if self.track.load(Ordering::SeqCst) {
            lock(&self.live_ids).insert(id);
        }
        MbufTag {
            id,
            zone: self.clone(),
        }
    }

    /// A tag for an mbuf the driver allocates at `site` through allocator `what`
    /// (`m_gethdr`, `m_get`, `m_prepend`, `m_pullup`; `hdr` for a packet-header mbuf): the
    /// armed mbuf failure fires first (as [`Event::AllocFail`]), then the kernel's
    /// allocation-failure plan is asked.
    pub(crate) fn alloc_tag(
        self: &Arc<Self>,
        what: &'static str,
        hdr: bool,
        site: &'static Location<'static>,
    ) -> Option<MbufTag> {
        // One atomic load when nothing is armed: the per-packet paths pay no lock.
        if self.failalloc.load(Ordering::Relaxed) != 0 {
            let prev = self
                .failalloc
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if prev == Ok(1) {
                let mget = if hdr { "m_gethdr" } else { "m_get" };
                self.events.emit(|| Event::AllocFail {
                    what,
                    mget,
                    site: site_name(site),
                });
                return None;
            }
        }
        if self.faults.fails(site, &self.events) {
            return None;
        }
        Some(self.tag())
    }

    fn freed(&self, id: u64) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        if self.track.load(Ordering::SeqCst) {
            lock(&self.live_ids).remove(&id);
        }
    }
}
