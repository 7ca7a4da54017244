// SPDX-License-Identifier: BSD-2-Clause
//! The send queue `if_snd` (`net/ifq_var.h`): a FIFO of packets with a length limit,
//! here a fixed ring of [`IFQ_SLOTS`] packets (no allocation on the packet path). No ALTQ
//! discipline exists on Linux: `ifq_is_enabled` is false, classification does nothing.

use super::errno::ENOBUFS;
use super::mbuf::{Mbuf, MbufBox};
use crate::error::Result;

/// `IFQ_MAXLEN` (`ifqmaxlen`).
pub const IFQ_MAXLEN: usize = 250;
/// The ring's size: the largest `ifq_maxlen`.
pub const IFQ_SLOTS: usize = 256;

/// `struct ifaltq`.
pub struct Ifq {
    ring: [Option<MbufBox>; IFQ_SLOTS],
    head: usize,
    len: usize,
    maxlen: usize,
    drops: u64,
}

/// `struct altq_pktattr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltqPktattr {
    /// The address family.
    pub pattr_af: u8,
    /// Whether a classifier ran.
    pub classified: bool,
}

impl Ifq {
    /// An empty queue (limit 0 until `ifq_set_maxlen`).
    pub fn new() -> Self {
        Ifq { ring: [const { None }; IFQ_SLOTS], head: 0, len: 0, maxlen: 0, drops: 0 }
    }

    /// Packets queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `ifq_maxlen`.
    pub fn maxlen(&self) -> usize {
        self.maxlen
    }

    /// `ifq_drops`.
    pub fn drops(&self) -> u64 {
        self.drops
    }

    /// Classic enqueue: append, or free the packet and fail with `ENOBUFS` when full.
    pub(crate) fn enqueue(&mut self, m: MbufBox) -> Result {
        if self.len >= self.maxlen {
            drop(m);
            return Err(ENOBUFS);
        }
        let tail = (self.head + self.len) % IFQ_SLOTS;
        self.ring[tail] = Some(m);
        self.len += 1;
        Ok(())
    }
}

impl Default for Ifq {
    fn default() -> Self {
        Self::new()
    }
}

/// `ifq_set_maxlen(ifq, len)` (at most [`IFQ_SLOTS`]).
pub fn ifq_set_maxlen(ifq: &mut Ifq, len: usize) {
    ifq.maxlen = len.min(IFQ_SLOTS);
}

/// `ifq_set_ready(ifq)`.
pub fn ifq_set_ready(_ifq: &mut Ifq) {}

/// `ifq_is_enabled(ifq)`: whether an ALTQ discipline is on (never, on Linux).
pub fn ifq_is_enabled(_ifq: &Ifq) -> bool {
    false
}

/// `ifq_is_empty(ifq)`.
pub fn ifq_is_empty(ifq: &Ifq) -> bool {
    ifq.is_empty()
}

/// `ifq_classify(ifq, m, af, pa)`: records the family; no classifier runs.
pub fn ifq_classify(_ifq: &Ifq, _m: &Mbuf, af: u8, pa: &mut AltqPktattr) {
    pa.pattr_af = af;
}

/// `ifq_dequeue(ifq, NULL)`: the oldest packet.
pub fn ifq_dequeue(ifq: &mut Ifq) -> Option<MbufBox> {
    if ifq.len == 0 {
        return None;
    }
    let m = ifq.ring[ifq.head].take();
    ifq.head = (ifq.head + 1) % IFQ_SLOTS;
    ifq.len -= 1;
    m
}

/// `ifq_poll(ifq)`: the oldest packet, left queued.
pub fn ifq_poll(ifq: &Ifq) -> Option<&Mbuf> {
    if ifq.len == 0 {
        return None;
    }
    ifq.ring[ifq.head].as_deref()
}

/// `ifq_purge(ifq)`: frees every queued packet.
pub fn ifq_purge(ifq: &mut Ifq) {
    while ifq_dequeue(ifq).is_some() {}
}

/// `IF_DROP(ifq)`: counts a drop.
pub fn if_drop(ifq: &mut Ifq) {
    ifq.drops += 1;
}
