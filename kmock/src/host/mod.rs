// SPDX-License-Identifier: BSD-2-Clause
//! The host implementation of kmock's API: a kernel in a process, on `std`.
//!
//! What a kernel keeps in globals lives in one [`kernel::Kernel`] value per test: the
//! current context (which kernel, process and thread a call runs in), the [`event`] sink,
//! turn-taking threads ([`sched`], on the OS threads of `workers`), the [`sleepq`] sleep queues, the [`proc`] table, the
//! [`mbuf`] zone, the [`devfs`] table and open files, the [`ifnet`] list with the generic
//! ifioctl layer, the [`netisr`] queues, the [`bpf`] listeners, the [`sysctl`] registry,
//! module loading ([`module`]) and the allocation-failure plan (`faults`). The console and
//! the signal records are bounded logs ([`ring`]).
//!
//! Nothing here names the API's service modules: callbacks into driver code go through the
//! host-defined traits [`devfs::NodeOps`] and [`ifnet::IfHost`], which the API implements
//! (as Rust-for-Linux's `miscdevice.rs` fills a C `file_operations` table).

pub mod bpf;
pub mod console;
pub mod devfs;
pub mod entry;
pub mod event;
pub(crate) mod faults;
pub mod file;
pub mod ifnet;
pub mod kernel;
pub mod mbuf;
pub mod module;
pub mod netisr;
pub mod proc;
pub mod ring;
pub mod sched;
pub mod sleepq;
pub(crate) mod sync;
pub mod sysctl;
pub(crate) mod workers;
