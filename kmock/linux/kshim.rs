// SPDX-License-Identifier: BSD-2-Clause
//! kshim: the kernel-side implementation of kmock's API, for Linux 6.12.
//!
//! Kbuild compiles this crate into `if_tun.ko` and hands it to the driver under the name
//! `kernel`, in place of kmock: `driver/src` is compiled unchanged against it. It provides
//! the same names and signatures the driver uses:
//!
//! - the Rust-for-Linux face is the real one (`kernel::alloc`, `kernel::sync::Arc`,
//!   `kernel::init`, the `pr_*!` and `static_assert!` macros), re-exported;
//! - the BSD vocabulary is kmock's own source, compiled here with `--cfg kernel`
//!   (`error`, `bsd::{errno, ioccom, socket, param, ifdefs, cred, mbuf}`);
//! - the BSD services (uio, ifnet, ifq, bpf, netisr, devfs, kqueue, sigio, sleep, sysctl,
//!   proc) are implemented on Linux here, with the C glue in `glue.c` doing what 6.12's
//!   Rust bindings cannot (character devices and their `file_operations`, `net_device`,
//!   wait queues, `poll_wait`, signals, address notifiers).
//!
//! Every `unsafe` block carries a `// SAFETY:` comment. See `docs/kernel.md`.

#![allow(dead_code)]
#![allow(unreachable_pub)]
#![allow(missing_docs)]

pub mod alloc;
pub mod door;
#[path = "../src/error.rs"]
pub mod error;
pub mod ffi;
pub mod glue;
pub mod init;
pub mod module;
pub mod prelude;
pub mod sync;

/// The BSD face.
pub mod bsd {
    pub mod bpf;
    #[path = "../../src/bsd/cred.rs"]
    pub mod cred;
    pub mod devfs;
    #[path = "../../src/bsd/errno.rs"]
    pub mod errno;
    #[path = "../../src/bsd/ifdefs.rs"]
    pub mod ifdefs;
    pub mod ifnet;
    pub mod ifq;
    #[allow(non_snake_case)]
    #[path = "../../src/bsd/ioccom.rs"]
    pub mod ioccom;
    pub mod kqueue;
    #[path = "../../src/bsd/mbuf.rs"]
    pub mod mbuf;
    pub mod netisr;
    #[path = "../../src/bsd/param.rs"]
    pub mod param;
    pub mod proc;
    pub mod sigio;
    pub mod sleep;
    #[path = "../../src/bsd/socket.rs"]
    pub mod socket;
    pub mod sysctl;
    pub mod uio;
}

pub use error::{Error, Result};
pub use glue::{linux_exit, linux_init, live_mbufs, to_kernel_error};

/// The prefix of this crate's `pr_*!` lines (the root crate's `module!` defines its own).
const __LOG_PREFIX: &[u8] = b"if_tun\0";
