// SPDX-License-Identifier: BSD-2-Clause
//! # if_tun: DragonFly BSD's tun driver, in Rust
//!
//! A line-by-line port of `sys/net/tun/if_tun.c` (DragonFly BSD, 2010–11; originally by
//! Julian Onions, Nottingham University 1987, via NetBSD and FreeBSD), written as a
//! Rust-for-Linux driver is written and running on [`kernel`] (kmock).
//!
//! The tun device is a network interface whose "wire" is a character device: packets the
//! stack sends out of `tunN` are read from `/dev/tunN`, and packets written to `/dev/tunN`
//! enter the stack as if received on `tunN`. A VPN daemon is the typical user.
//!
//! ## Layout (beside the C)
//!
//! - [`if_tun`]: every function of the C, in the C's order, named after it, with the
//!   C's line range in its doc comment: `tunattach`, `tunclone`, `tuncreate`, `tunopen`,
//!   `tunclose`, `tuninit`, `tunifioctl`, `tunoutput_serialized`, `tunoutput`, `tunioctl`,
//!   `tunread`, `tunwrite`, `tunkqfilter`, `tun_filter_detach`, `tun_filter_write`,
//!   `tun_filter_read`, `tunstart`; `tun_ops` is the [`if_tun::TunOps`] `DevOps` impl.
//! - [`softc`]: `struct tun_softc`, its flags and its lock map.
//! - [`abi`]: `struct tuninfo` and the ioctl numbers, statically checked.
//!
//! ## A user's view
//!
//! ```
//! use kernel::Kernel;
//! use kernel::bsd::ioccom::FIONREAD;
//! let k = Kernel::new();
//! k.proc_set(100, 100, 1, 0).unwrap();              // a root process
//! let _tun = kernel::module::load::<if_tun::TunModule>(&k).unwrap();
//! let mut fd = k.dev_open("tun0", 100).unwrap();   // open("/dev/tun0")
//! let mut n = [0u8; 4];
//! fd.ioctl(FIONREAD, &mut n).unwrap();             // nothing queued yet
//! assert_eq!(i32::from_ne_bytes(n), 0);
//! assert_eq!(fd.write(&[0x45, 0, 0, 20]).unwrap(), 4); // a packet for the stack
//! assert_eq!(k.netisr().len(kernel::bsd::netisr::NETISR_IP), 1);
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
pub mod if_tun;
pub mod softc;

use kernel::prelude::*;
use kernel::sync::Arc;

pub use if_tun::TunOps;
pub use softc::{TunFlags, TunSoftc};

/// The loaded driver: the `PSEUDO_SET(tunattach, if_tun)` registration (if_tun.c:65–66).
pub struct TunModule {
    ops: Arc<TunOps>,
}

impl TunModule {
    /// The device operations (`tun_ops`) and clone bitmap.
    pub fn ops(&self) -> &Arc<TunOps> {
        &self.ops
    }
}

impl kernel::module::Module for TunModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(TunModule {
            ops: if_tun::tunattach()?,
        })
    }
}

impl Drop for TunModule {
    /// Unload: [`if_tun::tununload`] tears every unit down.
    fn drop(&mut self) {
        if_tun::tununload(&self.ops);
    }
}

module! {
    type: TunModule,
    name: "if_tun",
    author: "Julian Onions (original); the if_tun Rust port authors",
    description: "Tunnel network interface: packets between a network stack and a user process",
    // Every Rust symbol of Linux is GPL-only: a BSD-2-Clause module fails modpost. The
    // source is BSD-2-Clause; "Dual BSD/GPL" says it may be used under either.
    license: "Dual BSD/GPL",
}
