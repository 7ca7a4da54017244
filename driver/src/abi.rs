// SPDX-License-Identifier: BSD-2-Clause
//! The user ABI of the tun device (`net/tun/if_tun.h`): `struct tuninfo`, the `TUN*` ioctl
//! numbers, and the BSD `sockaddr` that `TUNSLMODE` puts in front of each packet.
//!
//! Every ioctl number is built with the BSD `_IO`/`_IOR`/`_IOW` encoding and checked at
//! compile time against DragonFly's value.

use core::mem::{align_of, offset_of, size_of};
use kernel::bsd::ioccom::{_IO, _IOR, _IOW};
use static_assertions::const_assert_eq;

pub use kernel::bsd::ioccom::{
    FIOASYNC, FIOGETOWN, FIONBIO, FIONREAD, FIOSETOWN, SIOCADDMULTI, SIOCDELMULTI, SIOCGIFSTATUS,
    SIOCSIFADDR, SIOCSIFDSTADDR, SIOCSIFFLAGS, SIOCSIFMTU, TIOCGPGRP, TIOCSIG, TIOCSPGRP,
};
pub use kernel::bsd::socket::SockAddr;

/// `TUNMTU`: the interface MTU at creation.
pub const TUNMTU: u64 = 1500;
/// `TUNMRU`: the largest packet a `write(2)` may carry.
pub const TUNMRU: usize = 16384;

/// `struct tuninfo`: the argument of `TUNSIFINFO`/`TUNGIFINFO`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunInfo {
    /// Line speed (`int`).
    pub baudrate: i32,
    /// Maximum transmission unit (`u_short`).
    pub mtu: u16,
    /// Interface type, an `IFT_*` (`u_char`).
    pub type_: u8,
    /// Padding (`u_char`).
    pub dummy: u8,
}

const_assert_eq!(size_of::<TunInfo>(), 8);
const_assert_eq!(align_of::<TunInfo>(), 4);
const_assert_eq!(offset_of!(TunInfo, baudrate), 0);
const_assert_eq!(offset_of!(TunInfo, mtu), 4);
const_assert_eq!(offset_of!(TunInfo, type_), 6);
const_assert_eq!(offset_of!(TunInfo, dummy), 7);

impl TunInfo {
    /// Reads a `struct tuninfo` from an ioctl argument buffer (`EFAULT` if it is short).
    pub fn from_bytes(b: &[u8]) -> kernel::error::Result<TunInfo> {
        let b = b
            .get(..size_of::<TunInfo>())
            .ok_or(kernel::error::code::EFAULT)?;
        Ok(TunInfo {
            baudrate: i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            mtu: u16::from_ne_bytes([b[4], b[5]]),
            type_: b[6],
            dummy: b[7],
        })
    }

    /// Writes it into an ioctl argument buffer (`EFAULT` if it is short).
    pub fn to_bytes(&self, b: &mut [u8]) -> kernel::error::Result {
        let b = b
            .get_mut(..size_of::<TunInfo>())
            .ok_or(kernel::error::code::EFAULT)?;
        b[0..4].copy_from_slice(&self.baudrate.to_ne_bytes());
        b[4..6].copy_from_slice(&self.mtu.to_ne_bytes());
        b[6] = self.type_;
        b[7] = self.dummy;
        Ok(())
    }
}

const INT: usize = size_of::<i32>();

/// `TUNGDEBUG`: get the debug level (`debug.if_tun_debug`).
pub const TUNGDEBUG: u32 = _IOR(b't', 89, INT);
/// `TUNSDEBUG`: set the debug level.
pub const TUNSDEBUG: u32 = _IOW(b't', 90, INT);
/// `TUNSIFINFO`: set mtu, type and baudrate.
pub const TUNSIFINFO: u32 = _IOW(b't', 91, size_of::<TunInfo>());
/// `TUNGIFINFO`: get mtu, type and baudrate.
pub const TUNGIFINFO: u32 = _IOR(b't', 92, size_of::<TunInfo>());
/// `TUNSLMODE`: prefix read packets with the destination sockaddr.
pub const TUNSLMODE: u32 = _IOW(b't', 93, INT);
/// `TUNSIFMODE`: point-to-point or broadcast.
pub const TUNSIFMODE: u32 = _IOW(b't', 94, INT);
/// `TUNSIFPID`: record the caller as the interface's process (same number as `TIOCSIG`).
pub const TUNSIFPID: u32 = _IO(b't', 95);
/// `TUNSIFHEAD`: prefix packets with a 4-byte network-order address family.
pub const TUNSIFHEAD: u32 = _IOW(b't', 96, INT);
/// `TUNGIFHEAD`: whether `TUNSIFHEAD` is on.
pub const TUNGIFHEAD: u32 = _IOR(b't', 97, INT);

const_assert_eq!(TUNGDEBUG, 0x4004_7459);
const_assert_eq!(TUNSDEBUG, 0x8004_745a);
const_assert_eq!(TUNSIFINFO, 0x8008_745b);
const_assert_eq!(TUNGIFINFO, 0x4008_745c);
const_assert_eq!(TUNSLMODE, 0x8004_745d);
const_assert_eq!(TUNSIFMODE, 0x8004_745e);
const_assert_eq!(TUNSIFPID, 0x2000_745f);
const_assert_eq!(TUNSIFHEAD, 0x8004_7460);
const_assert_eq!(TUNGIFHEAD, 0x4004_7461);
const_assert_eq!(TUNSIFPID, TIOCSIG);
const_assert_eq!(FIONREAD, 0x4004_667f);
const_assert_eq!(FIONBIO, 0x8004_667e);
const_assert_eq!(FIOASYNC, 0x8004_667d);
const_assert_eq!(FIOSETOWN, 0x8004_667c);
const_assert_eq!(FIOGETOWN, 0x4004_667b);
const_assert_eq!(TIOCSPGRP, 0x8004_7476);
const_assert_eq!(TIOCGPGRP, 0x4004_7477);
const_assert_eq!(SIOCSIFADDR, 0x8020_690c);
const_assert_eq!(SIOCSIFDSTADDR, 0x8020_690e);
const_assert_eq!(SIOCSIFFLAGS, 0x8020_6910);
const_assert_eq!(SIOCADDMULTI, 0x8020_6931);
const_assert_eq!(SIOCDELMULTI, 0x8020_6932);
const_assert_eq!(SIOCSIFMTU, 0x8020_6934);
const_assert_eq!(SIOCGIFSTATUS, 0xc331_693b);
