// SPDX-License-Identifier: BSD-2-Clause
//! Interfaces on the host: the interface list (`ifnet` list, `ifunit`) and the generic
//! ifioctl layer (`ifioctl()`/`in_control()`), which does, before and around a driver's
//! `if_ioctl`, what DragonFly's kernel does for the requests the tun driver sees.
//!
//! The host reaches an interface only through [`IfHost`], which the API's `Ifnet`
//! implements.

use core::any::Any;
use std::string::String;
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::sync::lock;
use crate::bsd::cred::{priv_check_cred, Ucred, PRIV_ROOT};
use crate::bsd::errno::{EADDRNOTAVAIL, EOPNOTSUPP};
use crate::bsd::ifdefs::{
    ifreq_with_mtu, IfAddr, IfFlags, IfFlagsCell, IFF_CANTCHANGE, IF_MAXMTU, IF_MINMTU,
};
use crate::bsd::ioccom::*;
use crate::bsd::socket::{SockAddr, AF_INET};
use crate::error::{code, Result};

/// What the host needs of an interface.
pub trait IfHost: Send + Sync {
    /// `if_xname`.
    fn name(&self) -> &str;
    /// `if_index` (0 until attached).
    fn index(&self) -> u32;
    /// `if_flags`.
    fn flags(&self) -> &IfFlagsCell;
    /// `if_mtu`.
    fn mtu(&self) -> u64;
    /// Sets `if_mtu`.
    fn set_mtu(&self, mtu: u64);
    /// The address list, in order.
    fn addrs(&self) -> Vec<IfAddr>;
    /// Edits the address list under its lock.
    fn with_addrs(&self, f: &mut dyn FnMut(&mut Vec<IfAddr>));
    /// The driver's `if_ioctl`, in the interface's kernel context.
    fn driver_ioctl(&self, cmd: u32, data: Option<&mut [u8]>, cred: &Ucred) -> Result;
    /// `if_down(ifp)`.
    fn if_down(&self);
    /// `if_up(ifp)`.
    fn if_up(&self);
}

/// One attached interface: how the host calls it, and the API's object for typed lookups.
#[derive(Clone)]
pub struct IfSlot {
    /// The interface as the host sees it.
    pub ops: Arc<dyn IfHost>,
    /// The API's object (an `Arc<dyn IfnetDyn>` inside).
    pub obj: Arc<dyn Any + Send + Sync>,
}

/// The interface list of one kernel, in attach order.
pub struct IfList {
    list: Mutex<Vec<IfSlot>>,
}

impl IfList {
    pub(crate) fn new() -> Self {
        IfList {
            list: Mutex::new(Vec::new()),
        }
    }

    /// Every attached interface.
    pub fn slots(&self) -> Vec<IfSlot> {
        lock(&self.list).clone()
    }

    /// Appends an interface; returns its index (1-based).
    pub(crate) fn push(&self, slot: IfSlot) -> u32 {
        let mut list = lock(&self.list);
        list.push(slot);
        list.len() as u32
    }

    /// Takes interface `index` off the list.
    pub(crate) fn remove(&self, index: u32) {
        lock(&self.list).retain(|s| s.ops.index() != index);
    }

    /// The interface named `name` (`ifunit()`).
    pub fn find(&self, name: &str) -> Option<IfSlot> {
        lock(&self.list)
            .iter()
            .find(|s| s.ops.name() == name)
            .cloned()
    }
}

/// The argument of a generic interface ioctl ([`ifioctl`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfIoctlArg {
    /// No argument.
    None,
    /// An IPv4 address (`SIOCSIFADDR`, `SIOCSIFDSTADDR`).
    Inet([u8; 4]),
    /// An integer (`SIOCSIFFLAGS` flags, `SIOCSIFMTU`, raw commands' `ifr_mtu`).
    Int(i32),
}

/// The result of [`ifioctl`] for `SIOCGIFSTATUS`: the status text; otherwise empty.
pub type IfIoctlOut = String;

/// `ifioctl()`/`in_control()`: the generic socket-ioctl layer around a driver's `if_ioctl`.
///
/// - `SIOCSIFADDR A`: root only (`EPERM`); adds an `AF_INET` address at the tail if none
///   exists, sets it, calls the driver, and restores the old state if the driver fails.
/// - `SIOCSIFDSTADDR A`: root only; `EADDRNOTAVAIL` without an `AF_INET` address; `EINVAL`
///   without `IFF_POINTOPOINT`; sets the destination, calls the driver, restores on error.
/// - `SIOCSIFFLAGS F`: root only; `if_down`/`if_up` on an `IFF_UP` transition (unless
///   `IFF_SMART`), rewrites the changeable flags (`IFF_PPROMISC` forces `IFF_PROMISC`), calls
///   the driver and ignores its result.
/// - `SIOCSIFMTU N`: root only; `EINVAL` outside `IF_MINMTU..=IF_MAXMTU`; else the driver.
/// - `SIOCADDMULTI`/`SIOCDELMULTI`: root only; `EOPNOTSUPP` without `IFF_MULTICAST`; the
///   driver with no data, result ignored.
/// - `SIOCGIFSTATUS`: a zeroed `struct ifstat` to the driver; returns its text.
/// - anything else: the driver with a zeroed `ifreq` whose `ifr_mtu` is the `Int` argument.
pub fn ifioctl(ifp: &dyn IfHost, cmd: u32, arg: IfIoctlArg, cred: &Ucred) -> Result<String> {
    let int = match arg {
        IfIoctlArg::Int(v) => v,
        _ => 0,
    };
    match cmd {
        SIOCSIFADDR => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            let IfIoctlArg::Inet(a) = arg else {
                return Err(code::EINVAL);
            };
            set_addr_then_driver(ifp, cmd, cred, &mut |list| match list
                .iter_mut()
                .find(|x| x.family() == Some(AF_INET))
            {
                Some(x) => x.addr = Some(SockAddr::inet(a)),
                None => list.push(IfAddr {
                    addr: Some(SockAddr::inet(a)),
                    dstaddr: None,
                }),
            })
        }
        SIOCSIFDSTADDR => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            let IfIoctlArg::Inet(a) = arg else {
                return Err(code::EINVAL);
            };
            if !ifp.addrs().iter().any(|x| x.family() == Some(AF_INET)) {
                return Err(EADDRNOTAVAIL);
            }
            if !ifp.flags().get().contains(IfFlags::IFF_POINTOPOINT) {
                return Err(code::EINVAL);
            }
            set_addr_then_driver(ifp, cmd, cred, &mut |list| {
                if let Some(x) = list.iter_mut().find(|x| x.family() == Some(AF_INET)) {
                    x.dstaddr = Some(SockAddr::inet(a));
                }
            })
        }
        SIOCSIFFLAGS => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            let new = IfFlags::from_bits_retain(int as u32);
            let old = ifp.flags().get();
            if !old.contains(IfFlags::IFF_SMART) {
                if old.contains(IfFlags::IFF_UP) && !new.contains(IfFlags::IFF_UP) {
                    ifp.if_down();
                } else if !old.contains(IfFlags::IFF_UP) && new.contains(IfFlags::IFF_UP) {
                    ifp.if_up();
                }
            }
            let cur = ifp.flags().get();
            let mut f = (cur & IFF_CANTCHANGE) | (new - IFF_CANTCHANGE);
            if f.contains(IfFlags::IFF_PPROMISC) {
                f |= IfFlags::IFF_PROMISC;
            } else {
                f -= IfFlags::IFF_PROMISC;
            }
            ifp.flags().set(f);
            let _ = ifp.driver_ioctl(cmd, Some(&mut ifreq_with_mtu(int)), cred);
            Ok(String::new())
        }
        SIOCSIFMTU => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            if int < IF_MINMTU as i32 || int > IF_MAXMTU as i32 {
                return Err(code::EINVAL);
            }
            ifp.driver_ioctl(cmd, Some(&mut ifreq_with_mtu(int)), cred)
                .map(|_| String::new())
        }
        SIOCADDMULTI | SIOCDELMULTI => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            if !ifp.flags().get().contains(IfFlags::IFF_MULTICAST) {
                return Err(EOPNOTSUPP);
            }
            let _ = ifp.driver_ioctl(cmd, None, cred);
            Ok(String::new())
        }
        SIOCGIFSTATUS => {
            let mut ifs = std::vec![0u8; IFSTAT_SIZE];
            ifp.driver_ioctl(cmd, Some(&mut ifs), cred)?;
            let ascii = &ifs[IFNAMSIZ..];
            let end = ascii.iter().position(|&b| b == 0).unwrap_or(ascii.len());
            Ok(String::from_utf8_lossy(&ascii[..end]).into_owned())
        }
        _ => ifp
            .driver_ioctl(cmd, Some(&mut ifreq_with_mtu(int)), cred)
            .map(|_| String::new()),
    }
}

/// `in_control()`'s pattern: change the address list, call the driver with a zeroed
/// `ifreq`, and put the old list back if the driver fails.
fn set_addr_then_driver(
    ifp: &dyn IfHost,
    cmd: u32,
    cred: &Ucred,
    edit: &mut dyn FnMut(&mut Vec<IfAddr>),
) -> Result<String> {
    let saved = ifp.addrs();
    ifp.with_addrs(edit);
    let r = ifp.driver_ioctl(cmd, Some(&mut ifreq_with_mtu(0)), cred);
    if r.is_err() {
        ifp.with_addrs(&mut |list| *list = saved.clone());
    }
    r.map(|_| String::new())
}
