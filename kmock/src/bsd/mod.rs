// SPDX-License-Identifier: BSD-2-Clause
//! The BSD kernel services: the API a real-kernel port of the tun driver re-implements.
//!
//! This is the API half: handle types, functions, constants and the DragonFly semantics in
//! the docs. It reaches the implementation only through [`crate::door`]. It allocates
//! fallibly where the BSD call can fail (`MB_DONTWAIT` mbufs) and answers bad input with an
//! errno instead of panicking. The leaf modules ([`errno`], [`param`], [`ifdefs`],
//! [`ioccom`], [`socket`], [`cred`], [`uio`]) import no service: they are the vocabulary
//! both the API and an implementation read, like C headers. Each module states the DragonFly semantics it mirrors and
//! carries the DragonFly names as `#[doc(alias)]` where the Rust name differs.
//!
//! | module | DragonFly APIs provided |
//! |---|---|
//! | [`mbuf`] | 13: `MGETHDR`, `MGET`, `M_PREPEND`, `m_prepend`, `m_pullup`, `m_adj`, `m_free`, `m_freem`, `mtod`, `M_LEADINGSPACE`, `M_TRAILINGSPACE`, `m_length`, `m_copydata` |
//! | [`uio`] | 3: `struct uio`, `uiomove`, `IO_NDELAY` |
//! | [`ifnet`] | 12: `if_initname`, `if_attach`, `if_down`, `if_up`, `if_purgeaddrs_nolink`, `if_printf`, `ifnet_serialize_all`, `ifnet_deserialize_all`, `if_output`, `if_ioctl`, `if_start`, `ifioctl` |
//! | [`ifq`] | 10: `ifq_set_maxlen`, `ifq_set_ready`, `ifq_is_enabled`, `ifq_classify`, `ifq_handoff`, `ifq_dequeue`, `ifq_poll`, `ifq_purge`, `ifq_is_empty`, `IF_DROP` |
//! | [`bpf`] | 3: `bpfattach`, `bpf_mtap`, `bpf_ptap` |
//! | [`netisr`] | 1: `netisr_queue` |
//! | [`devfs`] | 9: `struct dev_ops`, `make_dev`, `make_only_dev`, `make_autoclone_dev`, `devfs_clone_bitmap_get`, `devfs_clone_bitmap_set`, `devfs_clone_bitmap_put`, `si_drv1`, `minor` |
//! | [`cred`] | 1: `priv_check_cred` |
//! | [`sleep`] | 2: `tsleep`, `wakeup` |
//! | [`kqueue`] | 4: `knote_insert`, `knote_remove`, `KNOTE`, `struct filterops` |
//! | [`sigio`] | 4: `fsetown`, `fgetown`, `funsetown`, `pgsigio` |
//! | [`sysctl`] | 1: `SYSCTL_INT` |
//! | [`proc`] | 1: `curproc` |
//! | [`ioccom`] | 5: `_IOC`, `_IO`, `_IOR`, `_IOW`, `_IOWR` |
//! | [`socket`] | 1: `struct sockaddr` |
//!
//! 70 in all.

pub mod bpf;
pub mod cred;
pub mod devfs;
pub mod errno;
pub mod ifdefs;
pub mod ifnet;
pub mod ifq;
#[allow(non_snake_case)]
pub mod ioccom;
pub mod kqueue;
pub mod mbuf;
pub mod netisr;
pub mod param;
pub mod proc;
pub mod sigio;
pub mod sleep;
pub mod socket;
pub mod sysctl;
pub mod uio;
