// SPDX-License-Identifier: BSD-2-Clause
//! Network interfaces (`net/if.h`, `net/if_var.h`, `net/if.c`).
//!
//! BSD semantics mirrored:
//! - An interface has a name (`if_xname`, from `if_initname(ifp, "tun", unit)`), flags
//!   ([`IfFlags`], DragonFly's `IFF_*` values), an MTU, a type, a baudrate, counters and an
//!   address list; `if_attach` gives it an index and puts an `AF_LINK` address first.
//! - A driver supplies `if_output`, `if_ioctl` and `if_start` ([`IfnetOps`]).
//! - `ifnet_serialize_all(ifp)` serializes the interface. Here it returns a
//!   [`SerializeGuard`], and the send queue `if_snd` together with the driver's own
//!   serialized state ([`IfnetOps::Serialized`]) is reachable only through that guard: what
//!   the C protects by convention the compiler checks.
//! - `if_down` clears `IFF_UP` and purges the send queue; `if_up` purges it and sets `IFF_UP`;
//!   `if_purgeaddrs_nolink` deletes every address but the link-level one.
//! - The generic `ifioctl` layer ([`ifioctl`], the host's) does what `ifioctl()`/
//!   `in_control()` do before and around a driver's `if_ioctl`.
//! - `ifp->if_softc` is a strong reference the driver sets ([`Ifnet::set_softc`]);
//!   [`if_detach`] clears it, breaking the softc ↔ interface cycle at teardown.
//!
//! Scalar fields and counters are atomics, so the stack, the driver and observers can read
//! them without the serializer (as DragonFly's per-CPU counters are read).

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::string::String;
use std::sync::Arc as StdArc;

use crate::platform::{Mutex as StdMutex, MutexGuard as StdGuard};
use std::vec::Vec;

use super::bpf::BpfIf;
use super::cred::Ucred;
use super::ifq::{ifq_purge, AltqPktattr, Ifq};
use super::mbuf::{MbufBox, MbufFlags};
use super::socket::{SockAddr, AF_LINK};
use crate::alloc::{AllocError, Flags};
use crate::door::{self, Event, Kernel, KernelRef};
use crate::error::Result;
use crate::sync::{Arc, Mutex};

pub use super::ifdefs::{
    ifr_mtu, ifreq_with_mtu, IfAddr, IfCounter, IfFlags, IfFlagsCell, IfStats, IFF_CANTCHANGE,
    IFT_PPP, IF_MAXMTU, IF_MINMTU,
};
pub use crate::door::{IfHost, IfIoctlArg};

/// An optional routing entry (`struct rtentry`); routing is not modelled.
#[derive(Debug)]
pub struct RtEntry {
    _priv: (),
}

/// A driver's interface operations (`if_output`, `if_ioctl`, `if_start`), implemented on
/// the driver's softc type (`ifp->if_softc`).
pub trait IfnetOps: Send + Sync + Sized + 'static {
    /// The driver state guarded by the interface serializer, next to `if_snd`.
    type Serialized: Send + 'static;

    /// `if_output(ifp, m, dst, rt)`: send packet `m` to `dst`. Consumes `m` in every case.
    fn if_output(ifp: &Ifnet<Self>, m: MbufBox, dst: &mut SockAddr, rt: Option<&RtEntry>)
        -> Result;

    /// `if_ioctl(ifp, cmd, data, cred)`; `data` is `None` where the C passes NULL.
    fn if_ioctl(ifp: &Ifnet<Self>, cmd: u32, data: Option<&mut [u8]>, cred: &Ucred) -> Result;

    /// `if_start(ifp)`, called with the serializer held.
    fn if_start(ifp: &Ifnet<Self>, ser: &mut SerializeGuard<'_, Self>);
}

/// What `ifnet_serialize_all` protects: the send queue and the driver's serialized state.
pub struct IfnetSerialized<S> {
    /// `if_snd`.
    pub if_snd: Ifq,
    /// The driver's state (`ifp->if_softc`'s serialized fields).
    pub sc: S,
}

/// A network interface, owned by its driver's softc.
pub struct Ifnet<D: IfnetOps> {
    kernel: KernelRef,
    if_xname: StdArc<str>,
    if_dunit: u32,
    if_index: AtomicU32,
    /// `if_flags`.
    pub if_flags: IfFlagsCell,
    /// `if_mtu` (a `u_long`).
    pub if_mtu: AtomicU64,
    /// `if_type` (`IFT_*`).
    pub if_type: AtomicU8,
    /// `if_baudrate`.
    pub if_baudrate: AtomicU64,
    /// `if_lastchange`, as a change counter.
    pub if_lastchange: AtomicU64,
    /// `if_ipackets`.
    pub if_ipackets: IfCounter,
    /// `if_ierrors`.
    pub if_ierrors: IfCounter,
    /// `if_ibytes`.
    pub if_ibytes: IfCounter,
    /// `if_opackets`.
    pub if_opackets: IfCounter,
    /// `if_oerrors`.
    pub if_oerrors: IfCounter,
    /// `if_obytes`.
    pub if_obytes: IfCounter,
    /// `if_collisions`.
    pub if_collisions: IfCounter,
    /// `if_omcasts`.
    pub if_omcasts: IfCounter,
    addrs: Mutex<Vec<IfAddr>>,
    bpf: StdArc<BpfIf>,
    ser: StdMutex<IfnetSerialized<D::Serialized>>,
    softc: Mutex<Option<Arc<D>>>,
}

/// The guard of `ifnet_serialize_all`: the interface is serialized until it drops
/// (`ifnet_deserialize_all`).
///
/// # Invariants
///
/// `g` is `Some` except inside [`SerializeGuard::deserialized`], which restores it before
/// returning.
pub struct SerializeGuard<'a, D: IfnetOps> {
    ifp: &'a Ifnet<D>,
    g: Option<StdGuard<'a, IfnetSerialized<D::Serialized>>>,
}

impl<'a, D: IfnetOps> SerializeGuard<'a, D> {
    /// `ifnet_deserialize_all(ifp); f(); ifnet_serialize_all(ifp);` — runs `f` with the
    /// interface deserialized (the C's dance around `KNOTE`, whose filters serialize).
    pub fn deserialized<R>(&mut self, f: impl FnOnce() -> R) -> R {
        drop(self.g.take());
        let r = f();
        self.g = Some(lock_ser(&self.ifp.ser));
        r
    }

    /// The interface this guard serializes.
    pub fn ifp(&self) -> &'a Ifnet<D> {
        self.ifp
    }
}

fn lock_ser<T>(m: &StdMutex<T>) -> StdGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<D: IfnetOps> Deref for SerializeGuard<'_, D> {
    type Target = IfnetSerialized<D::Serialized>;
    fn deref(&self) -> &Self::Target {
        match &self.g {
            Some(g) => g,
            None => unreachable!("SerializeGuard used while deserialized"),
        }
    }
}

impl<D: IfnetOps> DerefMut for SerializeGuard<'_, D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.g {
            Some(g) => g,
            None => unreachable!("SerializeGuard used while deserialized"),
        }
    }
}

/// `ifnet_serialize_all(ifp)`.
pub fn ifnet_serialize_all<D: IfnetOps>(ifp: &Ifnet<D>) -> SerializeGuard<'_, D> {
    SerializeGuard {
        ifp,
        g: Some(lock_ser(&ifp.ser)),
    }
}

impl<D: IfnetOps> Ifnet<D> {
    /// `if_initname(ifp, dname, unit)` on a new interface of the current kernel, with the
    /// driver's serialized state `sc`; allocates with `flags` (`ENOMEM` on failure). The
    /// softc pointer is set afterwards ([`Ifnet::set_softc`]), as the C assigns
    /// `ifp->if_softc`.
    #[track_caller]
    pub fn new(
        dname: &str,
        unit: u32,
        sc: D::Serialized,
        _flags: Flags,
    ) -> core::result::Result<Arc<Self>, AllocError> {
        let site = Location::caller();
        let kernel = door::current_kernel_ref();
        if door::alloc_fails(site, core::mem::size_of::<Self>()) {
            return Err(AllocError);
        }
        let name: StdArc<str> = StdArc::from(std::format!("{dname}{unit}").as_str());
        Ok(Arc::from_std(StdArc::new(Ifnet {
            kernel: kernel.clone(),
            if_xname: name.clone(),
            if_dunit: unit,
            if_index: AtomicU32::new(0),
            if_flags: IfFlagsCell::default(),
            if_mtu: AtomicU64::new(0),
            if_type: AtomicU8::new(0),
            if_baudrate: AtomicU64::new(0),
            if_lastchange: AtomicU64::new(0),
            if_ipackets: IfCounter::default(),
            if_ierrors: IfCounter::default(),
            if_ibytes: IfCounter::default(),
            if_opackets: IfCounter::default(),
            if_oerrors: IfCounter::default(),
            if_obytes: IfCounter::default(),
            if_collisions: IfCounter::default(),
            if_omcasts: IfCounter::default(),
            addrs: Mutex::new(Vec::new()),
            bpf: door::bpf_new(name.clone(), &kernel),
            ser: StdMutex::new(IfnetSerialized {
                if_snd: Ifq::new(name, kernel),
                sc,
            }),
            softc: Mutex::new(None),
        })))
    }

    /// `ifp->if_softc = sc`: a strong reference, cleared by [`if_detach`].
    pub fn set_softc(&self, sc: Arc<D>) {
        *self.softc.lock() = Some(sc);
    }

    /// `ifp->if_softc`.
    pub fn if_softc(&self) -> Option<Arc<D>> {
        self.softc.lock().clone()
    }

    /// `if_xname`.
    pub fn if_xname(&self) -> &str {
        &self.if_xname
    }

    /// `if_dunit`.
    pub fn if_dunit(&self) -> u32 {
        self.if_dunit
    }

    /// `if_index` (0 until attached).
    pub fn if_index(&self) -> u32 {
        self.if_index.load(Ordering::Relaxed)
    }

    /// `ifp->if_bpf`: `Some` only while a bpf listener is attached.
    pub fn if_bpf(&self) -> Option<super::bpf::BpfTap<'_>> {
        super::bpf::BpfTap::of(&self.bpf)
    }

    /// The address list (`if_addrheads`), as a snapshot.
    pub fn if_addrs(&self) -> Vec<IfAddr> {
        self.addrs.lock().clone()
    }

    fn kernel(&self) -> Option<Kernel> {
        self.kernel.upgrade()
    }

    /// Runs `f` inside this interface's kernel (as pid 0, the kernel itself) unless the
    /// calling thread already is in a kernel.
    fn in_context<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.kernel.enter_if_outside(0);
        f()
    }
}

/// The interface as the rest of the kernel sees it, whatever its driver (the host's
/// [`IfHost`] view plus what the stack and tools use).
pub trait IfnetDyn: IfHost {
    /// `if_type`.
    fn if_type(&self) -> u8;
    /// `if_baudrate`.
    fn baudrate(&self) -> u64;
    /// The counters.
    fn stats(&self) -> IfStats;
    /// `ifp->if_output(ifp, m, dst, NULL)`.
    fn output(&self, m: MbufBox, dst: &mut SockAddr) -> Result;
    /// `ifp->if_start(ifp)` with the interface serialized.
    fn start(&self);
    /// Runs `f` on the send queue with the interface serialized.
    fn with_snd(&self, f: &mut dyn FnMut(&mut Ifq));
    /// The bpf attachment point.
    fn bpf(&self) -> &BpfIf;
    /// The kernel the interface belongs to.
    fn kernel_handle(&self) -> Option<Kernel>;
}

impl<D: IfnetOps> IfHost for Ifnet<D> {
    fn name(&self) -> &str {
        &self.if_xname
    }
    fn index(&self) -> u32 {
        self.if_index()
    }
    fn flags(&self) -> &IfFlagsCell {
        &self.if_flags
    }
    fn mtu(&self) -> u64 {
        self.if_mtu.load(Ordering::Relaxed)
    }
    fn set_mtu(&self, mtu: u64) {
        self.if_mtu.store(mtu, Ordering::Relaxed)
    }
    fn addrs(&self) -> Vec<IfAddr> {
        self.if_addrs()
    }
    fn with_addrs(&self, f: &mut dyn FnMut(&mut Vec<IfAddr>)) {
        f(&mut self.addrs.lock())
    }
    fn driver_ioctl(&self, cmd: u32, data: Option<&mut [u8]>, cred: &Ucred) -> Result {
        self.in_context(|| D::if_ioctl(self, cmd, data, cred))
    }
    fn if_down(&self) {
        if_down(self)
    }
    fn if_up(&self) {
        if_up(self)
    }
}

impl<D: IfnetOps> IfnetDyn for Ifnet<D> {
    fn if_type(&self) -> u8 {
        self.if_type.load(Ordering::Relaxed)
    }
    fn baudrate(&self) -> u64 {
        self.if_baudrate.load(Ordering::Relaxed)
    }
    fn stats(&self) -> IfStats {
        IfStats {
            ipackets: self.if_ipackets.get(),
            ierrors: self.if_ierrors.get(),
            ibytes: self.if_ibytes.get(),
            opackets: self.if_opackets.get(),
            oerrors: self.if_oerrors.get(),
            obytes: self.if_obytes.get(),
            collisions: self.if_collisions.get(),
            omcasts: self.if_omcasts.get(),
        }
    }
    fn output(&self, m: MbufBox, dst: &mut SockAddr) -> Result {
        self.in_context(|| D::if_output(self, m, dst, None))
    }
    fn start(&self) {
        self.in_context(|| {
            let mut g = ifnet_serialize_all(self);
            D::if_start(self, &mut g);
        })
    }
    fn with_snd(&self, f: &mut dyn FnMut(&mut Ifq)) {
        let mut g = ifnet_serialize_all(self);
        f(&mut g.if_snd)
    }
    fn bpf(&self) -> &BpfIf {
        &self.bpf
    }
    fn kernel_handle(&self) -> Option<Kernel> {
        self.kernel()
    }
}

/// `if_attach(ifp, serializer)`: puts an `AF_LINK` address at the head of the address
/// list, sets the send-queue limit if unset, links the interface into its kernel's list
/// and records the index it gets.
pub fn if_attach<D: IfnetOps>(ifp: &Arc<Ifnet<D>>) {
    if ifp.kernel().is_none() {
        return;
    }
    {
        let mut g = lock_ser(&ifp.ser);
        if g.if_snd.maxlen() == 0 {
            super::ifq::ifq_set_maxlen(&mut g.if_snd, super::ifq::IFQ_MAXLEN);
        }
    }
    ifp.addrs.lock().insert(
        0,
        IfAddr {
            addr: Some(SockAddr::link()),
            dstaddr: None,
        },
    );
    let host: StdArc<dyn IfHost> = ifp.as_std().clone();
    let dynifp: StdArc<dyn IfnetDyn> = ifp.as_std().clone();
    let obj = StdArc::new(IfObj(Arc::from_std(dynifp)));
    let index = door::ifnet_attach(host, obj);
    ifp.if_index.store(index, Ordering::Relaxed);
}

/// `if_detach(ifp)`: takes the interface off its kernel's list, purges its send queue and
/// clears `if_softc` (the driver's softc is then referenced only by its owner).
pub fn if_detach<D: IfnetOps>(ifp: &Ifnet<D>) {
    door::ifnet_detach(&ifp.kernel, ifp.if_index());
    ifq_purge(&mut lock_ser(&ifp.ser).if_snd);
    ifp.softc.lock().take();
}

/// What the host's interface list holds for typed lookups.
struct IfObj(Arc<dyn IfnetDyn>);

/// Typed views of the host's interface list.
impl Kernel {
    /// Every attached interface, in attach order.
    pub fn ifnets(&self) -> Vec<Arc<dyn IfnetDyn>> {
        self.iflist()
            .slots()
            .iter()
            .filter_map(|s| s.obj.downcast_ref::<IfObj>().map(|o| o.0.clone()))
            .collect()
    }

    /// The interface named `name` (`ifunit()`).
    pub fn ifunit(&self, name: &str) -> Option<Arc<dyn IfnetDyn>> {
        let s = self.iflist().find(name)?;
        s.obj.downcast_ref::<IfObj>().map(|o| o.0.clone())
    }
}

/// `ifioctl()`/`in_control()`: the generic layer (the host's, `host::ifnet::ifioctl`)
/// around the driver's `if_ioctl`. Returns the status text for `SIOCGIFSTATUS`.
pub fn ifioctl(ifp: &dyn IfnetDyn, cmd: u32, arg: IfIoctlArg, cred: &Ucred) -> Result<String> {
    door::ifioctl(ifp, cmd, arg, cred)
}

/// `bpfattach(ifp, dlt, hdrlen)`.
pub fn bpfattach(ifp: &dyn IfnetDyn, dlt: u32, hdrlen: u32) {
    ifp.bpf().attach(dlt, hdrlen);
}

fn emit(ifp: &dyn IfnetDyn, f: impl FnOnce() -> Event) {
    if let Some(k) = ifp.kernel_handle() {
        k.downgrade().emit(f);
    }
}

/// `if_down(ifp)`: clears `IFF_UP` and purges the send queue.
pub fn if_down(ifp: &dyn IfnetDyn) {
    ifp.flags().remove(IfFlags::IFF_UP);
    emit(ifp, || Event::IfDown {
        ifname: StdArc::from(ifp.name()),
    });
    ifp.with_snd(&mut |q| ifq_purge(q));
}

/// `if_up(ifp)`: purges the send queue and sets `IFF_UP`.
pub fn if_up(ifp: &dyn IfnetDyn) {
    ifp.with_snd(&mut |q| ifq_purge(q));
    ifp.flags().insert(IfFlags::IFF_UP);
    emit(ifp, || Event::IfUp {
        ifname: StdArc::from(ifp.name()),
    });
}

/// `if_purgeaddrs_nolink(ifp)`: deletes every address except the `AF_LINK` one (entries
/// without an address included, which the C would dereference).
pub fn if_purgeaddrs_nolink(ifp: &dyn IfnetDyn) {
    let mut removed = Vec::new();
    ifp.with_addrs(&mut |list| {
        let mut keep = Vec::new();
        for a in list.drain(..) {
            if a.family() == Some(AF_LINK) {
                keep.push(a);
            } else {
                removed.push(a);
            }
        }
        *list = keep;
    });
    for a in removed {
        emit(ifp, || Event::PurgeAddr {
            ifname: StdArc::from(ifp.name()),
            addr: a,
        });
    }
}

/// `if_printf(ifp, fmt, ...)`: prints `"IF: "` and the text on the console.
pub fn if_printf(ifp: &dyn IfnetDyn, args: fmt::Arguments<'_>) {
    let mut text = std::format!("{}: {}", ifp.name(), args);
    while text.ends_with('\n') {
        text.pop();
    }
    if let Some(k) = ifp.kernel_handle() {
        k.console_push(text.clone());
        k.downgrade().emit(|| Event::Kprintf { text });
    }
}

/// `ifq_handoff(ifp, m, pa)`: enqueues `m` on `ifp`'s send queue (the caller holds the
/// serializer, as in DragonFly) and, on success, counts the output bytes and multicasts and
/// calls `if_start` unless `IFF_OACTIVE` is set. A full queue frees `m` and returns
/// `ENOBUFS`.
pub fn ifq_handoff<D: IfnetOps>(
    ifp: &Ifnet<D>,
    ser: &mut SerializeGuard<'_, D>,
    m: MbufBox,
    _pa: &AltqPktattr,
) -> Result {
    let len = m.pkthdr().map_or(0, |h| h.len) as u64;
    let mcast = m.flags().contains(MbufFlags::M_MCAST);
    ser.if_snd.enqueue(m)?;
    ifp.if_obytes.add(len);
    if mcast {
        ifp.if_omcasts.inc();
    }
    if !ifp.if_flags.get().contains(IfFlags::IFF_OACTIVE) {
        D::if_start(ifp, ser);
    }
    Ok(())
}
