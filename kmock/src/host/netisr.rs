// SPDX-License-Identifier: BSD-2-Clause
//! The netisr queues: what `netisr_queue` hands to a protocol waits here (or goes to a
//! handler the environment installed, such as tunsim's host stack).
//!
//! The host stores packets type-erased; the API's typed accessors
//! (`Netisr::dequeue`, `Netisr::set_handler` in [`crate::bsd::netisr`]) give them back as
//! mbuf chains.

use core::any::Any;
use std::boxed::Box;
use std::collections::{BTreeMap, VecDeque};
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

/// The netisr queues of one kernel.
pub struct Netisr {
    queues: Mutex<BTreeMap<u32, VecDeque<Packet>>>,
    handlers: Mutex<BTreeMap<u32, AnyHandler>>,
}

impl Netisr {
    pub(crate) fn new() -> Self {
        Netisr {
            queues: Mutex::new(BTreeMap::new()),
            handlers: Mutex::new(BTreeMap::new()),
        }
    }

    /// Packets waiting on queue `num`.
    pub fn len(&self, num: u32) -> usize {
        lock(&self.queues).get(&num).map_or(0, |q| q.len())
    }

    /// Whether every queue is empty.
    pub fn is_empty(&self) -> bool {
        lock(&self.queues).values().all(|q| q.is_empty())
    }

    /// Takes the oldest packet of queue `num`, type-erased.
    pub fn dequeue_any(&self, num: u32) -> Option<Packet> {
        lock(&self.queues).get_mut(&num)?.pop_front()
    }

    /// Takes every queued packet, by queue number then age, type-erased.
    pub fn drain_any(&self) -> Vec<(u32, Packet)> {
        let mut out = Vec::new();
        for (num, q) in lock(&self.queues).iter_mut() {
            out.extend(q.drain(..).map(|m| (*num, m)));
        }
        out
    }

    /// Installs a handler for queue `num`: later packets go to it instead of the queue.
    pub fn set_handler_any(&self, num: u32, h: AnyHandler) {
        lock(&self.handlers).insert(num, h);
    }

    /// Removes queue `num`'s handler.
    pub fn clear_handler(&self, num: u32) {
        lock(&self.handlers).remove(&num);
    }

    pub(crate) fn queue(&self, num: u32, pkt: Packet) -> Result {
        let h = lock(&self.handlers).get(&num).cloned();
        if let Some(h) = h {
            h(pkt);
            return Ok(());
        }
        let mut qs = lock(&self.queues);
        let q = qs.entry(num).or_default();
        if q.len() >= NETISR_QLEN {
            return Err(ENOBUFS);
        }
        q.push_back(pkt);
        Ok(())
    }
}
