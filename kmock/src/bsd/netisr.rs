// SPDX-License-Identifier: BSD-2-Clause
//! netisr: the protocol input queues (`net/netisr.h`).
//!
//! BSD semantics mirrored: `netisr_queue(num, m)` hands packet `m` to the protocol thread
//! of `num`; from then on the protocol owns (and eventually frees) it. Here each protocol
//! has a FIFO queue that a consumer drains ([`Netisr::dequeue`]), or a handler registered
//! with [`Netisr::set_handler`] (a network stack) that receives each packet at once.

use std::sync::Arc as StdArc;
use std::vec::Vec;

use super::mbuf::MbufBox;
use crate::door::{self, Event};
pub use crate::door::{Netisr, NETISR_MAX, NETISR_QLEN};
use crate::error::{code, Result};

/// `NETISR_IP`.
pub const NETISR_IP: u32 = 2;
/// `NETISR_ATALK2`.
pub const NETISR_ATALK2: u32 = 16;
/// `NETISR_IPX`.
pub const NETISR_IPX: u32 = 23;
/// `NETISR_IPV6`.
pub const NETISR_IPV6: u32 = 28;

/// The protocols' short names (`ip`, `ipv6`, `ipx`, `atalk2`).
pub fn netisr_name(num: u32) -> Option<&'static str> {
    match num {
        NETISR_IP => Some("ip"),
        NETISR_IPV6 => Some("ipv6"),
        NETISR_IPX => Some("ipx"),
        NETISR_ATALK2 => Some("atalk2"),
        _ => None,
    }
}

/// `netisr_queue(num, m)`: hands `m` to protocol `num` of the current kernel. Fails with
/// `EINVAL` for a number out of range, `ENOBUFS` if the queue is full, `ENXIO` outside a
/// kernel context; in every case the packet is consumed (freed on failure).
pub fn netisr_queue(num: u32, m: MbufBox) -> Result {
    if !door::in_kernel() {
        return Err(code::ENXIO);
    }
    if num >= NETISR_MAX {
        return Err(code::EINVAL);
    }
    door::emit(|| Event::Netisr {
        isr: num,
        len: m.pkthdr().map_or(0, |h| h.len),
        mbufs: m.chain_count(),
        data: m.to_vec(),
    });
    door::netisr_queue(num, m.into_any())
}

/// The protocol side of the host's netisr queues, typed: packets come back as mbuf chains.
impl Netisr {
    /// Takes the oldest packet of queue `num`.
    pub fn dequeue(&self, num: u32) -> Option<MbufBox> {
        MbufBox::from_any(self.dequeue_any(num)?)
    }

    /// Takes every queued packet, by queue number then age.
    pub fn drain_all(&self) -> Vec<(u32, MbufBox)> {
        self.drain_any()
            .into_iter()
            .filter_map(|(n, p)| MbufBox::from_any(p).map(|m| (n, m)))
            .collect()
    }

    /// Installs the protocol input handler of queue `num` (a network stack): later packets
    /// go to `h` at once instead of the queue.
    pub fn set_handler(&self, num: u32, h: impl Fn(MbufBox) + Send + Sync + 'static) {
        self.set_handler_any(
            num,
            StdArc::new(move |p: door::Packet| {
                if let Some(m) = MbufBox::from_any(p) {
                    h(m)
                }
            }),
        );
    }
}
