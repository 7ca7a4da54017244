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
//! - The generic `ifioctl` layer ([`ifioctl`]) does what `ifioctl()`/`in_control()` do before
//!   and around a driver's `if_ioctl` for the requests the tun driver sees.
//!
//! Scalar fields and counters are atomics, so the stack, the driver and observers can read
//! them without the serializer (as DragonFly's per-CPU counters are read).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex as StdMutex, MutexGuard as StdGuard};

use super::bpf::{BpfIf, BpfTap};
use super::cred::{priv_check_cred, Ucred, PRIV_ROOT};
use super::ifq::{ifq_purge, Ifq};
use super::ioccom::*;
use super::mbuf::Mbuf;
use super::socket::{SockAddr, AF_INET, AF_INET6, AF_LINK};
use crate::error::{code, Result};
use crate::event::Event;
use crate::kernel::{current, Kernel, KernelInner};
use crate::sync::Mutex;

bitflags::bitflags! {
    /// `if_flags` (`IFF_*`), DragonFly values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct IfFlags: u32 {
        /// Interface is up.
        const IFF_UP = 0x1;
        /// Broadcast address valid.
        const IFF_BROADCAST = 0x2;
        /// Turn on debugging.
        const IFF_DEBUG = 0x4;
        /// Is a loopback net.
        const IFF_LOOPBACK = 0x8;
        /// Interface is point-to-point link.
        const IFF_POINTOPOINT = 0x10;
        /// Interface manages own routes.
        const IFF_SMART = 0x20;
        /// Resources allocated.
        const IFF_RUNNING = 0x40;
        /// No address resolution protocol.
        const IFF_NOARP = 0x80;
        /// Receive all packets.
        const IFF_PROMISC = 0x100;
        /// Receive all multicast packets.
        const IFF_ALLMULTI = 0x200;
        /// Transmission in progress.
        const IFF_OACTIVE = 0x400;
        /// Can't hear own transmissions.
        const IFF_SIMPLEX = 0x800;
        /// Per link layer defined bit.
        const IFF_LINK0 = 0x1000;
        /// Per link layer defined bit.
        const IFF_LINK1 = 0x2000;
        /// Per link layer defined bit.
        const IFF_LINK2 = 0x4000;
        /// Supports multicast.
        const IFF_MULTICAST = 0x8000;
        /// Interface is in polling mode.
        const IFF_POLLING = 0x10000;
        /// User-requested promiscuous mode.
        const IFF_PPROMISC = 0x20000;
        /// User-requested monitor mode.
        const IFF_MONITOR = 0x40000;
        /// Static ARP.
        const IFF_STATICARP = 0x80000;
        /// Interface is in polling mode (new).
        const IFF_NPOLLING = 0x100000;
    }
}

/// `IFF_CANTCHANGE`: flags `SIOCSIFFLAGS` cannot change.
pub const IFF_CANTCHANGE: IfFlags = IfFlags::IFF_BROADCAST
    .union(IfFlags::IFF_POINTOPOINT)
    .union(IfFlags::IFF_RUNNING)
    .union(IfFlags::IFF_OACTIVE)
    .union(IfFlags::IFF_SIMPLEX)
    .union(IfFlags::IFF_MULTICAST)
    .union(IfFlags::IFF_ALLMULTI)
    .union(IfFlags::IFF_SMART)
    .union(IfFlags::IFF_POLLING)
    .union(IfFlags::IFF_NPOLLING);

/// `IFT_PPP`.
pub const IFT_PPP: u8 = 0x17;
/// `IF_MINMTU`.
pub const IF_MINMTU: u32 = 72;
/// `IF_MAXMTU`.
pub const IF_MAXMTU: u32 = 65535;

/// `if_flags`, readable and writable without the serializer.
#[derive(Debug, Default)]
pub struct IfFlagsCell(AtomicU32);

impl IfFlagsCell {
    /// Current flags (unknown bits kept).
    pub fn get(&self) -> IfFlags {
        IfFlags::from_bits_retain(self.0.load(Ordering::SeqCst))
    }
    /// Replaces all flags.
    pub fn set(&self, f: IfFlags) {
        self.0.store(f.bits(), Ordering::SeqCst)
    }
    /// `if_flags |= f`.
    pub fn insert(&self, f: IfFlags) {
        self.0.fetch_or(f.bits(), Ordering::SeqCst);
    }
    /// `if_flags &= ~f`.
    pub fn remove(&self, f: IfFlags) {
        self.0.fetch_and(!f.bits(), Ordering::SeqCst);
    }
}

/// One interface counter (`if_ipackets`, …).
#[derive(Debug, Default)]
pub struct IfCounter(AtomicU64);

impl IfCounter {
    /// `++`.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// `+= n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A snapshot of an interface's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IfStats {
    /// Packets received.
    pub ipackets: u64,
    /// Input errors.
    pub ierrors: u64,
    /// Bytes received.
    pub ibytes: u64,
    /// Packets sent.
    pub opackets: u64,
    /// Output errors.
    pub oerrors: u64,
    /// Bytes sent.
    pub obytes: u64,
    /// Collisions.
    pub collisions: u64,
    /// Multicast packets sent.
    pub omcasts: u64,
}

/// One entry of the address list (`struct ifaddr`): `ifa_addr` (may be NULL) and
/// `ifa_dstaddr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddr {
    /// `ifa_addr`; `None` is a NULL pointer.
    pub addr: Option<SockAddr>,
    /// `ifa_dstaddr`.
    pub dstaddr: Option<SockAddr>,
}

impl IfAddr {
    /// The address's family, if it has an address.
    pub fn family(&self) -> Option<u8> {
        self.addr.as_ref().map(|a| a.sa_family())
    }
}

fn fmt_inet(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

impl fmt::Display for IfAddr {
    /// `link`, `inet:A`, `inet:A>B`, `inet6`, `null`, or `af:N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.addr {
            None => f.write_str("null"),
            Some(a) => match a.sa_family() {
                AF_LINK => f.write_str("link"),
                AF_INET6 => f.write_str("inet6"),
                AF_INET => {
                    write!(f, "inet:{}", fmt_inet(a.inet_addr().unwrap_or_default()))?;
                    if let Some(d) = self.dstaddr.as_ref().and_then(|d| d.inet_addr()) {
                        write!(f, ">{}", fmt_inet(d))?;
                    }
                    Ok(())
                }
                n => write!(f, "af:{n}"),
            },
        }
    }
}

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
    fn if_output(
        ifp: &Ifnet<Self>,
        m: Box<Mbuf>,
        dst: &mut SockAddr,
        rt: Option<&RtEntry>,
    ) -> Result;

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
    kernel: Weak<KernelInner>,
    if_xname: Arc<str>,
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
    bpf: BpfIf,
    ser: StdMutex<IfnetSerialized<D::Serialized>>,
    softc: Weak<D>,
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
    /// Allocates an interface named `dname` + `unit` (`if_initname`) for the softc `softc`,
    /// with `sc` as the driver's serialized state, in the current kernel. Flags, MTU and
    /// type start at zero; `if_snd` has no limit until `ifq_set_maxlen`.
    pub fn new(softc: Weak<D>, dname: &str, unit: u32, sc: D::Serialized) -> Arc<Self> {
        let kernel = current().map(|c| c.kernel.downgrade()).unwrap_or_default();
        let name: Arc<str> = Arc::from(format!("{dname}{unit}").as_str());
        Arc::new(Ifnet {
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
            bpf: BpfIf::new(name.clone(), kernel.clone()),
            ser: StdMutex::new(IfnetSerialized {
                if_snd: Ifq::new(name, kernel),
                sc,
            }),
            softc,
        })
    }

    /// `ifp->if_softc`: the driver's softc, while it exists.
    pub fn if_softc(&self) -> Option<Arc<D>> {
        self.softc.upgrade()
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
    pub fn if_bpf(&self) -> Option<BpfTap<'_>> {
        self.bpf.tap_point()
    }

    /// The address list (`if_addrheads`), as a snapshot.
    pub fn if_addrs(&self) -> Vec<IfAddr> {
        self.addrs.lock().clone()
    }

    fn kernel(&self) -> Option<Kernel> {
        Kernel::from_weak(&self.kernel)
    }

    /// Runs `f` inside this interface's kernel (as pid 0, the kernel itself) unless the
    /// calling thread already is in a kernel.
    fn in_context<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = match (current(), self.kernel()) {
            (None, Some(k)) => Some(k.enter(0)),
            _ => None,
        };
        f()
    }
}

/// The interface as the rest of the kernel sees it, whatever its driver.
pub trait IfnetDyn: Send + Sync {
    /// `if_xname`.
    fn name(&self) -> &str;
    /// `if_index`.
    fn index(&self) -> u32;
    /// `if_flags`.
    fn flags(&self) -> &IfFlagsCell;
    /// `if_mtu`.
    fn mtu(&self) -> u64;
    /// Sets `if_mtu`.
    fn set_mtu(&self, mtu: u64);
    /// `if_type`.
    fn if_type(&self) -> u8;
    /// `if_baudrate`.
    fn baudrate(&self) -> u64;
    /// The counters.
    fn stats(&self) -> IfStats;
    /// The address list, as a snapshot.
    fn addrs(&self) -> Vec<IfAddr>;
    /// Runs `f` on the address list.
    fn with_addrs(&self, f: &mut dyn FnMut(&mut Vec<IfAddr>));
    /// `ifp->if_output(ifp, m, dst, NULL)`.
    fn output(&self, m: Box<Mbuf>, dst: &mut SockAddr) -> Result;
    /// `ifp->if_ioctl(ifp, cmd, data, cred)` (the driver alone; see [`ifioctl`]).
    fn driver_ioctl(&self, cmd: u32, data: Option<&mut [u8]>, cred: &Ucred) -> Result;
    /// `ifp->if_start(ifp)` with the interface serialized.
    fn start(&self);
    /// Runs `f` on the send queue with the interface serialized.
    fn with_snd(&self, f: &mut dyn FnMut(&mut Ifq));
    /// The bpf attachment point.
    fn bpf(&self) -> &BpfIf;
    /// The kernel the interface belongs to.
    fn kernel_handle(&self) -> Option<Kernel>;
}

impl<D: IfnetOps> IfnetDyn for Ifnet<D> {
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
    fn addrs(&self) -> Vec<IfAddr> {
        self.if_addrs()
    }
    fn with_addrs(&self, f: &mut dyn FnMut(&mut Vec<IfAddr>)) {
        f(&mut self.addrs.lock())
    }
    fn output(&self, m: Box<Mbuf>, dst: &mut SockAddr) -> Result {
        self.in_context(|| D::if_output(self, m, dst, None))
    }
    fn driver_ioctl(&self, cmd: u32, data: Option<&mut [u8]>, cred: &Ucred) -> Result {
        self.in_context(|| D::if_ioctl(self, cmd, data, cred))
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

/// `if_attach(ifp, serializer)`: assigns the next interface index, puts an `AF_LINK`
/// address at the head of the address list, sets the send-queue limit if unset, and links
/// the interface into its kernel's list.
pub fn if_attach<D: IfnetOps>(ifp: &Arc<Ifnet<D>>) {
    let Some(k) = ifp.kernel() else { return };
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
    let mut list = k.0.ifnets.lock();
    ifp.if_index.store(list.len() as u32 + 1, Ordering::Relaxed);
    list.push(ifp.clone() as Arc<dyn IfnetDyn>);
    drop(list);
    k.emit(|| Event::IfAttach {
        ifname: ifp.if_xname.clone(),
    });
}

/// `bpfattach(ifp, dlt, hdrlen)`.
pub fn bpfattach(ifp: &dyn IfnetDyn, dlt: u32, hdrlen: u32) {
    ifp.bpf().attach(dlt, hdrlen);
}

fn emit(ifp: &dyn IfnetDyn, f: impl FnOnce() -> Event) {
    if let Some(k) = ifp.kernel_handle() {
        k.emit(f);
    }
}

/// `if_down(ifp)`: clears `IFF_UP` and purges the send queue.
pub fn if_down(ifp: &dyn IfnetDyn) {
    ifp.flags().remove(IfFlags::IFF_UP);
    emit(ifp, || Event::IfDown {
        ifname: Arc::from(ifp.name()),
    });
    ifp.with_snd(&mut |q| ifq_purge(q));
}

/// `if_up(ifp)`: purges the send queue and sets `IFF_UP`.
pub fn if_up(ifp: &dyn IfnetDyn) {
    ifp.with_snd(&mut |q| ifq_purge(q));
    ifp.flags().insert(IfFlags::IFF_UP);
    emit(ifp, || Event::IfUp {
        ifname: Arc::from(ifp.name()),
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
            ifname: Arc::from(ifp.name()),
            addr: format!("{a}"),
        });
    }
}

/// `if_printf(ifp, fmt, ...)`: prints `"IF: "` and the text on the console.
pub fn if_printf(ifp: &dyn IfnetDyn, args: fmt::Arguments<'_>) {
    let mut text = format!("{}: {}", ifp.name(), args);
    while text.ends_with('\n') {
        text.pop();
    }
    if let Some(k) = ifp.kernel_handle() {
        k.0.log.lock().push(text.clone());
        k.emit(|| Event::Kprintf { text });
    }
}

/// The argument of a generic interface ioctl ([`ifioctl`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfIoctlArg {
    /// No argument.
    None,
    /// An IPv4 address (`SIOCSIFADDR`, `SIOCSIFDSTADDR`).
    Inet([u8; 4]),
    /// An integer (`SIOCSIFFLAGS` flags, `SIOCSIFMTU`, raw commands' `ifr_mtu`).
    Int(i32),
}

/// The result of [`ifioctl`] for `SIOCGIFSTATUS`: the status text; otherwise empty.
pub type IfIoctlOut = String;

/// `ifioctl()`/`in_control()`: the generic socket-ioctl layer around a driver's `if_ioctl`.
///
/// - `SIOCSIFADDR A`: root only (`EPERM`); adds an `AF_INET` address at the tail if none
///   exists, sets it, calls the driver, and restores the old state if the driver fails.
/// - `SIOCSIFDSTADDR A`: root only; `EADDRNOTAVAIL` without an `AF_INET` address; `EINVAL`
///   without `IFF_POINTOPOINT`; sets the destination, calls the driver, restores on error.
/// - `SIOCSIFFLAGS F`: root only; `if_down`/`if_up` on an `IFF_UP` transition (unless
///   `IFF_SMART`), rewrites the changeable flags (`IFF_PPROMISC` forces `IFF_PROMISC`), calls
///   the driver and ignores its result.
/// - `SIOCSIFMTU N`: root only; `EINVAL` outside `IF_MINMTU..=IF_MAXMTU`; else the driver.
/// - `SIOCADDMULTI`/`SIOCDELMULTI`: root only; `EOPNOTSUPP` without `IFF_MULTICAST`; the
///   driver with no data, result ignored.
/// - `SIOCGIFSTATUS`: a zeroed `struct ifstat` to the driver; returns its text.
/// - anything else: the driver with a zeroed `ifreq` whose `ifr_mtu` is the `Int` argument.
pub fn ifioctl(ifp: &dyn IfnetDyn, cmd: u32, arg: IfIoctlArg, cred: &Ucred) -> Result<String> {
    let int = match arg {
        IfIoctlArg::Int(v) => v,
        _ => 0,
    };
    match cmd {
        SIOCSIFADDR => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            let IfIoctlArg::Inet(a) = arg else {
                return Err(code::EINVAL);
            };
            set_addr_then_driver(ifp, cmd, cred, &mut |list| match list
                .iter_mut()
                .find(|x| x.family() == Some(AF_INET))
            {
                Some(x) => x.addr = Some(SockAddr::inet(a)),
                None => list.push(IfAddr {
                    addr: Some(SockAddr::inet(a)),
                    dstaddr: None,
                }),
            })
        }
        SIOCSIFDSTADDR => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            let IfIoctlArg::Inet(a) = arg else {
                return Err(code::EINVAL);
            };
            if !ifp.addrs().iter().any(|x| x.family() == Some(AF_INET)) {
                return Err(code::EADDRNOTAVAIL);
            }
            if !ifp.flags().get().contains(IfFlags::IFF_POINTOPOINT) {
                return Err(code::EINVAL);
            }
            set_addr_then_driver(ifp, cmd, cred, &mut |list| {
                if let Some(x) = list.iter_mut().find(|x| x.family() == Some(AF_INET)) {
                    x.dstaddr = Some(SockAddr::inet(a));
                }
            })
        }
        SIOCSIFFLAGS => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            let new = IfFlags::from_bits_retain(int as u32);
            let old = ifp.flags().get();
            if !old.contains(IfFlags::IFF_SMART) {
                if old.contains(IfFlags::IFF_UP) && !new.contains(IfFlags::IFF_UP) {
                    if_down(ifp);
                } else if !old.contains(IfFlags::IFF_UP) && new.contains(IfFlags::IFF_UP) {
                    if_up(ifp);
                }
            }
            let cur = ifp.flags().get();
            let mut f = (cur & IFF_CANTCHANGE) | (new - IFF_CANTCHANGE);
            if f.contains(IfFlags::IFF_PPROMISC) {
                f |= IfFlags::IFF_PROMISC;
            } else {
                f -= IfFlags::IFF_PROMISC;
            }
            ifp.flags().set(f);
            let _ = ifp.driver_ioctl(cmd, Some(&mut ifreq_with_mtu(int)), cred);
            Ok(String::new())
        }
        SIOCSIFMTU => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            if int < IF_MINMTU as i32 || int > IF_MAXMTU as i32 {
                return Err(code::EINVAL);
            }
            ifp.driver_ioctl(cmd, Some(&mut ifreq_with_mtu(int)), cred)
                .map(|_| String::new())
        }
        SIOCADDMULTI | SIOCDELMULTI => {
            priv_check_cred(cred, PRIV_ROOT, 0)?;
            if !ifp.flags().get().contains(IfFlags::IFF_MULTICAST) {
                return Err(code::EOPNOTSUPP);
            }
            let _ = ifp.driver_ioctl(cmd, None, cred);
            Ok(String::new())
        }
        SIOCGIFSTATUS => {
            let mut ifs = alloc::vec![0u8; IFSTAT_SIZE];
            ifp.driver_ioctl(cmd, Some(&mut ifs), cred)?;
            let ascii = &ifs[IFNAMSIZ..];
            let end = ascii.iter().position(|&b| b == 0).unwrap_or(ascii.len());
            Ok(String::from_utf8_lossy(&ascii[..end]).into_owned())
        }
        _ => ifp
            .driver_ioctl(cmd, Some(&mut ifreq_with_mtu(int)), cred)
            .map(|_| String::new()),
    }
}

/// `in_control()`'s pattern: change the address list, call the driver with a zeroed
/// `ifreq`, and put the old list back if the driver fails.
fn set_addr_then_driver(
    ifp: &dyn IfnetDyn,
    cmd: u32,
    cred: &Ucred,
    edit: &mut dyn FnMut(&mut Vec<IfAddr>),
) -> Result<String> {
    let saved = ifp.addrs();
    ifp.with_addrs(edit);
    let r = ifp.driver_ioctl(cmd, Some(&mut ifreq_with_mtu(0)), cred);
    if r.is_err() {
        ifp.with_addrs(&mut |list| *list = saved.clone());
    }
    r.map(|_| String::new())
}

/// A zeroed `struct ifreq` whose `ifr_mtu` (the `int` at offset 16) is `mtu`.
pub fn ifreq_with_mtu(mtu: i32) -> [u8; IFREQ_SIZE] {
    let mut req = [0u8; IFREQ_SIZE];
    req[IFNAMSIZ..IFNAMSIZ + 4].copy_from_slice(&mtu.to_ne_bytes());
    req
}

/// `ifr->ifr_mtu`: the `int` at offset 16 of a `struct ifreq`; `EFAULT` if too short.
pub fn ifr_mtu(data: &[u8]) -> Result<i32> {
    data_i32(data.get(IFNAMSIZ..).ok_or(code::EFAULT)?)
}
