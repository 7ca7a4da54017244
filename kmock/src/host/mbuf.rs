// SPDX-License-Identifier: BSD-2-Clause
//! The host's mbuf zone: numbering, live accounting, leak tracking, mbuf failure injection
//! and the free list of one kernel (DragonFly's `mbuf_cache`/objcache and its statistics).
//!
//! The zone hands out an [`MbufTag`] for every mbuf the API layer creates; the tag lives
//! inside the mbuf. A freed mbuf's storage comes back to its zone ([`MbufFreer::put`]) and
//! is handed out again by the next allocation ([`MbufSlot::Reused`]), with a new number and
//! its data area as the last user left it (a BSD kernel does not zero mbufs either): after
//! warm-up the per-packet paths make no heap allocation. Storage dropped without coming
//! back (the rare path: a queue of a dead kernel) is uncounted by [`MbufZone::uncount`].
//!
//! The zone stores the API's mbufs type-erased ([`MbufStorage`]); it never names them.

use core::any::Any;
use core::panic::Location;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::boxed::Box;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::platform::{Mutex, MutexGuard};
use std::vec::Vec;

use super::event::{Event, EventSink};
use super::faults::{site_name, AllocFaults};
use super::sync::lock;
use crate::bsd::param::MSIZE;

/// The storage of a free mbuf, as the zone keeps it (the API's `Mbuf`, type-erased).
pub type MbufStorage = Box<dyn Any + Send>;

/// How many free mbufs a zone keeps for reuse; storage freed beyond that goes back to the
/// heap.
pub const MBUF_CACHE_MAX: usize = 16384;

/// mbuf accounting and the free list of one kernel.
pub struct MbufZone {
    events: Arc<EventSink>,
    faults: Arc<AllocFaults>,
    /// The armed failure: 0 when disarmed, else how many allocations until it fires.
    failalloc: AtomicU32,
    track: AtomicBool,
    live_ids: Mutex<BTreeSet<u64>>,
    st: Mutex<ZoneState>,
}

/// What the zone's lock protects: one lock per allocation and one per freed chain.
struct ZoneState {
    /// The next mbuf's number.
    next_id: u64,
    /// mbufs allocated and not yet freed.
    live: usize,
    /// Free storage, most recently freed last.
    free: Vec<MbufStorage>,
    /// The kernel is gone: freed storage is not kept (it would keep the zone alive).
    dead: bool,
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

/// The zone's record inside every mbuf: its number (0 while the storage is free), and the
/// zone it returns to when freed.
pub struct MbufTag {
    id: u64,
    zone: Arc<MbufZone>,
}

impl MbufTag {
    /// The mbuf's number in its zone (from 1, in allocation order, never reused; 0 while
    /// the storage sits on the free list).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Gives reused storage its new number.
    pub(crate) fn set_id(&mut self, id: u64) {
        self.id = id;
    }

    /// The zone the mbuf belongs to.
    pub(crate) fn zone(&self) -> &Arc<MbufZone> {
        &self.zone
    }
}

/// What an allocation gets from the zone: free storage to reuse (its tag keeps the zone;
/// the caller sets the number), or a tag for storage the caller allocates.
pub enum MbufSlot {
    /// Storage off the free list, for the mbuf numbered `.0`.
    Reused(u64, MbufStorage),
    /// A new mbuf's tag (the free list was empty).
    Fresh(MbufTag),
}

/// The zone's lock, held while a chain's mbufs go back to it ([`MbufZone::freer`]).
pub struct MbufFreer<'a> {
    zone: &'a MbufZone,
    st: MutexGuard<'a, ZoneState>,
}

impl MbufFreer<'_> {
    /// Takes back the storage of mbuf `id` (whose tag names this zone): uncounts it and
    /// keeps the storage for reuse (its tag must already read id 0).
    pub fn put(&mut self, id: u64, storage: MbufStorage) {
        self.st.live -= 1;
        if self.zone.track.load(Ordering::Relaxed) {
            lock(&self.zone.live_ids).remove(&id);
        }
        if !self.st.dead && self.st.free.len() < MBUF_CACHE_MAX {
            self.st.free.push(storage);
        } else {
            drop(storage);
        }
    }
}

impl MbufZone {
    pub(crate) fn new(events: Arc<EventSink>, faults: Arc<AllocFaults>) -> Self {
        MbufZone {
            events,
            faults,
            failalloc: AtomicU32::new(0),
            track: AtomicBool::new(false),
            live_ids: Mutex::new(BTreeSet::new()),
            st: Mutex::new(ZoneState {
                next_id: 1,
                live: 0,
                free: Vec::new(),
                dead: false,
            }),
        }
    }

    /// Current counters.
    pub fn stats(&self) -> MbufStats {
        let st = lock(&self.st);
        MbufStats {
            live: st.live,
            live_bytes: st.live * MSIZE,
            allocated: st.next_id - 1,
        }
    }

    /// mbufs allocated and not yet freed.
    pub fn live(&self) -> usize {
        lock(&self.st).live
    }

    /// Free mbufs kept for reuse.
    pub fn cached(&self) -> usize {
        lock(&self.st).free.len()
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

    /// A slot for a new mbuf, never failing (environment allocations).
    pub(crate) fn get(self: &Arc<Self>) -> MbufSlot {
        let mut st = lock(&self.st);
        let id = st.next_id;
        st.next_id += 1;
        st.live += 1;
        let reused = st.free.pop();
        drop(st);
        if self.track.load(Ordering::Relaxed) {
            lock(&self.live_ids).insert(id);
        }
        match reused {
            Some(s) => MbufSlot::Reused(id, s),
            None => MbufSlot::Fresh(MbufTag {
                id,
                zone: self.clone(),
            }),
        }
    }

    /// A slot for an mbuf the driver allocates at `site` through allocator `what`
    /// (`m_gethdr`, `m_get`, `m_prepend`, `m_pullup`; `hdr` for a packet-header mbuf): the
    /// armed mbuf failure fires first (as [`Event::AllocFail`]), then the kernel's
    /// allocation-failure plan is asked.
    pub(crate) fn alloc(
        self: &Arc<Self>,
        what: &'static str,
        hdr: bool,
        site: &'static Location<'static>,
    ) -> Option<MbufSlot> {
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
        Some(self.get())
    }

    /// Locks the zone to take back freed mbufs ([`MbufFreer::put`]).
    pub fn freer(&self) -> MbufFreer<'_> {
        MbufFreer {
            zone: self,
            st: lock(&self.st),
        }
    }

    /// Uncounts live mbuf `id` whose storage is dropped instead of coming back.
    pub fn uncount(&self, id: u64) {
        lock(&self.st).live -= 1;
        if self.track.load(Ordering::Relaxed) {
            lock(&self.live_ids).remove(&id);
        }
    }

    /// The kernel is gone: drops the free list and keeps no storage from now on (free
    /// storage holds its zone, so kept storage would keep the zone alive forever).
    pub(crate) fn shutdown(&self) {
        let free = {
            let mut st = lock(&self.st);
            st.dead = true;
            core::mem::take(&mut st.free)
        };
        drop(free);
    }
}
