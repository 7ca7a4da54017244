// SPDX-License-Identifier: BSD-2-Clause
//! # kmock: the kernel services the tun driver runs on
//!
//! The API the Rust port of DragonFly's `if_tun.c` is written against, and a userspace
//! implementation of it. The driver sees this crate as `kernel` and reads like an upstream
//! Rust-for-Linux driver (`use kernel::prelude::*;`).
//!
//! ## Layers (imports run one way, top to bottom)
//!
//! - **The Rust-for-Linux face** — [`prelude`], [`alloc`] ([`alloc::KBox`],
//!   [`alloc::KVec`], [`alloc::flags::GFP_KERNEL`]…), [`sync`] ([`sync::Arc`],
//!   [`sync::Mutex`], [`sync::SpinLock`], [`sync::CondVar`]), [`init`], [`error`],
//!   [`uaccess`], [`print`](mod@print) (`pr_*!`), [`module`](mod@module)
//!   ([`module::Module`], `module!`): the names and signatures of the `kernel` crate of
//!   Linux 6.12, every allocation fallible.
//! - **The BSD face** — [`bsd`]: mbufs, uio, ifnet, ifq, bpf, netisr, devfs, credentials,
//!   sleep/wakeup, kqueue, sigio, sysctl, processes, errno: the DragonFly API the driver
//!   calls, with its semantics in the docs.
//! - **The door** — [`door`]: the list of functions and types an implementation provides.
//!   Both faces reach an implementation only through it (as Rust-for-Linux reaches C only
//!   through `bindings`).
//! - **The host implementation** — [`host`]: the [`Kernel`] instance (one per test, no
//!   globals), events, turn-taking threads, sleep queues, processes, the mbuf zone, devfs
//!   and open files, the interface list and generic ifioctl, netisr queues, bpf listeners,
//!   sysctls, module loading, allocation-failure injection. It names no API service module,
//!   only the leaf vocabulary (errnos, `uaccess`, `uio`, `cred`, `socket`, `ioccom`,
//!   `ifdefs`, `param`), which imports nothing above it.
//!
//! A second implementation (the kernel side, issue "The real kernel") replaces `host` and
//! the door's bodies; the faces and the driver stay as they are.
//!
//! kmock has no `unsafe` (`#![forbid(unsafe_code)]`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate std;

pub mod alloc;
pub mod bsd;
pub mod door;
pub mod error;
pub mod host;
pub mod init;
pub mod module;
mod platform;
pub mod prelude;
pub mod print;
pub mod static_assert;
pub mod sync;
pub mod uaccess;

pub use error::{Error, Result};
pub use host::event;
pub use host::kernel::{ContextGuard, Kernel};
pub use host::sched;
