// SPDX-License-Identifier: BSD-2-Clause
//! The BSD error numbers that Linux's `kernel::error::code` does not have
//! (`sys/errno.h`, DragonFly's values).
//!
//! The driver names these as `kernel::bsd::errno::EHOSTDOWN` and the rest of its errnos as
//! `kernel::error::code::*` (through the prelude), on the host and in the kernel alike; a
//! kernel-side implementation maps each to the Linux errno a user process sees (see
//! `docs/kernel.md`). A leaf module: it imports only the error type.

use crate::error::Error;

/// `EWOULDBLOCK` (35): operation would block (the same number as `EAGAIN`).
pub const EWOULDBLOCK: Error = Error::bsd(35);
/// `EOPNOTSUPP` (45): operation not supported.
pub const EOPNOTSUPP: Error = Error::bsd(45);
/// `EAFNOSUPPORT` (47): address family not supported by protocol family.
pub const EAFNOSUPPORT: Error = Error::bsd(47);
/// `EADDRNOTAVAIL` (49): can't assign requested address.
pub const EADDRNOTAVAIL: Error = Error::bsd(49);
/// `ENOBUFS` (55): no buffer space available.
pub const ENOBUFS: Error = Error::bsd(55);
/// `EHOSTDOWN` (64): host is down.
pub const EHOSTDOWN: Error = Error::bsd(64);
/// `ERESTART` (-1): kernel-internal, restart the system call (`SA_RESTART`).
pub const ERESTART: Error = Error::bsd(-1);
