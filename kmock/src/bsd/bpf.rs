// SPDX-License-Identifier: BSD-2-Clause
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

use std::vec::Vec;

use super::mbuf::Mbuf;
pub use crate::door::BpfIf;
pub use crate::door::BpfListener;

/// `DLT_NULL`: BSD loopback encapsulation (4-byte host-order address family).
pub const DLT_NULL: u32 = 0;

/// A live tap point: `ifp->if_bpf` while it is non-NULL.
pub struct BpfTap<'a> {
    bif: &'a BpfIf,
}

impl<'a> BpfTap<'a> {
    /// The tap point of `bif`, if anyone listens (`if (ifp->if_bpf)`).
    pub fn of(bif: &'a BpfIf) -> Option<Self> {
        bif.is_tapped().then_some(BpfTap { bif })
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
