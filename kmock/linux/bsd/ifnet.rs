// SPDX-License-Identifier: BSD-2-Clause
//! Interfaces on Linux: an [`Ifnet`] owns a `net_device` (made by the glue: point to
//! point, no link header, `ARPHRD_NONE`). `if_attach` registers it; transmit
//! (`ndo_start_xmit`, softirq) queues the `sk_buff` and a work item, in process context,
//! turns it into an mbuf chain and calls the driver's `if_output` (`tunoutput`); an
//! address Linux adds calls the driver's `if_ioctl(SIOCSIFADDR)` (an inetaddr notifier),
//! as BSD's `in_control` would. The serializer is a kernel `Mutex` (every user runs in
//! process context), seen by lockdep as "ifnet_serializer".

use core::ffi::{c_int, c_uint, c_void};
use core::fmt::{self, Write};
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};

use kernel::init::InPlaceInit;
use kernel::sync::lock::{mutex::MutexBackend, Guard};

use super::bpf::BpfTap;
use super::cred::Ucred;
use super::ifq::{ifq_purge, ifq_set_maxlen, AltqPktattr, Ifq, IFQ_MAXLEN};
use super::ioccom::{IFNAMSIZ, SIOCSIFADDR, SIOCSIFDSTADDR};
use super::mbuf::{m_get, m_gethdr, MbufBox, MbufFlags, MB_DONTWAIT, MHLEN, MLEN, MT_DATA};
use super::socket::{SockAddr, AF_INET, AF_LINK};
use crate::alloc::{AllocError, Flags, KBox};
use crate::error::Result;
use crate::sync::{Arc, Mutex, Spin};

pub use super::ifdefs::{
    ifr_mtu, ifreq_with_mtu, IfAddr, IfCounter, IfFlags, IfFlagsCell, IfStats, IFF_CANTCHANGE,
    IFT_PPP, IF_MAXMTU, IF_MINMTU,
};

/// An optional routing entry (`struct rtentry`); routing is Linux's.
#[derive(Debug)]
pub struct RtEntry {
    _priv: (),
}

/// A driver's interface operations, as kmock's.
pub trait IfnetOps: Send + Sync + Sized + 'static {
    /// The driver state guarded by the serializer, next to `if_snd`.
    type Serialized: Send + 'static;
    /// `if_output(ifp, m, dst, rt)`.
    fn if_output(ifp: &Ifnet<Self>, m: MbufBox, dst: &mut SockAddr, rt: Option<&RtEntry>) -> Result;
    /// `if_ioctl(ifp, cmd, data, cred)`.
    fn if_ioctl(ifp: &Ifnet<Self>, cmd: u32, data: Option<&mut [u8]>, cred: &Ucred) -> Result;
    /// `if_start(ifp)`, with the serializer held.
    fn if_start(ifp: &Ifnet<Self>, ser: &mut SerializeGuard<'_, Self>);
}

/// What `ifnet_serialize_all` protects.
pub struct IfnetSerialized<S> {
    /// `if_snd`.
    pub if_snd: Ifq,
    /// The driver's serialized state.
    pub sc: S,
}

/// The most addresses an interface keeps (the link address and a few inet ones).
const MAXADDRS: usize = 4;

/// `struct ifnet`, over a Linux `net_device`.
///
/// # Invariants
///
/// `netdev` is a `net_device` from `ktun_netdev_alloc`, freed only in `drop`; `ctx` is
/// null or the `Arc::into_raw` of this interface that the registered `net_device` holds.
pub struct Ifnet<D: IfnetOps> {
    name: [u8; IFNAMSIZ],
    name_len: usize,
    if_dunit: u32,
    if_index: AtomicU32,
    /// `if_flags` (BSD's; `IFF_UP` follows the Linux device).
    pub if_flags: IfFlagsCell,
    /// `if_mtu`.
    pub if_mtu: AtomicU64,
    /// `if_type`.
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
    addrs: Spin<[Option<IfAddr>; MAXADDRS]>,
    ser: Pin<KBox<Mutex<IfnetSerialized<D::Serialized>>>>,
    softc: Spin<Option<Arc<D>>>,
    netdev: AtomicPtr<c_void>,
    ctx: AtomicPtr<c_void>,
}

/// The guard of `ifnet_serialize_all`.
///
/// # Invariants
///
/// `g` is `Some` except inside [`SerializeGuard::deserialized`].
pub struct SerializeGuard<'a, D: IfnetOps> {
    ifp: &'a Ifnet<D>,
    g: Option<Guard<'a, IfnetSerialized<D::Serialized>, MutexBackend>>,
}

impl<'a, D: IfnetOps> SerializeGuard<'a, D> {
    /// `ifnet_deserialize_all(); f(); ifnet_serialize_all();`.
    pub fn deserialized<R>(&mut self, f: impl FnOnce() -> R) -> R {
        drop(self.g.take());
        let r = f();
        self.g = Some(self.ifp.ser.lock());
        r
    }

    /// The interface.
    pub fn ifp(&self) -> &'a Ifnet<D> {
        self.ifp
    }
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
    SerializeGuard { ifp, g: Some(ifp.ser.lock()) }
}

/// Formats into a fixed buffer, dropping what does not fit.
struct Fixed<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Write for Fixed<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.pos);
        self.buf[self.pos..self.pos + n].copy_from_slice(&s.as_bytes()[..n]);
        self.pos += n;
        Ok(())
    }
}

impl<D: IfnetOps> Ifnet<D> {
    /// `if_initname(ifp, dname, unit)` on a new interface and its `net_device`; `AllocError`
    /// if either allocation fails.
    pub fn new(
        dname: &str,
        unit: u32,
        sc: D::Serialized,
        flags: Flags,
    ) -> core::result::Result<Arc<Self>, AllocError> {
        let mut name = [0u8; IFNAMSIZ];
        let name_len = {
            // One byte stays 0: the name is also a C string.
            let mut w = Fixed { buf: &mut name[..IFNAMSIZ - 1], pos: 0 };
            let _ = write!(w, "{dname}{unit}");
            w.pos
        };
        let ser = KBox::pin_init(
            kernel::new_mutex!(IfnetSerialized { if_snd: Ifq::new(), sc }, "ifnet_serializer"),
            flags,
        )
        .map_err(|_| AllocError)?;
        // SAFETY: `name` is NUL-terminated (its last byte is never written).
        let dev = unsafe { crate::ffi::ktun_netdev_alloc(name.as_ptr().cast()) };
        if dev.is_null() {
            return Err(AllocError);
        }
        let ifp = Ifnet {
            name,
            name_len,
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
            addrs: Spin::new([const { None }; MAXADDRS]),
            ser,
            softc: Spin::new(None),
            netdev: AtomicPtr::new(dev),
            ctx: AtomicPtr::new(core::ptr::null_mut()),
        };
        // On failure `ifp` drops here, freeing the net_device.
        Arc::new(ifp, flags)
    }

    /// `ifp->if_softc = sc`.
    pub fn set_softc(&self, sc: Arc<D>) {
        *self.softc.lock() = Some(sc);
    }

    /// `ifp->if_softc`.
    pub fn if_softc(&self) -> Option<Arc<D>> {
        self.softc.lock().clone()
    }

    /// `if_xname`.
    pub fn if_xname(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }

    /// `if_dunit`.
    pub fn if_dunit(&self) -> u32 {
        self.if_dunit
    }

    /// `if_index` (the Linux ifindex once attached).
    pub fn if_index(&self) -> u32 {
        self.if_index.load(Ordering::Relaxed)
    }

    /// `ifp->if_bpf`: never set (Linux's taps see the device themselves).
    pub fn if_bpf(&self) -> Option<BpfTap<'_>> {
        None
    }

    /// The address list, as a snapshot.
    pub fn if_addrs(&self) -> impl Iterator<Item = IfAddr> {
        let snap: [Option<IfAddr>; MAXADDRS] = self.addrs.lock().clone();
        snap.into_iter().flatten()
    }

    fn dev(&self) -> *mut c_void {
        self.netdev.load(Ordering::Acquire)
    }
}

impl<D: IfnetOps> Drop for Ifnet<D> {
    fn drop(&mut self) {
        let dev = self.dev();
        if !dev.is_null() {
            // SAFETY: the type invariant: `dev` came from `ktun_netdev_alloc` and is freed
            // once, here; it is unregistered (or was never registered), since a registered
            // device holds a reference (`ctx`) that only `if_detach` releases.
            unsafe { crate::ffi::ktun_netdev_free(dev) };
        }
    }
}

/// The registered interfaces: (ifindex, net_device).
static IFTAB: Spin<[(u32, usize); 32]> = Spin::new([(0, 0); 32]);

/// The `net_device` of attached interface `index`.
pub(crate) fn netdev_of(index: u32) -> Option<*mut c_void> {
    IFTAB
        .lock()
        .iter()
        .find(|(i, _)| *i == index && index != 0)
        .map(|(_, d)| *d as *mut c_void)
}

/// `if_attach(ifp)`: the link address first, the queue limit, and `register_netdev`.
pub fn if_attach<D: IfnetOps>(ifp: &Arc<Ifnet<D>>) {
    {
        let mut g = ifnet_serialize_all(ifp);
        if g.if_snd.maxlen() == 0 {
            ifq_set_maxlen(&mut g.if_snd, IFQ_MAXLEN);
        }
    }
    {
        let mut a = ifp.addrs.lock();
        a.rotate_right(1);
        a[0] = Some(IfAddr { addr: Some(SockAddr::link()), dstaddr: None });
    }
    let ctx = Arc::into_raw(ifp.clone()) as *mut c_void;
    // SAFETY: `dev` is ifp's unregistered net_device; `ctx` is a strong reference the
    // device keeps until `if_detach`, and the trampolines are instantiated for `D`, the
    // type behind `ctx`.
    let r = unsafe {
        crate::ffi::ktun_netdev_register(ifp.dev(), ctx, output_tramp::<D>, addr_tramp::<D>, flag_tramp::<D>)
    };
    if r <= 0 {
        // SAFETY: registration failed, so the device never used `ctx`: it is released once.
        drop(unsafe { Arc::from_raw(ctx as *const Ifnet<D>) });
        crate::ffi::printk(3, b"if_tun: register_netdev failed");
        return;
    }
    ifp.ctx.store(ctx, Ordering::Release);
    ifp.if_index.store(r as u32, Ordering::Relaxed);
    let mut t = IFTAB.lock();
    if let Some(slot) = t.iter_mut().find(|(i, _)| *i == 0) {
        *slot = (r as u32, ifp.dev() as usize);
    }
}

/// `if_detach(ifp)`: `unregister_netdev` (which waits for the transmit work), then drops
/// the device's reference to the interface, purges the queue and clears `if_softc`.
pub fn if_detach<D: IfnetOps>(ifp: &Ifnet<D>) {
    let ctx = ifp.ctx.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !ctx.is_null() {
        let index = ifp.if_index();
        for slot in IFTAB.lock().iter_mut() {
            if slot.0 == index {
                *slot = (0, 0);
            }
        }
        // SAFETY: the device is registered (ctx is set only after a successful register).
        unsafe { crate::ffi::ktun_netdev_unregister(ifp.dev()) };
        // SAFETY: `ctx` is the `Arc::into_raw` that `if_attach` handed the device; the
        // device is unregistered and its work cancelled, so nothing uses it any more.
        drop(unsafe { Arc::from_raw(ctx as *const Ifnet<D>) });
    }
    ifq_purge(&mut ifnet_serialize_all(ifp).if_snd);
    ifp.softc.lock().take();
}

/// `bpfattach(ifp, dlt, hdrlen)`: nothing to do on Linux.
pub fn bpfattach<D: IfnetOps>(_ifp: &Ifnet<D>, _dlt: u32, _hdrlen: u32) {}

/// `if_down(ifp)`: clears `IFF_UP`, purges the send queue, and takes the Linux device down
/// (`dev_close` under RTNL).
pub fn if_down<D: IfnetOps>(ifp: &Ifnet<D>) {
    ifp.if_flags.remove(IfFlags::IFF_UP);
    ifq_purge(&mut ifnet_serialize_all(ifp).if_snd);
    if !ifp.ctx.load(Ordering::Acquire).is_null() {
        // SAFETY: the device is registered (ctx is set), and this runs in process context
        // without RTNL (the driver's close).
        unsafe { crate::ffi::ktun_netdev_close(ifp.dev()) };
    }
}

/// `if_up(ifp)`: purges the send queue and sets `IFF_UP` (BSD flags only).
pub fn if_up<D: IfnetOps>(ifp: &Ifnet<D>) {
    ifq_purge(&mut ifnet_serialize_all(ifp).if_snd);
    ifp.if_flags.insert(IfFlags::IFF_UP);
}

/// `if_purgeaddrs_nolink(ifp)`: forgets every address but the link one. Linux's own
/// addresses stay (no exported counterpart; docs/kernel.md).
pub fn if_purgeaddrs_nolink<D: IfnetOps>(ifp: &Ifnet<D>) {
    for a in ifp.addrs.lock().iter_mut() {
        if a.as_ref().is_some_and(|x| x.family() != Some(AF_LINK)) {
            *a = None;
        }
    }
}

/// `if_printf(ifp, fmt, ...)`: `"tun0: "` and the text, with `printk`.
pub fn if_printf<D: IfnetOps>(ifp: &Ifnet<D>, args: fmt::Arguments<'_>) {
    let mut buf = [0u8; 256];
    let n = {
        let mut w = Fixed { buf: &mut buf, pos: 0 };
        let _ = write!(w, "{}: {}", ifp.if_xname(), args);
        w.pos
    };
    let mut text = &buf[..n];
    while let [rest @ .., b'\n'] = text {
        text = rest;
    }
    crate::ffi::printk(6, text);
}

/// `ifq_handoff(ifp, m, pa)`: as kmock's.
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

/// The packet `bytes` as an mbuf chain: a header mbuf, then `MLEN` pieces.
fn chain_from(bytes: &[u8], index: u32) -> Option<MbufBox> {
    let mut top = m_gethdr(MB_DONTWAIT, MT_DATA)?;
    let first = bytes.len().min(MHLEN);
    top.set_len(first).ok()?;
    top.data_mut().copy_from_slice(&bytes[..first]);
    if let Some(h) = top.pkthdr_mut() {
        h.len = bytes.len();
        h.rcvif = Some(index);
    }
    let mut off = first;
    let mut slot = top.next_slot();
    while off < bytes.len() {
        let mut m = m_get(MB_DONTWAIT, MT_DATA)?;
        let n = (bytes.len() - off).min(MLEN);
        m.set_len(n).ok()?;
        m.data_mut().copy_from_slice(&bytes[off..off + n]);
        off += n;
        slot = slot.insert(m).next_slot();
    }
    Some(top)
}

unsafe extern "C" fn output_tramp<D: IfnetOps>(
    ctx: *const c_void,
    data: *const u8,
    len: c_uint,
    proto: u16,
) -> c_int {
    // SAFETY: `ctx` is the `Arc<Ifnet<D>>` that `if_attach` gave the device; the glue calls
    // this from the transmit work, which `unregister` cancels before `if_detach` releases it.
    let ifp = unsafe { &*(ctx as *const Ifnet<D>) };
    // SAFETY: the glue passes the linear data of an skb it owns during the call.
    let bytes = unsafe { core::slice::from_raw_parts(data, len as usize) };
    let Some(m) = chain_from(bytes, ifp.if_index()) else {
        ifp.if_oerrors.inc();
        return -crate::glue::linux_errno(super::errno::ENOBUFS);
    };
    let mut dst = match proto {
        0x0800 if bytes.len() >= 20 => SockAddr::inet([bytes[16], bytes[17], bytes[18], bytes[19]]),
        0x86dd => SockAddr::inet6(),
        _ => SockAddr::new(0, 16),
    };
    match D::if_output(ifp, m, &mut dst, None) {
        Ok(()) => 0,
        Err(e) => -crate::glue::linux_errno(e),
    }
}

unsafe extern "C" fn addr_tramp<D: IfnetOps>(ctx: *const c_void, up: c_int, local: u32, peer: u32) {
    // SAFETY: as in `output_tramp`: the notifier runs only for a registered device.
    let ifp = unsafe { &*(ctx as *const Ifnet<D>) };
    let (la, pa) = (local.to_ne_bytes(), peer.to_ne_bytes());
    {
        let mut list = ifp.addrs.lock();
        if up != 0 {
            let entry = IfAddr { addr: Some(SockAddr::inet(la)), dstaddr: (pa != la).then(|| SockAddr::inet(pa)) };
            match list.iter_mut().find(|a| a.as_ref().is_some_and(|x| x.family() == Some(AF_INET))) {
                Some(a) => *a = Some(entry),
                None => {
                    if let Some(a) = list.iter_mut().find(|a| a.is_none()) {
                        *a = Some(entry);
                    }
                }
            }
        } else {
            for a in list.iter_mut() {
                if a.as_ref().is_some_and(|x| x.addr.as_ref().and_then(|s| s.inet_addr()) == Some(la)) {
                    *a = None;
                }
            }
        }
    }
    if up != 0 {
        let cred = Ucred::default();
        let mut req = ifreq_with_mtu(0);
        let _ = D::if_ioctl(ifp, SIOCSIFADDR, Some(&mut req), &cred);
        if pa != la {
            let _ = D::if_ioctl(ifp, SIOCSIFDSTADDR, Some(&mut req), &cred);
        }
    }
}

unsafe extern "C" fn flag_tramp<D: IfnetOps>(ctx: *const c_void, up: c_int) {
    // SAFETY: as in `output_tramp`.
    let ifp = unsafe { &*(ctx as *const Ifnet<D>) };
    if up != 0 {
        ifp.if_flags.insert(IfFlags::IFF_UP);
    } else {
        ifp.if_flags.remove(IfFlags::IFF_UP);
    }
}
