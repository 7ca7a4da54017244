// SPDX-License-Identifier: BSD-2-Clause
//! Interface vocabulary (`net/if.h`): flags, types, MTU limits, the address entries of an
//! interface's list, counter snapshots and the `struct ifreq` layout.
//!
//! A leaf module, like a C header both sides include: it imports no service, so the API
//! ([`super::ifnet`]) and the implementation (the host's generic ifioctl layer) share it.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::ioccom::{data_i32, IFNAMSIZ, IFREQ_SIZE};
use super::socket::SockAddr;
use crate::error::{code, Result};

bitflags::bitflags! {
    /// `if_flags` (`IFF_*`), DragonFly values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct IfFlags: u32 {
        /// Interface is up.
        const IFF_UP = 0x1;
        /// Broadcast address valid.
        const IFF_BROADCAST = 0x2;
        /// Turn on debugging.
        const IFF_DEBUG = 0x4;
        /// Is a loopback net.
        const IFF_LOOPBACK = 0x8;
        /// Interface is point-to-point link.
        const IFF_POINTOPOINT = 0x10;
        /// Interface manages own routes.
        const IFF_SMART = 0x20;
        /// Resources allocated.
        const IFF_RUNNING = 0x40;
        /// No address resolution protocol.
        const IFF_NOARP = 0x80;
        /// Receive all packets.
        const IFF_PROMISC = 0x100;
        /// Receive all multicast packets.
        const IFF_ALLMULTI = 0x200;
        /// Transmission in progress.
        const IFF_OACTIVE = 0x400;
        /// Can't hear own transmissions.
        const IFF_SIMPLEX = 0x800;
        /// Per link layer defined bit.
        const IFF_LINK0 = 0x1000;
        /// Per link layer defined bit.
        const IFF_LINK1 = 0x2000;
        /// Per link layer defined bit.
        const IFF_LINK2 = 0x4000;
        /// Supports multicast.
        const IFF_MULTICAST = 0x8000;
        /// Interface is in polling mode.
        const IFF_POLLING = 0x10000;
        /// User-requested promiscuous mode.
        const IFF_PPROMISC = 0x20000;
        /// User-requested monitor mode.
        const IFF_MONITOR = 0x40000;
        /// Static ARP.
        const IFF_STATICARP = 0x80000;
        /// Interface is in polling mode (new).
        const IFF_NPOLLING = 0x100000;
    }
}

/// `IFF_CANTCHANGE`: flags `SIOCSIFFLAGS` cannot change.
pub const IFF_CANTCHANGE: IfFlags = IfFlags::IFF_BROADCAST
    .union(IfFlags::IFF_POINTOPOINT)
    .union(IfFlags::IFF_RUNNING)
    .union(IfFlags::IFF_OACTIVE)
    .union(IfFlags::IFF_SIMPLEX)
    .union(IfFlags::IFF_MULTICAST)
    .union(IfFlags::IFF_ALLMULTI)
    .union(IfFlags::IFF_SMART)
    .union(IfFlags::IFF_POLLING)
    .union(IfFlags::IFF_NPOLLING);

/// `IFT_PPP`.
pub const IFT_PPP: u8 = 0x17;
/// `IF_MINMTU`.
pub const IF_MINMTU: u32 = 72;
/// `IF_MAXMTU`.
pub const IF_MAXMTU: u32 = 65535;

/// `if_flags`, readable and writable without the serializer.
#[derive(Debug, Default)]
pub struct IfFlagsCell(AtomicU32);

impl IfFlagsCell {
    /// Current flags (unknown bits kept).
    pub fn get(&self) -> IfFlags {
        IfFlags::from_bits_retain(self.0.load(Ordering::SeqCst))
    }
    /// Replaces all flags.
    pub fn set(&self, f: IfFlags) {
        self.0.store(f.bits(), Ordering::SeqCst)
    }
    /// `if_flags |= f`.
    pub fn insert(&self, f: IfFlags) {
        self.0.fetch_or(f.bits(), Ordering::SeqCst);
    }
    /// `if_flags &= ~f`.
    pub fn remove(&self, f: IfFlags) {
        self.0.fetch_and(!f.bits(), Ordering::SeqCst);
    }
}

/// One interface counter (`if_ipackets`, …).
#[derive(Debug, Default)]
pub struct IfCounter(AtomicU64);

impl IfCounter {
    /// `++`.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// `+= n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A snapshot of an interface's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IfStats {
    /// Packets received.
    pub ipackets: u64,
    /// Input errors.
    pub ierrors: u64,
    /// Bytes received.
    pub ibytes: u64,
    /// Packets sent.
    pub opackets: u64,
    /// Output errors.
    pub oerrors: u64,
    /// Bytes sent.
    pub obytes: u64,
    /// Collisions.
    pub collisions: u64,
    /// Multicast packets sent.
    pub omcasts: u64,
}

/// One entry of the address list (`struct ifaddr`): `ifa_addr` (may be NULL) and
/// `ifa_dstaddr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddr {
    /// `ifa_addr`; `None` is a NULL pointer.
    pub addr: Option<SockAddr>,
    /// `ifa_dstaddr`.
    pub dstaddr: Option<SockAddr>,
}

impl IfAddr {
    /// The address's family, if it has an address.
    pub fn family(&self) -> Option<u8> {
        self.addr.as_ref().map(|a| a.sa_family())
    }
}

/// A zeroed `struct ifreq` whose `ifr_mtu` (the `int` at offset 16) is `mtu`.
pub fn ifreq_with_mtu(mtu: i32) -> [u8; IFREQ_SIZE] {
    let mut req = [0u8; IFREQ_SIZE];
    req[IFNAMSIZ..IFNAMSIZ + 4].copy_from_slice(&mtu.to_ne_bytes());
    req
}

/// `ifr->ifr_mtu`: the `int` at offset 16 of a `struct ifreq`; `EFAULT` if too short.
pub fn ifr_mtu(data: &[u8]) -> Result<i32> {
    data_i32(data.get(IFNAMSIZ..).ok_or(code::EFAULT)?)
}
