// SPDX-License-Identifier: BSD-2-Clause
//! Interface send queues (`net/ifq_var.h`, the classic discipline of `net/if.c`), in their
//! 2010–11 DragonFly form.
//!
//! BSD semantics mirrored:
//! - `ifq_set_maxlen`/`ifq_set_ready` set fields; the default limit is [`IFQ_MAXLEN`] (250).
//! - `ifq_is_enabled` is true only while an ALTQ discipline is enabled (`ALTQF_ENABLED`);
//!   `ifq_classify` does nothing otherwise.
//! - `ifq_handoff(ifp, m, pa)`: enqueue; a full classic queue frees the packet and returns
//!   `ENOBUFS` without touching `ifq_drops`; on success `if_obytes += len`,
//!   `if_omcasts++` for `M_MCAST`, and `if_start` runs unless `IFF_OACTIVE`.
//! - `ifq_dequeue` removes the head (FIFO), `ifq_poll` looks at it, `ifq_purge` frees all.
//! - `IF_DROP(ifq)` counts a drop.
//!
//! The queue lives inside the interface's serialized state: it is reachable only through
//! the guard of [`super::ifnet::ifnet_serialize_all`].

use std::collections::VecDeque;
use std::sync::Arc;

use super::errno::ENOBUFS;
use super::mbuf::{Mbuf, MbufBox};
use crate::door::{Event, KernelRef};
use crate::error::Result;

/// `IFQ_MAXLEN` (`ifqmaxlen`): the default send-queue limit.
pub const IFQ_MAXLEN: usize = 250;
/// `ALTQF_READY`.
pub const ALTQF_READY: u32 = 0x01;
/// `ALTQF_ENABLED`.
pub const ALTQF_ENABLED: u32 = 0x02;
/// `ALTQF_CLASSIFY`.
pub const ALTQF_CLASSIFY: u32 = 0x04;

/// `struct ifaltq`: a send queue.
pub struct Ifq {
    ifname: Arc<str>,
    kernel: KernelRef,
    q: VecDeque<MbufBox>,
    maxlen: usize,
    drops: u64,
    altq_flags: u32,
}

/// `struct altq_pktattr`: what `ifq_classify` records for an ALTQ discipline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltqPktattr {
    /// The packet's address family (0 when unclassified).
    pub pattr_af: u8,
    /// Whether a discipline classified the packet.
    pub classified: bool,
}

impl Ifq {
    pub(crate) fn new(ifname: Arc<str>, kernel: KernelRef) -> Self {
        Ifq {
            ifname,
            kernel,
            q: VecDeque::new(),
            maxlen: 0,
            drops: 0,
            altq_flags: 0,
        }
    }

    fn emit(&self, f: impl FnOnce() -> Event) {
        self.kernel.emit(f);
    }

    /// `ifq_len`: packets queued.
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// `ifq_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// `ifq_maxlen`.
    pub fn maxlen(&self) -> usize {
        self.maxlen
    }

    /// `ifq_drops`.
    pub fn drops(&self) -> u64 {
        self.drops
    }

    /// `altq_flags`.
    pub fn altq_flags(&self) -> u32 {
        self.altq_flags
    }

    /// Enables or disables an ALTQ discipline (what `pfctl` does; the queue stays FIFO).
    pub fn set_altq_enabled(&mut self, on: bool) {
        if on {
            self.altq_flags |= ALTQF_ENABLED;
        } else {
            self.altq_flags &= !ALTQF_ENABLED;
        }
    }

    /// The queued packets, head first.
    pub fn iter(&self) -> impl Iterator<Item = &Mbuf> {
        self.q.iter().map(|b| &**b)
    }

    /// Classic enqueue: append, or free the packet and fail with `ENOBUFS` when full.
    pub(crate) fn enqueue(&mut self, m: MbufBox) -> Result {
        if self.q.len() >= self.maxlen {
            let qlen = self.q.len();
            self.emit(|| Event::QueueFull {
                ifname: self.ifname.clone(),
                qlen,
            });
            drop(m);
            return Err(ENOBUFS);
        }
        let (len, mbufs) = (m.pkthdr().map_or(0, |h| h.len), m.chain_count());
        self.q.push_back(m);
        let qlen = self.q.len();
        self.emit(|| Event::Enqueue {
            ifname: self.ifname.clone(),
            len,
            mbufs,
            qlen,
        });
        Ok(())
    }
}

/// `ifq_set_maxlen(ifq, len)`.
pub fn ifq_set_maxlen(ifq: &mut Ifq, len: usize) {
    ifq.maxlen = len;
}

/// `ifq_set_ready(ifq)`.
pub fn ifq_set_ready(ifq: &mut Ifq) {
    ifq.altq_flags |= ALTQF_READY;
}

/// `ifq_is_enabled(ifq)`: whether an ALTQ discipline is enabled.
pub fn ifq_is_enabled(ifq: &Ifq) -> bool {
    ifq.altq_flags & ALTQF_ENABLED != 0
}

/// `ifq_is_empty(ifq)`.
pub fn ifq_is_empty(ifq: &Ifq) -> bool {
    ifq.q.is_empty()
}

/// `ifq_classify(ifq, m, af, pa)`: records the family when a discipline is enabled.
pub fn ifq_classify(ifq: &Ifq, _m: &Mbuf, af: u8, pa: &mut AltqPktattr) {
    if ifq_is_enabled(ifq) {
        pa.pattr_af = af;
        pa.classified = true;
    } else {
        *pa = AltqPktattr::default();
    }
}

/// `ifq_dequeue(ifq, NULL)`: removes and returns the head packet.
pub fn ifq_dequeue(ifq: &mut Ifq) -> Option<MbufBox> {
    ifq.q.pop_front()
}

/// `ifq_poll(ifq)`: the head packet, left queued.
pub fn ifq_poll(ifq: &Ifq) -> Option<&Mbuf> {
    ifq.q.front().map(|b| &**b)
}

/// `ifq_purge(ifq)`: frees every queued packet.
pub fn ifq_purge(ifq: &mut Ifq) {
    let n = ifq.q.len();
    ifq.q.clear();
    if n > 0 {
        ifq.emit(|| Event::Purge {
            ifname: ifq.ifname.clone(),
            count: n,
        });
    }
}

/// `IF_DROP(ifq)`: counts a dropped packet.
#[doc(alias = "IF_DROP")]
pub fn if_drop(ifq: &mut Ifq) {
    ifq.drops += 1;
}
