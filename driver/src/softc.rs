// SPDX-License-Identifier: BSD-2-Clause
//! The per-unit state (`struct tun_softc`, `net/tun/if_tunvar.h`) and its lock map.

use kernel::bsd::ifnet::Ifnet;
use kernel::bsd::kqueue::KList;
use kernel::bsd::sigio::SigioSlot;
use kernel::bsd::sysctl::SysctlInt;
use kernel::sync::Arc;

bitflags::bitflags! {
    /// `tun_flags`, DragonFly's values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct TunFlags: u16 {
        /// `TUN_OPEN`: a descriptor is open.
        const TUN_OPEN = 0x0001;
        /// `TUN_INITED`: the softc exists.
        const TUN_INITED = 0x0002;
        /// `TUN_RCOLL`: never used.
        const TUN_RCOLL = 0x0004;
        /// `TUN_IASET`: an IPv4 address is set.
        const TUN_IASET = 0x0008;
        /// `TUN_DSTADDR`: never used.
        const TUN_DSTADDR = 0x0010;
        /// `TUN_LMODE`: packets read carry the destination sockaddr first.
        const TUN_LMODE = 0x0020;
        /// `TUN_RWAIT`: a reader sleeps (or slept) waiting for a packet.
        const TUN_RWAIT = 0x0040;
        /// `TUN_ASYNC`: send SIGIO on output.
        const TUN_ASYNC = 0x0080;
        /// `TUN_IFHEAD`: packets carry a 4-byte network-order address family.
        const TUN_IFHEAD = 0x0100;
        /// `TUN_READY` = `TUN_OPEN | TUN_INITED` (not `TUN_IASET`).
        const TUN_READY = Self::TUN_OPEN.bits() | Self::TUN_INITED.bits();
    }
}

/// The softc's fields that the interface serializer protects, next to `if_snd`.
#[derive(Debug)]
pub struct TunSerialized {
    /// `tun_flags`.
    pub tun_flags: TunFlags,
    /// `tun_pid`: the process that opened the unit (or `TUNSIFPID`), 0 after close.
    pub tun_pid: i32,
}

/// `struct tun_softc`: one tun unit.
///
/// # Lock map
///
/// | field (C) | here | protected by |
/// |---|---|---|
/// | `tun_flags` | `tun_if` → serialized `sc.tun_flags` | the ifnet serializer (`ifnet_serialize_all`) |
/// | `tun_pid` | `tun_if` → serialized `sc.tun_pid` | the ifnet serializer |
/// | `tun_if.if_snd` | `tun_if` → serialized `if_snd` | the ifnet serializer |
/// | `tun_if` flags, mtu, type, baudrate, counters | `tun_if` atomics | none needed (atomic) |
/// | `tun_if` address list | `tun_if` | the address-list lock inside kmock |
/// | `tun_sigio` | [`SigioSlot`] | its own lock (`SIGIO_LOCK`; the C used the MP lock) |
/// | `tun_rkq` | [`KList`] | the klist's lock (the C inserted under the serializer) |
/// | `tun_wkq` | — | never used by the C; omitted |
///
/// The C touches `tun_flags` from `tunioctl` and `tunread` without the serializer (the
/// device side ran under the MP lock). Here `tun_flags` and `tun_pid` live inside the
/// serializer's state, so every access takes `ifnet_serialize_all`: the compiler enforces
/// what the C left to discipline. Order: serializer, then (inside it) the sleep queue
/// (`wakeup`, `tsleep`'s interlock), the sigio lock and the klist lock; `KNOTE` runs with the
/// serializer released because the read filter takes it.
pub struct TunSoftc {
    /// `tun_if`: the interface. Its `if_softc` points back here (a strong reference set in
    /// `tuncreate`, dropped by `if_detach` at unload).
    pub tun_if: Arc<Ifnet<TunSoftc>>,
    /// `tun_sigio`: the SIGIO owner.
    pub tun_sigio: SigioSlot,
    /// `tun_rkq.ki_note`: the knotes of both read and write filters.
    pub tun_rkq: KList,
    /// `tundebug` (`debug.if_tun_debug`), shared by every unit.
    pub tundebug: Arc<SysctlInt>,
}

impl TunSoftc {
    /// The wait channel `tunread` sleeps on and `tunoutput` wakes (the softc's address).
    pub fn wait_channel(&self) -> usize {
        kernel::bsd::sleep::chan(self)
    }
}
