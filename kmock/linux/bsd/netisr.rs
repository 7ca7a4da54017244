// SPDX-License-Identifier: BSD-2-Clause
//! netisr on Linux: `netisr_queue(NETISR_IP, m)` copies the chain into an `sk_buff` of the
//! receiving interface and hands it to `netif_rx`, Linux's input path.

use super::errno::EAFNOSUPPORT;
use super::mbuf::MbufBox;
use crate::error::{code, Result};

/// `NETISR_IP`.
pub const NETISR_IP: u32 = 2;
/// `NETISR_ATALK2`.
pub const NETISR_ATALK2: u32 = 16;
/// `NETISR_IPX`.
pub const NETISR_IPX: u32 = 23;
/// `NETISR_IPV6`.
pub const NETISR_IPV6: u32 = 28;

/// `netisr_queue(num, m)`: the packet enters Linux's stack as received on
/// `m_pkthdr.rcvif`. `ENXIO` if that interface is gone, `ENOBUFS` if no `sk_buff` can be
/// had, `EAFNOSUPPORT` for a protocol Linux is not given here (IPX, AppleTalk).
pub fn netisr_queue(num: u32, m: MbufBox) -> Result {
    let proto: u16 = match num {
        NETISR_IP => 0x0800,
        NETISR_IPV6 => 0x86dd,
        _ => return Err(EAFNOSUPPORT),
    };
    let index = m.pkthdr().and_then(|h| h.rcvif).ok_or(code::ENXIO)?;
    let dev = super::ifnet::netdev_of(index).ok_or(code::ENXIO)?;
    let len = m.chain_len();
    let mut data: *mut u8 = core::ptr::null_mut();
    // SAFETY: `dev` is a registered net_device (the interface table holds it until
    // `if_detach` unregisters it, and `netdev_of` only returns registered ones); `data`
    // receives a pointer to `len` writable bytes of the new skb.
    let skb = unsafe { crate::ffi::ktun_rx_alloc(dev, len as u32, &mut data) };
    if skb.is_null() {
        return Err(super::errno::ENOBUFS);
    }
    let mut off = 0;
    for piece in m.iter() {
        let d = piece.data();
        // SAFETY: `data..data+len` is the skb's tail room just claimed by `skb_put`, and
        // the pieces' lengths add up to `len`.
        unsafe { core::ptr::copy_nonoverlapping(d.as_ptr(), data.add(off), d.len()) };
        off += d.len();
    }
    drop(m);
    // SAFETY: `skb` was returned by `ktun_rx_alloc` for `dev` and is handed over once.
    unsafe { crate::ffi::ktun_rx(skb, dev, proto) };
    Ok(())
}
