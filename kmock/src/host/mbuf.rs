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
//! As DragonFly's objcache, the free list has two levels: each thread keeps a *magazine*
//! of up to [`MAG_MAX`] free mbufs of the zone it last used, taken without any lock, and
//! exchanges them with the zone's shared *depot* [`MAG_BATCH`] at a time, under the depot's
//! lock. Numbers and the live count are atomics: an allocation costs three atomic
//! additions (its number, the live count, the allocation-failure plan's count) and no lock.
//!
//! The zone stores the API's mbufs type-erased ([`MbufStorage`]); it never names them.

use core::any::Any;
use core::cell::RefCell;
use core::panic::Location;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::boxed::Box;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::event::{Event, EventSink};
use super::faults::{site_name, AllocFaults};
use super::sync::lock;
use crate::bsd::param::MSIZE;

/// The storage of a free mbuf, as the zone keeps it (the API's `Mbuf`, type-erased).
pub type MbufStorage = Box<dyn Any + Send>;

/// How many free mbufs a zone's depot keeps for reuse; storage freed beyond that goes back
/// to the heap.
pub const MBUF_CACHE_MAX: usize = 16384;

/// How many free mbufs a thread's magazine holds at most.
pub const MAG_MAX: usize = 64;

/// How many free mbufs move between a magazine and its zone's depot at a time.
pub const MAG_BATCH: usize = 32;

/// mbuf accounting and the free list of one kernel.
pub struct MbufZone {
    events: Arc<EventSink>,
    faults: Arc<AllocFaults>,
    /// The armed failure: 0 when disarmed, else how many allocations until it fires.
    failalloc: AtomicU32,
    track: AtomicBool,
    live_ids: Mutex<BTreeSet<u64>>,
    /// The next mbuf's number.
    next_id: AtomicU64,
    /// mbufs allocated and not yet freed.
    live: AtomicUsize,
    /// The kernel is gone: freed storage is not kept (it would keep the zone alive).
    dead: AtomicBool,
    /// The depot: free storage shared by all threads, most recently freed last (at most
    /// [`MBUF_CACHE_MAX`]).
    depot: Mutex<Vec<MbufStorage>>,
}

/// A thread's magazine: free storage of one zone, used without a lock.
///
/// # Invariants
///
/// Every storage in `free` belongs to `zone`, and `free.len() <= MAG_MAX`; `free` is empty
/// when `zone` is `None`.
struct Magazine {
    zone: Option<Arc<MbufZone>>,
    free: Vec<MbufStorage>,
}

#[cfg(not(loom))]
std::thread_local! {
    static MAGAZINE: RefCell<Magazine> = const {
        RefCell::new(Magazine { zone: None, free: Vec::new() })
    };
}

#[cfg(loom)]
crate::platform::thread_local! {
    static MAGAZINE: RefCell<Magazine> = RefCell::new(Magazine { zone: None, free: Vec::new() });
}

impl Magazine {
    /// Makes this the magazine of `zone`: the storage of the zone it held goes back to
    /// that zone's depot first.
    fn adopt(&mut self, zone: &Arc<MbufZone>) {
        if let Some(old) = self.zone.take() {
            old.to_depot(self.free.drain(..));
        }
        if self.free.capacity() < MAG_MAX {
            self.free.reserve_exact(MAG_MAX - self.free.len());
        }
        self.zone = Some(zone.clone());
    }

    fn is_of(&self, zone: &MbufZone) -> bool {
        self.zone.as_deref().is_some_and(|z| core::ptr::eq(z, zone))
    }
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

/// A zone taking back a freed chain's mbufs ([`MbufZone::freer`]).
pub struct MbufFreer<'a> {
    zone: &'a Arc<MbufZone>,
}

impl MbufFreer<'_> {
    /// Takes back the storage of mbuf `id` (whose tag names this zone): uncounts it and
    /// keeps the storage for reuse (its tag must already read id 0), in the calling
    /// thread's magazine.
    pub fn put(&mut self, id: u64, storage: MbufStorage) {
        let zone = self.zone;
        zone.live.fetch_sub(1, Ordering::Relaxed);
        if zone.track.load(Ordering::Relaxed) {
            lock(&zone.live_ids).remove(&id);
        }
        if zone.dead.load(Ordering::Relaxed) {
            drop(storage);
            return;
        }
        // The magazine is busy only if dropping storage inside it came back here (it does
        // not: free storage holds no chain), or during the thread's exit: then the depot.
        let rest = MAGAZINE
            .try_with(|m| {
                let Ok(mut m) = m.try_borrow_mut() else {
                    return Some(storage);
                };
                if !m.is_of(zone) {
                    m.adopt(zone);
                }
                if m.free.len() >= MAG_MAX {
                    let from = m.free.len() - MAG_BATCH;
                    zone.to_depot(m.free.drain(from..));
                }
                m.free.push(storage);
                None
            })
            .ok();
        match rest {
            Some(None) => {}
            Some(Some(storage)) => zone.to_depot(core::iter::once(storage)),
            // The thread's locals are gone (it is exiting): the storage is dropped.
            None => {}
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
            next_id: AtomicU64::new(1),
            live: AtomicUsize::new(0),
            dead: AtomicBool::new(false),
            depot: Mutex::new(Vec::new()),
        }
    }

    /// Current counters.
    pub fn stats(&self) -> MbufStats {
        let live = self.live();
        MbufStats {
            live,
            live_bytes: live * MSIZE,
            allocated: self.next_id.load(Ordering::SeqCst) - 1,
        }
    }

    /// mbufs allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Free mbufs kept for reuse: the depot's and the calling thread's magazine's (other
    /// threads' magazines are theirs to count).
    pub fn cached(&self) -> usize {
        let mine = MAGAZINE
            .try_with(|m| {
                m.try_borrow()
                    .map_or(0, |m| if m.is_of(self) { m.free.len() } else { 0 })
            })
            .unwrap_or(0);
        lock(&self.depot).len() + mine
    }

    /// Puts free storage into the depot (dropping what exceeds [`MBUF_CACHE_MAX`], and
    /// everything once the kernel is gone).
    fn to_depot(&self, storage: impl Iterator<Item = MbufStorage>) {
        let mut excess = Vec::new();
        {
            let mut d = lock(&self.depot);
            for s in storage {
                if self.dead.load(Ordering::Relaxed) || d.len() >= MBUF_CACHE_MAX {
                    excess.push(s);
                } else {
                    d.push(s);
                }
            }
        }
        // Dropped with the depot unlocked (each holds a reference to this zone).
        drop(excess);
    }

    /// Free storage for the calling thread: its magazine's, refilled from the depot when
    /// empty.
    fn take_free(self: &Arc<Self>) -> Option<MbufStorage> {
        MAGAZINE
            .try_with(|m| {
                let Ok(mut m) = m.try_borrow_mut() else {
                    return lock(&self.depot).pop();
                };
                if !m.is_of(self) {
                    m.adopt(self);
                }
                if let Some(s) = m.free.pop() {
                    return Some(s);
                }
                let mut d = lock(&self.depot);
                let from = d.len().saturating_sub(MAG_BATCH);
                let s = d.pop();
                m.free.extend(d.drain(from..));
                s
            })
            .unwrap_or_else(|_| lock(&self.depot).pop())
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
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.live.fetch_add(1, Ordering::Relaxed);
        let reused = if self.dead.load(Ordering::Relaxed) {
            None
        } else {
            self.take_free()
        };
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

    /// The zone taking back freed mbufs ([`MbufFreer::put`]).
    pub fn freer(self: &Arc<Self>) -> MbufFreer<'_> {
        MbufFreer { zone: self }
    }

    /// Uncounts live mbuf `id` whose storage is dropped instead of coming back.
    pub fn uncount(&self, id: u64) {
        self.live.fetch_sub(1, Ordering::Relaxed);
        if self.track.load(Ordering::Relaxed) {
            lock(&self.live_ids).remove(&id);
        }
    }

    /// The kernel is gone: drops the free list and keeps no storage from now on (free
    /// storage holds its zone, so kept storage would keep the zone alive forever).
    pub(crate) fn shutdown(&self) {
        self.dead.store(true, Ordering::SeqCst);
        let free = core::mem::take(&mut *lock(&self.depot));
        drop(free);
        // The calling thread's magazine lets go of the zone too (other threads' let go
        // when they next use another zone, or exit).
        let mine = MAGAZINE
            .try_with(|m| {
                m.try_borrow_mut().ok().and_then(|mut m| {
                    if m.is_of(self) {
                        let free = core::mem::take(&mut m.free);
                        Some((free, m.zone.take()))
                    } else {
                        None
                    }
                })
            })
            .ok()
            .flatten();
        drop(mine);
    }
}
