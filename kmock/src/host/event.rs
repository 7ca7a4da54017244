// SPDX-License-Identifier: BSD-2-Clause
//! What the kernel reports: a typed record of every side effect a test, a transcript or a
//! narrator may want to see.
//!
//! kmock never formats transcript lines itself. Each service pushes an [`Event`] to the
//! kernel's sink when recording is on ([`crate::Kernel::record_events`]); the scenario
//! runner turns events into lines, tests assert on them, the demo narrates them. Recording
//! is off by default, so the per-packet paths pay only an atomic load for it.

use core::sync::atomic::{AtomicBool, Ordering};
use std::string::String;
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::sync::lock;

use crate::bsd::ifdefs::IfAddr;

/// One side effect inside the kernel, in the order it happened.
// `PurgeAddr` carries two sockaddrs (512 bytes); events are rare and only recorded when
// asked for, so the size is not worth a box in every match.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `if_attach()` ran for interface `ifname`.
    IfAttach {
        /// Interface name (`tun0`).
        ifname: Arc<str>,
    },
    /// The autoclone handler of node `node` created device `dev`.
    Clone {
        /// The autoclone node's name (`tun`).
        node: String,
        /// The created device's name (`tun4`).
        dev: String,
    },
    /// A driver printed through `if_printf`/`kprintf`; the text has no trailing newline.
    Kprintf {
        /// The printed text, with the `IF: ` prefix for `if_printf`.
        text: String,
    },
    /// A packet was appended to a send queue.
    Enqueue {
        /// Interface name.
        ifname: Arc<str>,
        /// `m_pkthdr.len` of the packet.
        len: usize,
        /// Number of mbufs in the chain.
        mbufs: usize,
        /// Queue length after the append.
        qlen: usize,
    },
    /// The classic queue was full (`ifq_len >= ifq_maxlen`); the packet was freed.
    QueueFull {
        /// Interface name.
        ifname: Arc<str>,
        /// Queue length at the time.
        qlen: usize,
    },
    /// `ifq_purge` freed `count` ≥ 1 packets.
    Purge {
        /// Interface name.
        ifname: Arc<str>,
        /// Packets freed.
        count: usize,
    },
    /// `if_down()` marked the interface down (emitted before its purge).
    IfDown {
        /// Interface name.
        ifname: Arc<str>,
    },
    /// `if_up()` marked the interface up (emitted after its purge).
    IfUp {
        /// Interface name.
        ifname: Arc<str>,
    },
    /// `if_purgeaddrs_nolink()` removed an address.
    PurgeAddr {
        /// Interface name.
        ifname: Arc<str>,
        /// The removed address.
        addr: IfAddr,
    },
    /// `wakeup(ident)` woke `woken` sleepers.
    Wakeup {
        /// The wait channel (the address of the object slept on).
        ident: usize,
        /// Sleepers this call woke.
        woken: usize,
    },
    /// A thread went to sleep in `tsleep(ident, .., wmesg, ..)`.
    Sleep {
        /// The wait channel.
        ident: usize,
        /// The wait message (`"tunread"`).
        wmesg: &'static str,
    },
    /// `pgsigio` delivered a signal to process `pid` (`pgrp` set when sent to a group).
    Sigio {
        /// Receiving process.
        pid: i32,
        /// The owner process group, when the owner is a group.
        pgrp: Option<i32>,
        /// Signal number.
        sig: i32,
    },
    /// An existing SIGIO owner was removed (`funsetown`, or `fsetown` replacing it).
    Funsetown {
        /// The removed owner: a pid (> 0) or minus a process group id (< 0).
        pgid: i32,
    },
    /// `KNOTE()` evaluated knote `id`.
    Knote {
        /// The knote's identifier (chosen by whoever registered it).
        id: u64,
        /// The knote's filter (`EVFILT_READ` = -1, `EVFILT_WRITE` = -2, …).
        filter: i16,
        /// The filter's answer.
        ready: bool,
    },
    /// A descriptor's knote was detached when the descriptor closed.
    KnoteDetached {
        /// The knote's identifier.
        id: u64,
    },
    /// A bpf tap reached the listeners of `ifname`: `data` is the link header and packet.
    Bpf {
        /// Interface name.
        ifname: Arc<str>,
        /// The data link type (`DLT_NULL` = 0).
        dlt: u32,
        /// Everything the listener received.
        data: Vec<u8>,
    },
    /// `netisr_queue()` handed a packet to protocol `isr`.
    Netisr {
        /// The netisr number (`NETISR_IP` = 2, …).
        isr: u32,
        /// `m_pkthdr.len`.
        len: usize,
        /// Mbufs in the chain.
        mbufs: usize,
        /// The packet's bytes.
        data: Vec<u8>,
    },
    /// An armed mbuf allocation failure ([`crate::host::mbuf::MbufZone::set_failalloc`],
    /// the scenario language's `failalloc`) fired.
    AllocFail {
        /// The allocator the driver called: `"m_gethdr"`, `"m_get"`, `"m_prepend"` (also
        /// reached through `M_PREPEND`) or `"m_pullup"`.
        what: &'static str,
        /// The mbuf allocation that failed inside it: `"m_gethdr"` for a packet-header
        /// mbuf, `"m_get"` otherwise. The C's `m_prepend` and `m_pullup` allocate through
        /// `m_gethdr`/`m_get`, so this is the name the reference transcripts print
        /// (`alloc fail (injected): m_gethdr`).
        mget: &'static str,
        /// The driver's call site, `file:line:column` (through `#[track_caller]`).
        site: String,
    },
    /// An injected allocation failure ([`crate::Kernel::fail_alloc_nth`],
    /// [`crate::Kernel::fail_alloc_at`]) fired.
    InjectedFail {
        /// The allocation's number in this kernel (1-based).
        nth: u64,
        /// Its call site, `file:line:column`.
        site: String,
    },
}

/// Where a kernel's events go: recorded in order while recording is on.
pub struct EventSink {
    on: AtomicBool,
    log: Mutex<Vec<Event>>,
}

impl EventSink {
    pub(crate) fn new() -> Self {
        EventSink {
            on: AtomicBool::new(false),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Records the event built by `f`, if recording is on (`f` is not called otherwise).
    pub(crate) fn emit(&self, f: impl FnOnce() -> Event) {
        if self.on.load(Ordering::Acquire) {
            let e = f();
            lock(&self.log).push(e);
        }
    }

    pub(crate) fn set_recording(&self, on: bool) {
        self.on.store(on, Ordering::Release);
    }

    pub(crate) fn take(&self) -> Vec<Event> {
        core::mem::take(&mut *lock(&self.log))
    }
}
