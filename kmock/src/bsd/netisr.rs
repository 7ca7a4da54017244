//! netisr: the protocol input queues (`net/netisr.h`).
//!
//! BSD semantics mirrored: `netisr_queue(num, m)` hands packet `m` to the protocol thread
//! of `num`; from then on the protocol owns (and eventually frees) it. Here each protocol
//! has a FIFO queue that a consumer drains ([`Netisr::dequeue`]), or a handler registered
//! with [`Netisr::set_handler`] (a network stack) that receives each packet at once.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::mbuf::Mbuf;
use crate::error::{code, Result};
use crate::event::Event;
use crate::sync::Mutex;

/// `NETISR_IP`.
pub const NETISR_IP: u32 = 2;
/// `NETISR_ATALK2`.
pub const NETISR_ATALK2: u32 = 16;
/// `NETISR_IPX`.
pub const NETISR_IPX: u32 = 23;
/// `NETISR_IPV6`.
pub const NETISR_IPV6: u32 = 28;
/// `NETISR_MAX`: netisr numbers are below this.
pub const NETISR_MAX: u32 = 32;
/// Packets a protocol queue holds before `netisr_queue` drops with `ENOBUFS`.
pub const NETISR_QLEN: usize = 4096;

/// A protocol input handler.
pub type NetisrHandler = Arc<dyn Fn(Box<Mbuf>) + Send + Sync>;

/// The netisr queues of one kernel.
pub struct Netisr {
    queues: Mutex<BTreeMap<u32, VecDeque<Box<Mbuf>>>>,
    handlers: Mutex<BTreeMap<u32, NetisrHandler>>,
}

impl Netisr {
    pub(crate) fn new() -> Self {
        Netisr {
            queues: Mutex::new(BTreeMap::new()),
            handlers: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes the oldest packet queued for protocol `num`.
    pub fn dequeue(&self, num: u32) -> Option<Box<Mbuf>> {
        self.queues.lock().get_mut(&num)?.pop_front()
    }

    /// Packets queued for protocol `num`.
    pub fn len(&self, num: u32) -> usize {
        self.queues.lock().get(&num).map_or(0, |q| q.len())
    }

    /// Whether nothing is queued for any protocol.
    pub fn is_empty(&self) -> bool {
        self.queues.lock().values().all(|q| q.is_empty())
    }

    /// Takes every queued packet of every protocol, in protocol then arrival order.
    pub fn drain_all(&self) -> Vec<(u32, Box<Mbuf>)> {
        let mut out = Vec::new();
        for (num, q) in self.queues.lock().iter_mut() {
            out.extend(q.drain(..).map(|m| (*num, m)));
        }
        out
    }

    /// Registers `h` as protocol `num`'s input routine (replacing any queue consumer).
    pub fn set_handler(&self, num: u32, h: NetisrHandler) {
        self.handlers.lock().insert(num, h);
    }

    /// Removes protocol `num`'s handler; packets queue again.
    pub fn clear_handler(&self, num: u32) {
        self.handlers.lock().remove(&num);
    }
}

/// Protocol names used in logs and transcripts (`ip`, `ipv6`, `ipx`, `atalk2`).
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
pub fn netisr_queue(num: u32, m: Box<Mbuf>) -> Result {
    let Some(k) = crate::kernel::current_kernel() else {
        return Err(code::ENXIO);
    };
    if num >= NETISR_MAX {
        return Err(code::EINVAL);
    }
    k.emit(|| Event::Netisr {
        isr: num,
        len: m.pkthdr().map_or(0, |h| h.len),
        mbufs: m.chain_count(),
        data: m.to_vec(),
    });
    let ni = &k.0.netisr;
    let h = ni.handlers.lock().get(&num).cloned();
    if let Some(h) = h {
        h(m);
        return Ok(());
    }
    let mut qs = ni.queues.lock();
    let q = qs.entry(num).or_default();
    if q.len() >= NETISR_QLEN {
        return Err(code::ENOBUFS);
    }
    q.push_back(m);
    Ok(())
}
