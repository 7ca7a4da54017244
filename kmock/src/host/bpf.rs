// SPDX-License-Identifier: BSD-2-Clause
//! bpf on the host: an interface's attachment point and the listeners (bpf descriptors)
//! tests and tools attach to it.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::event::Event;
use super::event::EventSink;
use super::sync::lock;

/// A bpf descriptor listening on an interface.
pub trait BpfListener: Send + Sync {
    /// Receives one tapped packet: the link header (if any) followed by the packet bytes.
    fn tap(&self, dlt: u32, packet: &[u8]);
}

/// An interface's bpf attachment point (`struct bpf_if`).
pub struct BpfIf {
    ifname: Arc<str>,
    events: Arc<EventSink>,
    dlt: AtomicU32,
    hdrlen: AtomicU32,
    attached: AtomicBool,
    listeners: Mutex<Vec<Arc<dyn BpfListener>>>,
}

impl BpfIf {
    pub(crate) fn new(ifname: Arc<str>, events: Arc<EventSink>) -> Self {
        BpfIf {
            ifname,
            events,
            dlt: AtomicU32::new(0),
            hdrlen: AtomicU32::new(0),
            attached: AtomicBool::new(false),
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
        lock(&self.listeners).push(l);
        true
    }

    /// Removes a listener; returns whether it was attached.
    pub fn detach_listener(&self, l: &Arc<dyn BpfListener>) -> bool {
        let mut ls = lock(&self.listeners);
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
        lock(&self.listeners).pop().is_some()
    }

    /// Number of listeners.
    pub fn listener_count(&self) -> usize {
        lock(&self.listeners).len()
    }

    /// `ifp->if_bpf`: the tap point while someone listens.
    /// Whether a tap would reach anyone (`ifp->if_bpf != NULL`): attached and listened to.
    pub fn is_tapped(&self) -> bool {
        self.is_attached() && !lock(&self.listeners).is_empty()
    }

    /// `bpfattach`: makes the point attachable with link type `dlt`.
    pub fn attach(&self, dlt: u32, hdrlen: u32) {
        self.dlt.store(dlt, Ordering::Relaxed);
        self.hdrlen.store(hdrlen, Ordering::Relaxed);
        self.attached.store(true, Ordering::Release);
    }

    /// Hands `bytes` (link header and packet) to every listener.
    pub fn deliver(&self, bytes: Vec<u8>) {
        let dlt = self.dlt();
        let ls = lock(&self.listeners).clone();
        for l in &ls {
            l.tap(dlt, &bytes);
        }
        self.events.emit(|| Event::Bpf {
            ifname: self.ifname.clone(),
            dlt,
            data: bytes,
        });
    }
}
