// SPDX-License-Identifier: BSD-2-Clause
//! The netisr queues: what `netisr_queue` hands to a protocol waits here (or goes to a
//! handler the environment installed, such as tunsim's host stack).
//!
//! The host stores packets type-erased; the API's typed accessors
//! (`Netisr::dequeue`, `Netisr::set_handler` in [`crate::bsd::netisr`]) give them back as
//! mbuf chains.

use core::any::Any;
use std::boxed::Box;
use std::collections::VecDeque;
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::sync::lock;
use crate::bsd::errno::ENOBUFS;
use crate::error::Result;

/// A packet as the host stores it.
pub type Packet = Box<dyn Any + Send>;

/// A protocol input handler (`netisr_register`'s function).
pub type AnyHandler = Arc<dyn Fn(Packet) + Send + Sync>;

/// `NETISR_MAX`: netisr numbers are below this.
pub const NETISR_MAX: u32 = 32;
/// `ifqmaxlen` of a netisr queue: packets beyond it are dropped with `ENOBUFS`.
pub const NETISR_QLEN: usize = 4096;

/// One protocol's input: its queue, or the handler that takes its packets at once.
#[derive(Default)]
struct Proto {
    q: VecDeque<Packet>,
    handler: Option<AnyHandler>,
}

/// The netisr queues of one kernel: one lock, protocols indexed by number.
pub struct Netisr {
    protos: Mutex<Vec<Proto>>,
}

impl Netisr {
    pub(crate) fn new() -> Self {
        Netisr {
            protos: Mutex::new((0..NETISR_MAX).map(|_| Proto::default()).collect()),
        }
    }

    /// Packets waiting on queue `num`.
    pub fn len(&self, num: u32) -> usize {
        lock(&self.protos)
            .get(num as usize)
            .map_or(0, |p| p.q.len())
    }

    /// Whether every queue is empty.
    pub fn is_empty(&self) -> bool {
        lock(&self.protos).iter().all(|p| p.q.is_empty())
    }

    /// Takes the oldest packet of queue `num`, type-erased.
    pub fn dequeue_any(&self, num: u32) -> Option<Packet> {
        lock(&self.protos).get_mut(num as usize)?.q.pop_front()
    }

    /// Takes every queued packet, by queue number then age, type-erased.
    pub fn drain_any(&self) -> Vec<(u32, Packet)> {
        let mut out = Vec::new();
        for (num, p) in lock(&self.protos).iter_mut().enumerate() {
            out.extend(p.q.drain(..).map(|m| (num as u32, m)));
        }
        out
    }

    /// Installs a handler for queue `num`: later packets go to it instead of the queue.
    pub fn set_handler_any(&self, num: u32, h: AnyHandler) {
        if let Some(p) = lock(&self.protos).get_mut(num as usize) {
            p.handler = Some(h);
        }
    }

    /// Removes queue `num`'s handler.
    pub fn clear_handler(&self, num: u32) {
        if let Some(p) = lock(&self.protos).get_mut(num as usize) {
            p.handler = None;
        }
    }

    /// Queues `pkt` on protocol `num` (< [`NETISR_MAX`]), or hands it to its handler
    /// (called with the lock released); `ENOBUFS` when the queue is full.
    pub(crate) fn queue(&self, num: u32, pkt: Packet) -> Result {
        let mut ps = lock(&self.protos);
        let Some(p) = ps.get_mut(num as usize) else {
            return Err(crate::error::code::EINVAL);
        };
        if let Some(h) = p.handler.clone() {
            drop(ps);
            h(pkt);
            return Ok(());
        }
        if p.q.len() >= NETISR_QLEN {
            return Err(ENOBUFS);
        }
        p.q.push_back(pkt);
        Ok(())
    }
}
