//! Berkeley packet filter taps (`net/bpf.h`, `net/bpf.c`).
//!
//! BSD semantics mirrored:
//! - `bpfattach(ifp, dlt, hdrlen)` gives an interface a tap point with a data-link type.
//! - `ifp->if_bpf` is non-NULL only while some descriptor listens ([`super::ifnet::Ifnet::if_bpf`]
//!   returns `Some` only then), so an interface with no listener copies nothing.
//! - `bpf_mtap(bp, m)` hands the chain to every listener; `bpf_ptap(bp, m, data, dlen)`
//!   hands `data` followed by the chain (a link header the packet itself lacks). For
//!   `DLT_NULL` that header is the address family as a host-order 32-bit word.
//!
//! Listeners implement [`BpfListener`]; tests and tools attach them with
//! [`BpfIf::attach_listener`].

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::mbuf::Mbuf;
use crate::event::Event;
use crate::kernel::{Kernel, KernelInner};
use crate::sync::Mutex;

/// `DLT_NULL`: BSD loopback encapsulation (4-byte host-order address family).
pub const DLT_NULL: u32 = 0;

/// A bpf descriptor listening on an interface.
pub trait BpfListener: Send + Sync {
    /// Receives one tapped packet: the link header (if any) followed by the packet bytes.
    fn tap(&self, dlt: u32, packet: &[u8]);
}

/// An interface's bpf attachment point (`struct bpf_if`).
pub struct BpfIf {
    ifname: Arc<str>,
    kernel: Weak<KernelInner>,
    dlt: AtomicU32,
    hdrlen: AtomicU32,
    attached: core::sync::atomic::AtomicBool,
    listeners: Mutex<Vec<Arc<dyn BpfListener>>>,
}

/// A live tap point: `ifp->if_bpf` while it is non-NULL.
pub struct BpfTap<'a> {
    bif: &'a BpfIf,
}

impl BpfIf {
    pub(crate) fn new(ifname: Arc<str>, kernel: Weak<KernelInner>) -> Self {
        BpfIf {
            ifname,
            kernel,
            dlt: AtomicU32::new(0),
            hdrlen: AtomicU32::new(0),
            attached: core::sync::atomic::AtomicBool::new(false),
            listeners: Mutex::new(Vec::new()),
        }
    }

    /// Whether `bpfattach` ran.
    pub fn is_attached(&self) -> bool {
        self.attached.load(Ordering::Acquire)
    }

    /// The data-link type given to `bpfattach`.
    pub fn dlt(&self) -> u32 {
        self.dlt.load(Ordering::Relaxed)
    }

    /// The link header length given to `bpfattach`.
    pub fn hdrlen(&self) -> u32 {
        self.hdrlen.load(Ordering::Relaxed)
    }

    /// Adds a listener (opening `/dev/bpf` and `BIOCSETIF`). Fails (returns `false`) if the
    /// interface has no bpf attachment.
    pub fn attach_listener(&self, l: Arc<dyn BpfListener>) -> bool {
        if !self.is_attached() {
            return false;
        }
        self.listeners.lock().push(l);
        true
    }

    /// Removes a listener; returns whether it was attached.
    pub fn detach_listener(&self, l: &Arc<dyn BpfListener>) -> bool {
        let mut ls = self.listeners.lock();
        match ls.iter().position(|x| Arc::ptr_eq(x, l)) {
            Some(p) => {
                ls.remove(p);
                true
            }
            None => false,
        }
    }

    /// Removes the most recently attached listener; returns whether there was one.
    pub fn detach_last(&self) -> bool {
        self.listeners.lock().pop().is_some()
    }

    /// Number of listeners.
    pub fn listener_count(&self) -> usize {
        self.listeners.lock().len()
    }

    /// `ifp->if_bpf`: the tap point while someone listens.
    pub fn tap_point(&self) -> Option<BpfTap<'_>> {
        (self.is_attached() && !self.listeners.lock().is_empty()).then_some(BpfTap { bif: self })
    }

    pub(crate) fn attach(&self, dlt: u32, hdrlen: u32) {
        self.dlt.store(dlt, Ordering::Relaxed);
        self.hdrlen.store(hdrlen, Ordering::Relaxed);
        self.attached.store(true, Ordering::Release);
    }

    fn deliver(&self, bytes: Vec<u8>) {
        let dlt = self.dlt();
        let ls = self.listeners.lock().clone();
        for l in &ls {
            l.tap(dlt, &bytes);
        }
        if let Some(k) = Kernel::from_weak(&self.kernel) {
            k.emit(|| Event::Bpf {
                ifname: self.ifname.clone(),
                dlt,
                data: bytes,
            });
        }
    }
}

/// `bpf_mtap(bp, m)`: every listener receives the chain's bytes.
pub fn bpf_mtap(bp: &BpfTap<'_>, m: &Mbuf) {
    bp.bif.deliver(m.to_vec());
}

/// `bpf_ptap(bp, m, data, dlen)`: every listener receives `data` followed by the chain.
pub fn bpf_ptap(bp: &BpfTap<'_>, m: &Mbuf, data: &[u8]) {
    let mut v = Vec::with_capacity(data.len() + m.chain_len());
    v.extend_from_slice(data);
    for x in m.iter() {
        v.extend_from_slice(x.data());
    }
    bp.bif.deliver(v);
}
