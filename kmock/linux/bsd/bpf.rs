// SPDX-License-Identifier: BSD-2-Clause
//! bpf: Linux's packet taps (`tcpdump -i tun0`) see both directions of a `net_device` by
//! themselves, so the driver's taps find no listener ([`BpfTap`] is never handed out).

use super::mbuf::Mbuf;

/// `DLT_NULL`.
pub const DLT_NULL: u32 = 0;

/// A live tap point; none exists on Linux.
pub struct BpfTap<'a> {
    _never: core::marker::PhantomData<&'a ()>,
    _void: core::convert::Infallible,
}

/// `bpf_mtap(bp, m)`.
pub fn bpf_mtap(_bp: &BpfTap<'_>, _m: &Mbuf) {}

/// `bpf_ptap(bp, m, data, dlen)`.
pub fn bpf_ptap(_bp: &BpfTap<'_>, _m: &Mbuf, _data: &[u8]) {}
