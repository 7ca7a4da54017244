//! # kmock: the kernel services the tun driver runs on
//!
//! A userspace implementation of exactly the DragonFly BSD kernel services that
//! `sys/net/tun/if_tun.c` calls, shaped so that the Rust port of the driver reads like an
//! upstream Rust-for-Linux driver (`use kernel::prelude::*;`).
//!
//! kmock has two faces, kept apart in its module tree:
//!
//! - **The Rust-for-Linux face** — [`prelude`], [`error`] ([`Result`], [`Error`],
//!   `code::EINVAL`…), [`sync`] ([`sync::Mutex`], [`sync::SpinLock`], [`sync::CondVar`]),
//!   [`uaccess`] ([`uaccess::UserSliceReader`], [`uaccess::UserSliceWriter`]),
//!   [`print`](mod@print) (`pr_*!`), [`module`](mod@module) ([`module::Module`], `module!`): the names and shapes of
//!   the real `kernel` crate.
//! - **The BSD face** — [`bsd`]: mbufs, uio, ifnet, ifq, bpf, netisr, devfs, credentials,
//!   sleep/wakeup, kqueue, sigio, sysctl, processes. Its API uses only `core`/`alloc` types
//!   and reports errors as errnos, so it can be re-implemented inside a real kernel.
//!
//! Host-only support sits beside them: the [`Kernel`] instance (one per test, no globals),
//! [`event`]s (a typed record of side effects), and [`sched`] (turn-taking kernel threads
//! for deterministic runs).
//!
//! All `unsafe` of the project would live in this crate; it currently needs none.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
extern crate std;

pub mod bsd;
pub mod error;
pub mod event;
pub mod kernel;
pub mod module;
pub mod prelude;
pub mod print;
pub mod sched;
pub mod sync;
pub mod uaccess;

pub use error::{Error, Result};
pub use kernel::Kernel;
