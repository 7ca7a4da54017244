// SPDX-License-Identifier: BSD-2-Clause
//! Machine parameters (`sys/param.h`, `sys/mbuf.h` sizes): the mbuf geometry of DragonFly
//! x86_64 of 2010–11.
//!
//! A leaf module, like a C header both sides include: the mbuf API ([`super::mbuf`]) and
//! the host's mbuf zone share these numbers.

/// `MSIZE`: bytes of one mbuf, header included.
pub const MSIZE: usize = 256;
/// `MLEN`: data bytes of an mbuf without a packet header.
pub const MLEN: usize = 120;
/// `MHLEN`: data bytes of an mbuf with a packet header.
pub const MHLEN: usize = 56;
/// `MINCLSIZE`: the smallest size worth a cluster.
pub const MINCLSIZE: usize = MHLEN + 1;
/// `max_protohdr`: the largest protocol header `m_pullup` gathers in one go.
pub const MAX_PROTOHDR: usize = 60;
