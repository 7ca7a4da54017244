// SPDX-License-Identifier: BSD-2-Clause
//! mbufs: packet memory (`sys/sys/mbuf.h`, `kern/uipc_mbuf.c`).
//!
//! BSD semantics mirrored, with DragonFly x86_64 sizes of the 2010–11 era:
//! [`MSIZE`] 256, [`MLEN`] 120 (data bytes of a plain mbuf), [`MHLEN`] 56 (data bytes of a
//! packet-header mbuf, whose data area starts [`MLEN`]` - `[`MHLEN`] bytes into the buffer).
//!
//! - An mbuf has a data area, a data offset (`m_data`; the bytes before it are *leading
//!   space*), a length (`m_len`) and a link to the next mbuf of its packet (`m_next`).
//! - The first mbuf of a packet carries a packet header ([`PktHdr`]: `len`, `rcvif`).
//! - `MGETHDR`/`MGET` ([`m_gethdr`], [`m_get`]) allocate; with [`MbWait::DontWait`] they
//!   may fail. [`m_prepend_hdr`] is `M_PREPEND`, [`m_pullup`], [`m_adj`], [`m_free`],
//!   [`m_freem`] keep their BSD contracts.
//!
//! Ownership replaces the C's discipline: a chain is a `MbufBox`; dropping it frees every
//! mbuf of it (`m_freem`); functions that may free or replace the head (`M_PREPEND`,
//! `m_pullup`) take the chain and give back `Option<MbufBox>`, as the C macros reassign
//! the pointer. Use after free and double free cannot be written.
//!
//! Every mbuf is counted in its kernel's [`MbufZone`] (live count, bytes, total allocated,
//! optionally the set of live ids) so tests can assert that nothing leaked. mbufs are
//! numbered from 1 in allocation order; numbers are never reused.
//!
//! On the host, freed mbufs go back to their kernel's zone and the next allocation reuses
//! them (DragonFly's mbuf objcache): after warm-up no packet allocates heap memory. As in
//! BSD, a reused mbuf's data area is not cleared; its header fields are.

use core::panic::Location;
#[cfg(not(kernel))]
use std::boxed::Box;
#[cfg(not(kernel))]
use std::sync::Arc as StdArc;
#[cfg(not(kernel))]
use std::vec::Vec;

#[cfg(kernel)]
use crate::alloc::KBox;
use crate::door::{self, MbufTag};
#[cfg(not(kernel))]
use crate::door::{MbufSlot, MbufStorage, MbufZone};
use crate::error::{code, Result};

pub use super::param::{MAX_PROTOHDR, MHLEN, MINCLSIZE, MLEN, MSIZE};
/// Offset of the packet-header data area (`m_pktdat`) inside the buffer (`m_dat`).
const PKTDAT: usize = MLEN - MHLEN;

bitflags::bitflags! {
    /// `m_flags`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MbufFlags: u32 {
        /// `M_EXT`: external storage (clusters are not modelled; never set).
        const M_EXT = 0x0001;
        /// `M_PKTHDR`: this mbuf carries the packet header.
        const M_PKTHDR = 0x0002;
        /// `M_EOR`: end of record.
        const M_EOR = 0x0004;
        /// `M_BCAST`: sent or received as link-level broadcast.
        const M_BCAST = 0x0200;
        /// `M_MCAST`: sent or received as link-level multicast.
        const M_MCAST = 0x0400;
    }
}

/// `M_COPYFLAGS`: the flags `M_MOVE_PKTHDR` carries over.
const M_COPYFLAGS: MbufFlags = MbufFlags::M_PKTHDR
    .union(MbufFlags::M_EOR)
    .union(MbufFlags::M_BCAST)
    .union(MbufFlags::M_MCAST);

/// `MB_WAIT` / `MB_DONTWAIT`: whether an allocation may sleep (and so cannot fail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MbWait {
    /// `MB_WAIT`.
    Wait,
    /// `MB_DONTWAIT`: may return `None`.
    DontWait,
}

/// `MB_DONTWAIT`.
pub const MB_DONTWAIT: MbWait = MbWait::DontWait;
/// `MB_WAIT`.
pub const MB_WAIT: MbWait = MbWait::Wait;

/// `m_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MbufType {
    /// `MT_DATA`: dynamic data.
    Data,
    /// `MT_HEADER`: packet header.
    Header,
}

/// `MT_DATA`.
pub const MT_DATA: MbufType = MbufType::Data;

/// `struct pkthdr`: the fields the tun driver and its callers use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PktHdr {
    /// `rcvif`: the receiving interface's index, if any.
    pub rcvif: Option<u32>,
    /// `len`: total bytes of the packet.
    pub len: usize,
}

/// One mbuf. Owned as `MbufBox`; its successors hang off [`Mbuf::next`].
///
/// # Invariants
///
/// `data + len <= MLEN` (the valid bytes lie inside the buffer); `data >= MLEN - MHLEN`
/// while `M_PKTHDR` is set; the mbuf is counted live in `zone` until dropped.
pub struct Mbuf {
    next: Option<MbufBox>,
    data: usize,
    len: usize,
    flags: MbufFlags,
    mtype: MbufType,
    pkthdr: PktHdr,
    dat: [u8; MLEN],
    tag: MbufTag,
}

/// An owned mbuf (`struct mbuf *`): the handle the driver holds. Dropping it frees the
/// mbuf and the rest of its chain (`m_freem`).
#[cfg(kernel)]
pub type MbufBox = KBox<Mbuf>;

/// An owned mbuf (`struct mbuf *`): the handle the driver holds. Dropping it frees the
/// mbuf and the rest of its chain (`m_freem`): their storage goes back to their zone's
/// free list.
///
/// # Invariants
///
/// The option is `Some` except inside `drop`.
#[cfg(not(kernel))]
pub struct MbufBox(Option<Box<Mbuf>>);

#[cfg(not(kernel))]
impl MbufBox {
    fn from_box(b: Box<Mbuf>) -> Self {
        MbufBox(Some(b))
    }

    fn take_box(mut self) -> Box<Mbuf> {
        match self.0.take() {
            Some(b) => b,
            None => unreachable!("MbufBox without an mbuf"),
        }
    }

    /// Storage off a zone's free list, made a new mbuf numbered `id`: the header fields
    /// are those of [`m_gethdr`]/[`m_get`]; the data area keeps whatever it held.
    fn reused(s: MbufStorage, hdr: bool, id: u64) -> Self {
        let mut m = match s.downcast::<Mbuf>() {
            Ok(m) => m,
            // A zone's free list holds only what `free_into` put there.
            Err(_) => unreachable!("foreign storage on an mbuf free list"),
        };
        m.next = None;
        m.data = if hdr { PKTDAT } else { 0 };
        m.len = 0;
        m.flags = if hdr {
            MbufFlags::M_PKTHDR
        } else {
            MbufFlags::empty()
        };
        m.mtype = if hdr {
            MbufType::Header
        } else {
            MbufType::Data
        };
        m.pkthdr = PktHdr::default();
        m.tag.set_id(id);
        MbufBox::from_box(m)
    }

    /// An mbuf from `slot`: reused storage, or a new (zeroed) allocation for a fresh tag.
    fn from_slot(slot: MbufSlot, hdr: bool) -> Self {
        match slot {
            MbufSlot::Reused(id, s) => MbufBox::reused(s, hdr, id),
            MbufSlot::Fresh(tag) => MbufBox::from_box(Box::new(Mbuf::fresh(hdr, tag))),
        }
    }

    /// The chain type-erased, for the host's queues (no allocation: the mbuf's own box).
    pub fn into_any(self) -> std::boxed::Box<dyn core::any::Any + Send> {
        self.take_box()
    }

    /// A chain back from [`MbufBox::into_any`]; `None` for anything else.
    pub fn from_any(p: std::boxed::Box<dyn core::any::Any + Send>) -> Option<Self> {
        p.downcast::<Mbuf>().ok().map(MbufBox::from_box)
    }
}

#[cfg(not(kernel))]
impl core::ops::Deref for MbufBox {
    type Target = Mbuf;
    fn deref(&self) -> &Mbuf {
        match &self.0 {
            Some(b) => b,
            None => unreachable!("MbufBox without an mbuf"),
        }
    }
}

#[cfg(not(kernel))]
impl core::ops::DerefMut for MbufBox {
    fn deref_mut(&mut self) -> &mut Mbuf {
        match &mut self.0 {
            Some(b) => b,
            None => unreachable!("MbufBox without an mbuf"),
        }
    }
}

#[cfg(not(kernel))]
impl core::fmt::Debug for MbufBox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(not(kernel))]
impl Drop for MbufBox {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            free_chain(m);
        }
    }
}

/// `m_freem`: gives every mbuf of the chain from `first` back to its zone (into the calling
/// thread's magazine; the zone is the current kernel's, found without touching reference
/// counts, when the chain is from there).
#[cfg(not(kernel))]
fn free_chain(first: Box<Mbuf>) {
    door::with_mbuf_zone(move |cur| match cur {
        Some(z) if StdArc::ptr_eq(z, first.tag.zone()) => free_into(z, first),
        _ => {
            let z = first.tag.zone().clone();
            free_into(&z, first)
        }
    })
}

#[cfg(not(kernel))]
fn free_into(zone: &StdArc<MbufZone>, first: Box<Mbuf>) {
    let mut f = zone.freer();
    let mut cur = Some(first);
    while let Some(mut m) = cur {
        cur = m.next.take().map(MbufBox::take_box);
        if StdArc::ptr_eq(m.tag.zone(), zone) {
            let id = m.tag.id();
            m.tag.set_id(0);
            f.put(id, m);
        } else {
            // Another zone's mbuf (a chain built across kernels): freed into its own.
            free_chain(m);
        }
    }
}

/// Environment allocations (a test, the network stack) on a kernel's zone (host only).
#[cfg(not(kernel))]
impl MbufZone {
    /// An allocation by the environment (a test, the network stack): never fails and is
    /// not counted by [`MbufZone::set_failalloc`].
    pub fn alloc_env(self: &StdArc<Self>, pkthdr: bool) -> MbufBox {
        MbufBox::from_slot(door::mbuf_env_tag(self), pkthdr)
    }

    /// Builds a packet from `bytes` as the environment would: a packet-header mbuf with
    /// `lead` bytes of leading space first, then plain mbufs. `segs` gives each mbuf's data
    /// length; without it the first mbuf takes `min(MHLEN - lead, rest)` and each further
    /// one `min(MLEN, rest)`. Fails with `EINVAL` if `lead > MHLEN`, if `segs` do not add up
    /// to `bytes.len()`, or if a segment exceeds its mbuf.
    pub fn packet_from(
        self: &StdArc<Self>,
        bytes: &[u8],
        lead: usize,
        segs: Option<&[usize]>,
    ) -> Result<MbufBox> {
        if lead > MHLEN {
            return Err(code::EINVAL);
        }
        if let Some(s) = segs {
            if s.is_empty() || s.iter().sum::<usize>() != bytes.len() {
                return Err(code::EINVAL);
            }
            for (i, &n) in s.iter().enumerate() {
                let cap = if i == 0 { MHLEN - lead } else { MLEN };
                if n > cap {
                    return Err(code::EINVAL);
                }
            }
        }
        // Allocate in order (ids ascend along the chain), filling and linking as we go.
        let mut top: Option<MbufBox> = None;
        let mut mp = &mut top;
        let (mut off, mut i) = (0, 0);
        loop {
            let n = match segs {
                Some(s) => match s.get(i) {
                    Some(&n) => n,
                    None => break,
                },
                None if i == 0 => bytes.len().min(MHLEN - lead),
                None if off == bytes.len() => break,
                None => (bytes.len() - off).min(MLEN),
            };
            let mut m = self.alloc_env(i == 0);
            if i == 0 {
                m.data += lead;
            }
            let d = m.data;
            m.dat[d..d + n].copy_from_slice(&bytes[off..off + n]);
            m.len = n;
            off += n;
            i += 1;
            mp = mp.insert(m).next_slot();
        }
        let mut head = top.ok_or(code::EINVAL)?;
        head.pkthdr.len = bytes.len();
        Ok(head)
    }
}

impl Mbuf {
    /// A fresh mbuf: a packet header's data at `m_pktdat`, a plain one's at `m_dat`.
    fn fresh(hdr: bool, tag: MbufTag) -> Mbuf {
        Mbuf {
            next: None,
            data: if hdr { PKTDAT } else { 0 },
            len: 0,
            flags: if hdr {
                MbufFlags::M_PKTHDR
            } else {
                MbufFlags::empty()
            },
            mtype: if hdr {
                MbufType::Header
            } else {
                MbufType::Data
            },
            pkthdr: PktHdr::default(),
            dat: [0; MLEN],
            tag,
        }
    }
}

/// Allocates an mbuf in the current kernel (or, outside any, in `like`'s zone) for
/// allocator `what` (the API function the driver called, named in the failure event),
/// charged to call site `site`: reused storage from the zone's free list when it has some.
#[cfg(not(kernel))]
fn alloc(
    what: &'static str,
    hdr: bool,
    _how: MbWait,
    like: Option<&MbufTag>,
    site: &'static Location<'static>,
) -> Option<MbufBox> {
    let slot = door::mbuf_alloc(what, hdr, like, site)?;
    Some(MbufBox::from_slot(slot, hdr))
}

/// Allocates an mbuf for allocator `what` at `site`: `kmalloc(GFP_ATOMIC)`, as
/// `MB_DONTWAIT` allocates (the slab allocator is the kernel's mbuf cache).
#[cfg(kernel)]
fn alloc(
    what: &'static str,
    hdr: bool,
    _how: MbWait,
    like: Option<&MbufTag>,
    site: &'static Location<'static>,
) -> Option<MbufBox> {
    let tag = door::mbuf_alloc(what, hdr, like, site)?;
    KBox::new(Mbuf::fresh(hdr, tag), crate::alloc::flags::GFP_ATOMIC).ok()
}

#[cfg(kernel)]
impl Drop for Mbuf {
    fn drop(&mut self) {
        // The tag returns to the zone as the fields drop. Free the rest of the chain
        // iteratively: a long chain must not recurse deeply.
        let mut next = self.next.take();
        while let Some(mut m) = next {
            next = m.next.take();
        }
    }
}

/// Storage dropped instead of going back to its zone (a queue of a kernel that is gone):
/// uncounted here. The rest of the chain is freed by its `MbufBox`, iteratively.
#[cfg(not(kernel))]
impl Drop for Mbuf {
    fn drop(&mut self) {
        if self.tag.id() != 0 {
            self.tag.zone().uncount(self.tag.id());
        }
    }
}

impl core::fmt::Debug for Mbuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mbuf")
            .field("id", &self.tag.id())
            .field("data", &self.data)
            .field("len", &self.len)
            .field("flags", &self.flags)
            .field("pkthdr", &self.pkthdr)
            .field("next", &self.next.as_ref().map(|n| n.tag.id()))
            .finish()
    }
}

impl Mbuf {
    /// The mbuf's number in its zone (`#N` in leak reports).
    pub fn id(&self) -> u64 {
        self.tag.id()
    }

    /// `m_len`: valid bytes in this mbuf.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether `m_len` is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets `m_len`. Fails with `EINVAL` (changing nothing) if the data would run past the
    /// end of the buffer.
    pub fn set_len(&mut self, len: usize) -> Result {
        if self.data + len > MLEN {
            return Err(code::EINVAL);
        }
        self.len = len;
        Ok(())
    }

    /// `mtod(m, caddr_t)` as a slice of the valid bytes.
    #[doc(alias = "mtod")]
    pub fn data(&self) -> &[u8] {
        &self.dat[self.data..self.data + self.len]
    }

    /// The valid bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.dat[self.data..self.data + self.len]
    }

    /// `*mtod(m, u_int32_t *)`: the first four valid bytes in host (little-endian) order,
    /// or `None` if `m_len < 4`.
    pub fn read_u32_ne(&self) -> Option<u32> {
        let b = self.data().get(..4)?;
        Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `*mtod(m, u_int32_t *) = v`; fails with `EINVAL` if `m_len < 4`.
    pub fn write_u32_ne(&mut self, v: u32) -> Result {
        let b = self.data_mut().get_mut(..4).ok_or(code::EINVAL)?;
        b.copy_from_slice(&v.to_ne_bytes());
        Ok(())
    }

    /// `M_LEADINGSPACE(m)`.
    #[doc(alias = "M_LEADINGSPACE")]
    pub fn leading_space(&self) -> usize {
        if self.flags.contains(MbufFlags::M_PKTHDR) {
            self.data.saturating_sub(PKTDAT)
        } else {
            self.data
        }
    }

    /// `M_TRAILINGSPACE(m)`.
    #[doc(alias = "M_TRAILINGSPACE")]
    pub fn trailing_space(&self) -> usize {
        MLEN - (self.data + self.len)
    }

    /// `m->m_data += n; m->m_len -= n;`: drops `n` bytes from the front of this mbuf's data
    /// (the packet header's `len` is the caller's to adjust, as in the C). Unlike
    /// [`m_adj`], the data offset moves even when the mbuf is emptied, so the dropped
    /// bytes become leading space. Fails with `EINVAL` (changing nothing) if `m_len < n`.
    pub fn consume_front(&mut self, n: usize) -> Result {
        if self.len < n {
            return Err(code::EINVAL);
        }
        self.data += n;
        self.len -= n;
        Ok(())
    }

    /// Moves the (empty) data area `n` bytes forward, leaving leading space; fails with
    /// `EINVAL` unless the mbuf is empty and the space exists.
    pub fn reserve(&mut self, n: usize) -> Result {
        if self.len != 0 || self.data + n > MLEN {
            return Err(code::EINVAL);
        }
        self.data += n;
        Ok(())
    }

    /// Copies `bytes` after the valid data; fails with `EINVAL` (copying nothing) if the
    /// trailing space is too small.
    pub fn append(&mut self, bytes: &[u8]) -> Result {
        if bytes.len() > self.trailing_space() {
            return Err(code::EINVAL);
        }
        let at = self.data + self.len;
        self.dat[at..at + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }

    /// `m_flags`.
    pub fn flags(&self) -> MbufFlags {
        self.flags
    }

    /// Sets or clears `M_MCAST`/`M_BCAST`/`M_EOR` (the packet-header flag is managed by
    /// the allocators and cannot be changed here).
    pub fn set_flag(&mut self, f: MbufFlags, on: bool) {
        let f = f - MbufFlags::M_PKTHDR;
        self.flags.set(f, on);
    }

    /// `m_type`.
    pub fn mtype(&self) -> MbufType {
        self.mtype
    }

    /// The packet header, if this mbuf has one.
    pub fn pkthdr(&self) -> Option<&PktHdr> {
        self.flags
            .contains(MbufFlags::M_PKTHDR)
            .then_some(&self.pkthdr)
    }

    /// The packet header, writable, if this mbuf has one.
    pub fn pkthdr_mut(&mut self) -> Option<&mut PktHdr> {
        if self.flags.contains(MbufFlags::M_PKTHDR) {
            Some(&mut self.pkthdr)
        } else {
            None
        }
    }

    /// `m_next`.
    pub fn next(&self) -> Option<&Mbuf> {
        self.next.as_deref()
    }

    /// `m_next`, writable.
    pub fn next_mut(&mut self) -> Option<&mut Mbuf> {
        self.next.as_deref_mut()
    }

    /// The `m_next` slot itself, for building chains in place (the C's `mp = &m->m_next`).
    pub fn next_slot(&mut self) -> &mut Option<MbufBox> {
        &mut self.next
    }

    /// Unlinks and returns the rest of the chain.
    pub fn take_next(&mut self) -> Option<MbufBox> {
        self.next.take()
    }

    /// Links `next` behind this mbuf, returning what was linked before.
    pub fn set_next(&mut self, next: Option<MbufBox>) -> Option<MbufBox> {
        core::mem::replace(&mut self.next, next)
    }

    /// The chain from this mbuf on.
    pub fn iter(&self) -> MbufIter<'_> {
        MbufIter { cur: Some(self) }
    }

    /// Mbufs in the chain from this one on.
    pub fn chain_count(&self) -> usize {
        self.iter().count()
    }

    /// `m_length(m)`: sum of `m_len` over the chain.
    #[doc(alias = "m_length")]
    pub fn chain_len(&self) -> usize {
        self.iter().map(|m| m.len).sum()
    }

    /// The chain's bytes, concatenated (`m_copydata(m, 0, m_length(m), buf)`).
    #[cfg(not(kernel))]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.chain_len());
        for m in self.iter() {
            v.extend_from_slice(m.data());
        }
        v
    }

    fn move_pkthdr_to(&mut self, to: &mut Mbuf) {
        to.pkthdr = self.pkthdr;
        to.flags = (to.flags - M_COPYFLAGS) | (self.flags & M_COPYFLAGS);
        self.flags.remove(MbufFlags::M_PKTHDR);
        self.pkthdr = PktHdr::default();
    }
}

/// Iterator over an mbuf chain.
pub struct MbufIter<'a> {
    cur: Option<&'a Mbuf>,
}

impl<'a> Iterator for MbufIter<'a> {
    type Item = &'a Mbuf;
    fn next(&mut self) -> Option<&'a Mbuf> {
        let m = self.cur?;
        self.cur = m.next.as_deref();
        Some(m)
    }
}

/// `MGETHDR(m, how, type)`: a packet-header mbuf from the current kernel's zone, data
/// offset at `m_pktdat`, `m_len` and `pkthdr.len` 0. `None` if the allocation fails (or
/// outside a kernel context).
#[doc(alias = "MGETHDR")]
#[track_caller]
pub fn m_gethdr(how: MbWait, _ty: MbufType) -> Option<MbufBox> {
    alloc("m_gethdr", true, how, None, Location::caller())
}

/// `MGET(m, how, type)`: a plain mbuf, data offset at `m_dat`.
#[doc(alias = "MGET")]
#[track_caller]
pub fn m_get(how: MbWait, _ty: MbufType) -> Option<MbufBox> {
    alloc("m_get", false, how, None, Location::caller())
}

/// `m_free(m)`: frees one mbuf and returns its successor.
#[allow(clippy::boxed_local)] // the Box is the mbuf being freed: ownership is the point
pub fn m_free(mut m: MbufBox) -> Option<MbufBox> {
    m.next.take()
}

/// `m_freem(m)`: frees the whole chain.
pub fn m_freem(m: MbufBox) {
    drop(m)
}

/// `m_prepend(m, len, how)`: puts a new mbuf of `len` bytes in front of `m`, moving the
/// packet header to it and aligning the data to the end of the new mbuf
/// (`MH_ALIGN`/`M_ALIGN`). On failure the whole chain is freed and `None` returned.
///
/// Unlike the C, a `len` larger than the new mbuf's data area ([`MHLEN`] for a packet
/// header, [`MLEN`] otherwise) fails instead of overrunning the mbuf.
#[track_caller]
pub fn m_prepend(mut m: MbufBox, len: usize, how: MbWait) -> Option<MbufBox> {
    let hdr = m.flags.contains(MbufFlags::M_PKTHDR);
    let cap = if hdr { MHLEN } else { MLEN };
    if len > cap {
        return None;
    }
    let mut mn = alloc("m_prepend", hdr, how, Some(&m.tag), Location::caller())?;
    if hdr {
        m.move_pkthdr_to(&mut mn);
    }
    mn.next = Some(m);
    if len < cap {
        // MH_ALIGN / M_ALIGN: place the data at the end, long-aligned.
        mn.data += (cap - len) & !7;
    }
    mn.len = len;
    Some(mn)
}

/// `M_PREPEND(m, plen, how)`: makes room for `plen` bytes in front of the data — in place
/// when the leading space allows, else through [`m_prepend`] — and adds `plen` to the
/// packet header's length. `None` (chain freed) if an allocation was needed and failed.
#[doc(alias = "M_PREPEND")]
#[track_caller]
pub fn m_prepend_hdr(mut m: MbufBox, plen: usize, how: MbWait) -> Option<MbufBox> {
    if m.leading_space() >= plen {
        m.data -= plen;
        m.len += plen;
    } else {
        m = m_prepend(m, plen, how)?;
    }
    if let Some(h) = m.pkthdr_mut() {
        h.len += plen;
    }
    Some(m)
}

/// `m_pullup(n, len)`: makes the first `len` bytes of the chain contiguous in its first
/// mbuf. Returns the (possibly new) head, or `None` — with the whole chain freed — if
/// `len > MHLEN`, the chain is shorter than `len`, or an allocation fails.
///
/// As in DragonFly, the head is topped up in place only if it has a successor and room;
/// otherwise (a single-mbuf chain included) a new mbuf takes the packet header and up to
/// `max(len, MAX_PROTOHDR)` bytes.
#[track_caller]
pub fn m_pullup(mut n: MbufBox, len: usize) -> Option<MbufBox> {
    let site = Location::caller();
    let mut want = len as isize;
    let mut m: MbufBox;
    let mut rest: Option<MbufBox>;
    if n.data + len < MLEN && n.next.is_some() {
        if n.len >= len {
            return Some(n);
        }
        want -= n.len as isize;
        rest = n.next.take();
        m = n;
    } else {
        if len > MHLEN {
            return None;
        }
        let hdr = n.flags.contains(MbufFlags::M_PKTHDR);
        m = alloc("m_pullup", hdr, MbWait::DontWait, Some(&n.tag), site)?;
        m.len = 0;
        if hdr {
            n.move_pkthdr_to(&mut m);
        }
        rest = Some(n);
    }
    let mut space = MLEN - (m.data + m.len);
    while let Some(mut cur) = rest.take() {
        let count = (want.max(MAX_PROTOHDR as isize) as usize)
            .min(space)
            .min(cur.len);
        let (src, dst) = (cur.data, m.data + m.len);
        m.dat[dst..dst + count].copy_from_slice(&cur.dat[src..src + count]);
        want -= count as isize;
        m.len += count;
        cur.len -= count;
        space -= count;
        if cur.len > 0 {
            cur.data += count;
            rest = Some(cur);
        } else {
            rest = m_free(cur);
        }
        if want <= 0 {
            break;
        }
    }
    if want > 0 {
        return None;
    }
    m.next = rest;
    Some(m)
}

/// `m_adj(mp, req_len)`: trims `req_len` bytes from the head (`req_len >= 0`) or
/// `-req_len` bytes from the tail of the chain, adjusting the packet header's length.
/// Emptied mbufs stay in the chain with `m_len` 0.
pub fn m_adj(mp: &mut Mbuf, req_len: isize) {
    if req_len >= 0 {
        let mut len = req_len as usize;
        let mut cur = Some(&mut *mp);
        while let Some(m) = cur {
            if len == 0 {
                break;
            }
            if m.len <= len {
                len -= m.len;
                m.len = 0;
                cur = m.next.as_deref_mut();
            } else {
                m.len -= len;
                m.data += len;
                len = 0;
                cur = None;
            }
        }
        let trimmed = req_len as usize - len;
        if let Some(h) = mp.pkthdr_mut() {
            h.len = h.len.saturating_sub(trimmed);
        }
    } else {
        let cut = req_len.unsigned_abs();
        let total = mp.chain_len();
        let keep = total.saturating_sub(cut);
        let mut left = keep;
        let mut cur = Some(&mut *mp);
        while let Some(m) = cur {
            if m.len >= left {
                m.len = left;
                left = 0;
            } else {
                left -= m.len;
            }
            cur = m.next.as_deref_mut();
        }
        if let Some(h) = mp.pkthdr_mut() {
            h.len = keep;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::door::Event;
    use crate::Kernel;

    fn k() -> (Kernel, crate::ContextGuard) {
        let k = Kernel::new();
        let g = k.enter(1);
        (k, g)
    }

    #[test]
    fn sizes_are_dragonfly_x86_64() {
        assert_eq!((MSIZE, MLEN, MHLEN, MINCLSIZE), (256, 120, 56, 57));
    }

    #[test]
    fn gethdr_and_get_layout() {
        let (k, _g) = k();
        let h = m_gethdr(MB_DONTWAIT, MT_DATA).unwrap();
        assert_eq!(h.leading_space(), 0);
        assert_eq!(h.trailing_space(), MHLEN);
        assert!(h.pkthdr().is_some());
        let m = m_get(MB_DONTWAIT, MT_DATA).unwrap();
        assert_eq!(m.trailing_space(), MLEN);
        assert!(m.pkthdr().is_none());
        assert_eq!(k.mbufs().live(), 2);
        drop((h, m));
        assert_eq!(k.mbufs().live(), 0);
        assert_eq!(k.mbufs().stats().allocated, 2);
    }

    #[test]
    fn no_context_no_mbuf() {
        assert!(m_gethdr(MB_DONTWAIT, MT_DATA).is_none());
    }

    #[test]
    fn failalloc_fires_once_on_the_nth_allocation() {
        let (k, _g) = k();
        k.record_events(true);
        k.mbufs().set_failalloc(Some(2));
        let a = m_gethdr(MB_DONTWAIT, MT_DATA);
        let line = line!() + 1;
        let b = m_get(MB_DONTWAIT, MT_DATA);
        let c = m_get(MB_DONTWAIT, MT_DATA);
        assert!(a.is_some() && b.is_none() && c.is_some());
        assert_eq!(
            k.take_events(),
            vec![Event::AllocFail {
                what: "m_get",
                mget: "m_get",
                site: std::format!("{}:{line}:17", file!()),
            }]
        );
        // Environment allocations are not counted.
        k.mbufs().set_failalloc(Some(1));
        let _e = k.mbufs().alloc_env(true);
        assert!(m_get(MB_DONTWAIT, MT_DATA).is_none());
        drop((a, c, _e));
        assert_eq!(k.mbufs().live(), 0);
    }

    /// The failure event names the allocator the caller called, the mbuf allocation under
    /// it (what the C's `m_prepend`/`m_pullup` call, and the oracle prints) and the
    /// caller's line.
    #[test]
    fn failalloc_names_the_real_allocator_and_call_site() {
        let (k, _g) = k();
        k.record_events(true);
        // The one event recorded, its site without the column.
        let fired = || -> Vec<(&'static str, &'static str, String)> {
            k.take_events()
                .into_iter()
                .map(|e| match e {
                    Event::AllocFail { what, mget, site } => {
                        let line = site.rsplit_once(':').map(|(s, _)| s.into()).unwrap();
                        (what, mget, line)
                    }
                    e => panic!("{e:?}"),
                })
                .collect()
        };
        let at = |what, mget, line: u32| vec![(what, mget, std::format!("{}:{line}", file!()))];
        let two = || k.mbufs().packet_from(&[1; 8], 0, Some(&[4, 4])).unwrap();

        k.mbufs().set_failalloc(Some(1));
        let (r, line) = (m_gethdr(MB_DONTWAIT, MT_DATA), line!());
        assert!(r.is_none());
        assert_eq!(fired(), at("m_gethdr", "m_gethdr", line));

        // M_PREPEND without leading space: m_prepend's packet-header mbuf.
        let m = k.mbufs().packet_from(&[1; 8], 0, None).unwrap();
        k.mbufs().set_failalloc(Some(1));
        let (r, line) = (m_prepend_hdr(m, 4, MB_DONTWAIT), line!());
        assert!(r.is_none());
        assert_eq!(fired(), at("m_prepend", "m_gethdr", line));

        // m_prepend in front of a plain mbuf: a plain one.
        let second = two().next.take().unwrap();
        k.mbufs().set_failalloc(Some(1));
        let (r, line) = (m_prepend(second, 4, MB_DONTWAIT), line!());
        assert!(r.is_none());
        assert_eq!(fired(), at("m_prepend", "m_get", line));

        // m_pullup of a single mbuf reallocates the head.
        let m = k.mbufs().packet_from(&[1; 3], 0, None).unwrap();
        k.mbufs().set_failalloc(Some(1));
        let (r, line) = (m_pullup(m, 4), line!());
        assert!(r.is_none());
        assert_eq!(fired(), at("m_pullup", "m_gethdr", line));

        let second = two().next.take().unwrap();
        k.mbufs().set_failalloc(Some(1));
        let (r, line) = (m_pullup(second, 2), line!());
        assert!(r.is_none());
        assert_eq!(fired(), at("m_pullup", "m_get", line));

        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn prepend_in_place_and_with_a_new_mbuf() {
        let (k, _g) = k();
        let m = k.mbufs().packet_from(&[1, 2, 3, 4], 16, None).unwrap();
        let m = m_prepend_hdr(m, 16, MB_DONTWAIT).unwrap();
        assert_eq!(
            (m.len(), m.chain_count(), m.pkthdr().unwrap().len),
            (20, 1, 20)
        );
        let m = m_prepend_hdr(m, 4, MB_DONTWAIT).unwrap();
        assert_eq!(m.chain_count(), 2);
        assert_eq!(m.len(), 4);
        assert_eq!(m.pkthdr().unwrap().len, 24);
        assert!(m.next().unwrap().pkthdr().is_none());
        // MH_ALIGN: (MHLEN - 4) & !7 = 48 bytes of leading space, 4 trailing.
        assert_eq!((m.leading_space(), m.trailing_space()), (48, 4));
        assert_eq!(&m.to_vec()[4..8], &[0, 0, 0, 0]);
        drop(m);
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn prepend_larger_than_an_mbuf_fails_and_frees() {
        let (k, _g) = k();
        let m = k.mbufs().packet_from(&[9; 10], 0, None).unwrap();
        assert!(m_prepend_hdr(m, MHLEN + 1, MB_DONTWAIT).is_none());
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn pullup_single_mbuf_reallocates() {
        let (k, _g) = k();
        let m = k.mbufs().packet_from(&[1, 2, 3, 4, 5], 0, None).unwrap();
        let id = m.id();
        let m = m_pullup(m, 4).unwrap();
        assert_ne!(m.id(), id);
        assert_eq!(m.to_vec(), vec![1, 2, 3, 4, 5]);
        assert_eq!(m.chain_count(), 1);
        assert_eq!(m.pkthdr().unwrap().len, 5);
        drop(m);
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn pullup_short_chain_fails_and_frees() {
        let (k, _g) = k();
        let m = k.mbufs().packet_from(&[1, 2], 0, None).unwrap();
        assert!(m_pullup(m, 4).is_none());
        let m = k.mbufs().packet_from(&[1, 2, 3], 0, Some(&[1, 2])).unwrap();
        assert!(m_pullup(m, 4).is_none());
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn pullup_tops_up_a_head_with_a_successor() {
        let (k, _g) = k();
        let m = k
            .mbufs()
            .packet_from(&[1, 2, 3, 4, 5, 6], 0, Some(&[2, 4]))
            .unwrap();
        let id = m.id();
        let m = m_pullup(m, 4).unwrap();
        assert_eq!(m.id(), id);
        assert_eq!(m.len(), 6);
        assert_eq!(m.chain_count(), 1);
        assert_eq!(m.to_vec(), vec![1, 2, 3, 4, 5, 6]);
        drop(m);
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn consume_front_turns_data_into_leading_space() {
        let (k, _g) = k();
        let mut m = k.mbufs().packet_from(&[1, 2, 3, 4], 0, None).unwrap();
        assert_eq!(m.consume_front(5), Err(code::EINVAL));
        m.consume_front(4).unwrap();
        assert_eq!((m.len(), m.leading_space()), (0, 4));
        // m_adj empties the mbuf without moving the data offset.
        let mut m2 = k.mbufs().packet_from(&[1, 2, 3, 4], 0, None).unwrap();
        m_adj(&mut m2, 4);
        assert_eq!((m2.len(), m2.leading_space()), (0, 0));
        drop((m, m2));
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn adj_head_and_tail() {
        let (k, _g) = k();
        let mut m = k
            .mbufs()
            .packet_from(&[1, 2, 3, 4, 5, 6], 0, Some(&[2, 4]))
            .unwrap();
        m_adj(&mut m, 3);
        assert_eq!(m.to_vec(), vec![4, 5, 6]);
        assert_eq!(m.len(), 0);
        assert_eq!(m.chain_count(), 2);
        assert_eq!(m.pkthdr().unwrap().len, 3);
        m_adj(&mut m, -1);
        assert_eq!(m.to_vec(), vec![4, 5]);
        assert_eq!(m.pkthdr().unwrap().len, 2);
        m_adj(&mut m, 10);
        assert_eq!(m.pkthdr().unwrap().len, 0);
        drop(m);
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn packet_from_validates() {
        let (k, _g) = k();
        let z = k.mbufs();
        assert!(z.packet_from(&[0; 4], 57, None).is_err());
        assert!(z.packet_from(&[0; 4], 0, Some(&[1, 2])).is_err());
        assert!(z.packet_from(&[0; 60], 0, Some(&[57, 3])).is_err());
        let m = z.packet_from(&[], 0, None).unwrap();
        assert_eq!((m.chain_count(), m.len()), (1, 0));
        let m2 = z.packet_from(&[7; 300], 0, None).unwrap();
        let lens: Vec<usize> = m2.iter().map(|m| m.len()).collect();
        assert_eq!(lens, vec![56, 120, 120, 4]);
        drop((m, m2));
        assert_eq!(k.mbufs().live(), 0);
    }

    #[test]
    fn long_chains_drop_without_recursion() {
        let (k, _g) = k();
        let m = k
            .mbufs()
            .packet_from(&vec![1u8; 120 * 20000], 0, None)
            .unwrap();
        assert_eq!(k.mbufs().live(), m.chain_count());
        drop(m);
        assert_eq!(k.mbufs().live(), 0);
    }

    /// Freed mbufs come back to their zone and are reused: new numbers, header fields
    /// reset, the data area as it was (BSD does not zero it either).
    #[test]
    fn freed_mbufs_are_reused_with_new_ids() {
        let (k, _g) = k();
        let mut m = m_gethdr(MB_DONTWAIT, MT_DATA).unwrap();
        m.set_len(4).unwrap();
        m.data_mut().copy_from_slice(&[1, 2, 3, 4]);
        m.pkthdr_mut().unwrap().len = 4;
        m.set_next(m_get(MB_DONTWAIT, MT_DATA));
        let (a, b) = (m.id(), m.next().unwrap().id());
        drop(m);
        assert_eq!((k.mbufs().live(), k.mbufs().cached()), (0, 2));
        let h = m_gethdr(MB_DONTWAIT, MT_DATA).unwrap();
        assert!(h.id() > a.max(b));
        assert_eq!(
            (h.len(), h.pkthdr().unwrap().len, h.leading_space()),
            (0, 0, 0)
        );
        assert!(h.next().is_none());
        assert_eq!(k.mbufs().cached(), 1);
        let p = m_get(MB_DONTWAIT, MT_DATA).unwrap();
        assert!(p.pkthdr().is_none() && p.id() == h.id() + 1);
        assert_eq!(k.mbufs().stats().allocated, 4);
        drop((h, p));
        assert_eq!(k.mbufs().live(), 0);
    }

    /// A chain mixing two kernels' mbufs frees each into its own zone; mbufs freed after
    /// their kernel is gone are uncounted and not kept.
    #[test]
    fn chains_across_zones_and_dead_kernels() {
        let (k, g) = k();
        let other = Kernel::new();
        let mut m = k.mbufs().packet_from(&[1; 8], 0, None).unwrap();
        m.set_next(Some(other.mbufs().alloc_env(false)));
        drop(m);
        assert_eq!((k.mbufs().live(), other.mbufs().live()), (0, 0));
        assert_eq!((k.mbufs().cached(), other.mbufs().cached()), (1, 1));
        let zone = k.mbufs().clone();
        let m = zone.alloc_env(true);
        drop(g);
        drop(k);
        assert_eq!((zone.live(), zone.cached()), (1, 0));
        drop(m);
        assert_eq!((zone.live(), zone.cached()), (0, 0));
    }

    #[test]
    fn tracking_lists_live_ids() {
        let (k, _g) = k();
        k.mbufs().track_ids(true);
        let a = m_get(MB_WAIT, MT_DATA).unwrap();
        let b = m_get(MB_WAIT, MT_DATA).unwrap();
        assert_eq!(k.mbufs().live_ids(), vec![a.id(), b.id()]);
        drop(a);
        assert_eq!(k.mbufs().live_ids(), vec![b.id()]);
        drop(b);
        assert!(k.mbufs().live_ids().is_empty());
        assert_eq!(k.mbufs().live(), 0);
    }
}
