// SPDX-License-Identifier: BSD-2-Clause
//! A consistent view of a tun unit's state, for `show`, the demo and tests (a host-side
//! tool: the driver itself keeps no such snapshot).

use if_tun::{TunFlags, TunSoftc};
use kmock::bsd::ifnet::ifnet_serialize_all;
use kmock::bsd::sigio::Sigio;

/// A unit's state, read with the serializer held for the serialized fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunStatus {
    /// `tun_flags`.
    pub flags: TunFlags,
    /// `tun_pid`.
    pub pid: i32,
    /// The SIGIO owner.
    pub sigio: Option<Sigio>,
    /// The debug level.
    pub tundebug: i32,
    /// The knotes on `tun_rkq`, in list order: (id, filter).
    pub knotes: Vec<(u64, i16)>,
}

/// `status()` on a softc.
pub trait SoftcStatus {
    /// Reads the unit's state.
    fn status(&self) -> TunStatus;
}

impl SoftcStatus for TunSoftc {
    fn status(&self) -> TunStatus {
        let (flags, pid) = {
            let g = ifnet_serialize_all(&self.tun_if);
            (g.sc.tun_flags, g.sc.tun_pid)
        };
        TunStatus {
            flags,
            pid,
            sigio: self.tun_sigio.get(),
            tundebug: self.tundebug.get(),
            knotes: self
                .tun_rkq
                .snapshot()
                .iter()
                .map(|k| (k.id(), k.kn_filter()))
                .collect(),
        }
    }
}
