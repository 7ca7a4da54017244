// SPDX-License-Identifier: BSD-2-Clause
//! The driver proper: one function per function of `if_tun.c`, in the C's order, each
//! naming its C twin and line range.
//!
//! Reading guide: `ap.a_dev`, `ap.a_uio`, `ap.a_data` are the C's `ap->a_head.a_dev`,
//! `ap->a_uio`, `ap->a_data`. Where the C calls `ifnet_serialize_all(ifp)` this code holds
//! a `SerializeGuard` (`g`), and `g.sc.tun_flags` is the C's `tp->tun_flags`. An mbuf chain
//! is an `MbufBox`; the C's `m_freem(m)` is dropping it.

use core::fmt::{self, Write};

use kernel::bsd::bpf::{bpf_mtap, bpf_ptap, DLT_NULL};
use kernel::bsd::cred::{priv_check_cred, Ucred, GID_DIALER, PRIV_ROOT, UID_UUCP};
use kernel::bsd::devfs::{
    destroy_dev, dev_ops_foreach, devfs_clone_bitmap_get, devfs_clone_bitmap_set,
    make_autoclone_dev, make_dev, make_only_dev, Cdev, DevCloneArgs, DevCloseArgs, DevIoctlArgs,
    DevKqfilterArgs, DevOpenArgs, DevOps, DevReadArgs, DevWriteArgs, DevfsCloneBitmap,
};
use kernel::bsd::errno::{EAFNOSUPPORT, EHOSTDOWN, ENOBUFS, EOPNOTSUPP, EWOULDBLOCK};
use kernel::bsd::ifnet::{
    bpfattach, if_attach, if_detach, if_down, if_printf, if_purgeaddrs_nolink, ifnet_serialize_all,
    ifq_handoff, ifr_mtu, IfFlags, Ifnet, IfnetOps, RtEntry, SerializeGuard, IFT_PPP, IF_MINMTU,
};
use kernel::bsd::ifq::{
    if_drop, ifq_classify, ifq_dequeue, ifq_is_empty, ifq_is_enabled, ifq_poll, ifq_purge,
    ifq_set_maxlen, ifq_set_ready, AltqPktattr, IFQ_MAXLEN,
};
use kernel::bsd::ioccom::{data_i32, set_data_i32, IFNAMSIZ, IFSTATMAX};
use kernel::bsd::kqueue::{
    knote, knote_insert, knote_remove, FilterOps, Knote, EVFILT_READ, EVFILT_WRITE, FILTEROP_ISFD,
};
use kernel::bsd::mbuf::{
    m_adj, m_free, m_freem, m_get, m_gethdr, m_prepend_hdr, m_pullup, MbufBox, MB_DONTWAIT, MHLEN,
    MLEN, MT_DATA,
};
use kernel::bsd::netisr::netisr_queue;
#[cfg(feature = "netatalk")]
use kernel::bsd::netisr::NETISR_ATALK2;
#[cfg(feature = "inet")]
use kernel::bsd::netisr::NETISR_IP;
#[cfg(feature = "inet6")]
use kernel::bsd::netisr::NETISR_IPV6;
#[cfg(feature = "ipx")]
use kernel::bsd::netisr::NETISR_IPX;
use kernel::bsd::proc::curproc;
use kernel::bsd::sigio::{fgetown, fsetown, funsetown, pgsigio, SIGIO};
use kernel::bsd::sleep::{tsleep, wakeup, PCATCH};
#[cfg(feature = "netatalk")]
use kernel::bsd::socket::AF_APPLETALK;
#[cfg(feature = "inet6")]
use kernel::bsd::socket::AF_INET6;
#[cfg(feature = "ipx")]
use kernel::bsd::socket::AF_IPX;
use kernel::bsd::socket::{SockAddr, AF_INET, AF_UNSPEC};
use kernel::bsd::sysctl::{sysctl_int, SysctlInt};
use kernel::bsd::uio::{uiomove, IO_NDELAY};
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::abi::*;
use crate::softc::{TunFlags, TunSerialized, TunSoftc};

/// `TUN_PREALLOCATED_UNITS`: with `NTUN` ≤ 1 (a plain `pseudo-device tun`), 4.
pub const TUN_PREALLOCATED_UNITS: u32 = 4;

/// `TUNDEBUG`: `if (tundebug) if_printf(...)`.
macro_rules! tundebug {
    ($tp:expr, $($arg:tt)*) => {
        if $tp.tundebug.get() != 0 {
            if_printf(&*$tp.tun_if, format_args!($($arg)*));
        }
    };
}

/// `debug.if_tun_debug`: registers (or finds) the knob in the current kernel.
fn tundebug_knob() -> Result<Arc<SysctlInt>> {
    Ok(sysctl_int("debug.if_tun_debug", 0, "Enable debug output")?)
}

/// `static struct dev_ops tun_ops` (if_tun.c:100–108) with the clone bitmap
/// (`DEVFS_DECLARE_CLONE_BITMAP(tun)`, line 92) beside it.
pub struct TunOps {
    clone_bitmap: Arc<DevfsCloneBitmap>,
}

impl DevOps for TunOps {
    fn d_name(&self) -> &'static str {
        "tun"
    }
    fn d_open(&self, ap: &mut DevOpenArgs<'_>) -> Result {
        tunopen(ap)
    }
    fn d_close(&self, ap: &mut DevCloseArgs<'_>) -> Result {
        tunclose(ap)
    }
    fn d_read(&self, ap: &mut DevReadArgs<'_, '_>) -> Result {
        tunread(ap)
    }
    fn d_write(&self, ap: &mut DevWriteArgs<'_, '_>) -> Result {
        tunwrite(ap)
    }
    fn d_ioctl(&self, ap: &mut DevIoctlArgs<'_>) -> Result {
        tunioctl(ap)
    }
    fn d_kqfilter(&self, ap: &mut DevKqfilterArgs<'_>) -> Result {
        tunkqfilter(ap)
    }
}

/// The interface entry points (`ifp->if_output`, `if_ioctl`, `if_start`, set in
/// `tuncreate`, lines 157–160).
impl IfnetOps for TunSoftc {
    type Serialized = TunSerialized;

    fn if_output(
        ifp: &Ifnet<Self>,
        m: MbufBox,
        dst: &mut SockAddr,
        rt: Option<&RtEntry>,
    ) -> Result {
        tunoutput(ifp, m, dst, rt)
    }

    fn if_ioctl(ifp: &Ifnet<Self>, cmd: u32, data: Option<&mut [u8]>, cred: &Ucred) -> Result {
        tunifioctl(ifp, cmd, data, cred)
    }

    fn if_start(ifp: &Ifnet<Self>, ser: &mut SerializeGuard<'_, Self>) {
        tunstart(ifp, ser)
    }
}

/// The softc of a device node (`dev->si_drv1`). The C dereferences it unchecked; a node
/// without one answers `ENXIO` here.
fn softc(dev: &Cdev) -> Result<Arc<TunSoftc>> {
    dev.si_drv1::<TunSoftc>().ok_or(ENXIO)
}

/// Port of `tunattach()` (if_tun.c:110–121): creates the autoclone node `tun` and the
/// preallocated units `tun0`…`tun3`, marking them taken in the clone bitmap. Fails with
/// `ENOMEM` when an allocation fails and with the error of `make_dev` (the C ignores both:
/// it cannot fail at boot).
pub fn tunattach() -> Result<Arc<TunOps>> {
    let ops = Arc::new(
        TunOps {
            clone_bitmap: Arc::new(DevfsCloneBitmap::new(), GFP_KERNEL)?,
        },
        GFP_KERNEL,
    )?;
    make_autoclone_dev(
        &ops,
        &ops.clone_bitmap,
        tunclone,
        UID_UUCP,
        GID_DIALER,
        0o600,
        format_args!("tun"),
    )?;
    for i in 0..TUN_PREALLOCATED_UNITS {
        make_dev(&ops, i, UID_UUCP, GID_DIALER, 0o600, format_args!("tun{i}"))?;
        devfs_clone_bitmap_set(&ops.clone_bitmap, i);
    }
    // Doesn't need uninit because unloading is not possible (PSEUDO_SET).
    tundebug_knob()?;
    Ok(ops)
}

/// Port of `tunclone()` (if_tun.c:123–133): takes the lowest free unit from the clone
/// bitmap and creates its node. (`ENXIO` when every unit is taken; the C cannot run out.)
pub fn tunclone(ops: &Arc<TunOps>, ap: &mut DevCloneArgs<'_>) -> Result {
    let unit = devfs_clone_bitmap_get(&ops.clone_bitmap, 0).ok_or(ENXIO)?;
    ap.a_dev = Some(make_only_dev(
        ops,
        unit,
        UID_UUCP,
        GID_DIALER,
        0o600,
        format_args!("tun{unit}"),
    )?);
    Ok(())
}

/// Port of `tuncreate()` (if_tun.c:135–163): allocates the softc and its interface
/// (`tunN`, mtu 1500, `IFF_POINTOPOINT | IFF_MULTICAST`, `IFT_PPP`, send queue of
/// `ifqmaxlen`), attaches it and its bpf tap (`DLT_NULL`, 4-byte header), and stores the
/// softc in `si_drv1`.
pub fn tuncreate(dev: &Arc<Cdev>) -> Result {
    let tun_if = Ifnet::new(
        "tun",
        dev.minor(),
        TunSerialized {
            tun_flags: TunFlags::TUN_INITED,
            tun_pid: 0,
        },
        GFP_KERNEL,
    )?;
    let sc = Arc::new(
        TunSoftc {
            tun_if,
            tun_sigio: Default::default(),
            tun_rkq: Default::default(),
            tundebug: tundebug_knob()?,
        },
        GFP_KERNEL,
    )?;
    let ifp = &sc.tun_if;
    ifp.set_softc(sc.clone());
    ifp.if_mtu
        .store(TUNMTU, core::sync::atomic::Ordering::Relaxed);
    ifp.if_flags
        .set(IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST);
    ifp.if_type
        .store(IFT_PPP, core::sync::atomic::Ordering::Relaxed);
    {
        let mut g = ifnet_serialize_all(ifp);
        ifq_set_maxlen(&mut g.if_snd, IFQ_MAXLEN);
        ifq_set_ready(&mut g.if_snd);
    }
    if_attach(ifp);
    bpfattach(&**ifp, DLT_NULL, core::mem::size_of::<u32>() as u32);
    dev.set_si_drv1(sc);
    Ok(())
}

/// Port of `tunopen()` (if_tun.c:169–192): tunnel open — must be superuser; the softc is
/// created on first open; the device is exclusive (`EBUSY`).
pub fn tunopen(ap: &mut DevOpenArgs<'_>) -> Result {
    let dev = ap.a_dev;
    priv_check_cred(ap.a_cred, PRIV_ROOT, 0)?;

    let tp = match dev.si_drv1::<TunSoftc>() {
        Some(tp) => tp,
        None => {
            tuncreate(dev)?;
            softc(dev)?
        }
    };
    let mut g = ifnet_serialize_all(&tp.tun_if);
    if g.sc.tun_flags.contains(TunFlags::TUN_OPEN) {
        return Err(EBUSY);
    }
    g.sc.tun_pid = curproc().map_or(0, |p| p.p_pid);
    g.sc.tun_flags.insert(TunFlags::TUN_OPEN);
    drop(g);
    tundebug!(tp, "open\n");
    Ok(())
}

/// Port of `tunclose()` (if_tun.c:198–229): close the device — junk pending output, mark
/// the interface down, delete its addresses, drop the SIGIO owner and notify knotes.
/// LMODE, IFHEAD, ASYNC, IASET, the mtu and the clone unit stay as they are.
pub fn tunclose(ap: &mut DevCloseArgs<'_>) -> Result {
    let tp = softc(ap.a_dev)?;
    let ifp = &tp.tun_if;
    {
        let mut g = ifnet_serialize_all(ifp);
        g.sc.tun_flags.remove(TunFlags::TUN_OPEN);
        g.sc.tun_pid = 0;

        // Junk all pending output.
        ifq_purge(&mut g.if_snd);
    }

    if ifp.if_flags.get().contains(IfFlags::IFF_UP) {
        if_down(&**ifp);
    }
    ifp.if_flags.remove(IfFlags::IFF_RUNNING);
    if_purgeaddrs_nolink(&**ifp);

    funsetown(&tp.tun_sigio);
    knote(&tp.tun_rkq, 0);

    tundebug!(tp, "closed\n");
    // The C's release of clone units >= TUN_PREALLOCATED_UNITS is `#if 0`: units are
    // never reused.
    Ok(())
}

/// Port of `tuninit()` (if_tun.c:231–262): marks the interface up and running and sets
/// `TUN_IASET` if an IPv4 address is configured; an address entry without a sockaddr gives
/// `EFAULT` (the walk goes on).
pub fn tuninit(ifp: &Ifnet<TunSoftc>) -> Result {
    let Some(tp) = ifp.if_softc() else {
        return Err(ENXIO);
    };
    let mut error = Ok(());

    tundebug!(tp, "tuninit\n");

    ifp.if_flags.insert(IfFlags::IFF_UP | IfFlags::IFF_RUNNING);
    ifp.if_lastchange
        .fetch_add(1, core::sync::atomic::Ordering::Relaxed);

    for ifa in ifp.if_addrs() {
        match &ifa.addr {
            None => {
                error = Err(EFAULT);
                // XXX (C): should maybe return straight off?
            }
            #[cfg(feature = "inet")]
            Some(sa) => {
                // An AF_INET address other than 0.0.0.0 sets TUN_IASET.
                if sa.inet_addr().is_some_and(|a| a != [0; 4]) {
                    ifnet_serialize_all(ifp)
                        .sc
                        .tun_flags
                        .insert(TunFlags::TUN_IASET);
                }
            }
            #[cfg(not(feature = "inet"))]
            Some(_) => {}
        }
    }
    error
}

/// `ksprintf` into a fixed buffer: writes what fits and drops the rest (the C writes
/// unbounded).
struct BoundedWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Write for BoundedWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.pos;
        let n = s.len().min(room);
        self.buf[self.pos..self.pos + n].copy_from_slice(&s.as_bytes()[..n]);
        self.pos += n;
        Ok(())
    }
}

/// Appends `text` after the NUL-terminated string in `ifstat.ascii` (`ksprintf(ifs->ascii +
/// strlen(ifs->ascii), ...)`), bounded by the buffer: the C writes unbounded.
fn ifstat_append(data: &mut [u8], text: fmt::Arguments<'_>) {
    let Some(ascii) = data.get_mut(IFNAMSIZ..) else {
        return;
    };
    let limit = ascii.len().min(IFSTATMAX + 1);
    let ascii = &mut ascii[..limit];
    let start = ascii.iter().position(|&b| b == 0).unwrap_or(limit);
    // Room for the text and its terminating NUL.
    let end = limit.saturating_sub(1).max(start);
    let mut w = BoundedWriter {
        buf: &mut ascii[start..end],
        pos: 0,
    };
    let _ = w.write_fmt(text);
    let n = w.pos;
    if start + n < limit {
        ascii[start + n] = 0;
    }
}

/// Port of `tunifioctl()` (if_tun.c:269–304): the interface ioctls — status text, address
/// changes (through `tuninit`), mtu; flags and multicast are accepted and ignored;
/// anything else is `EINVAL`.
pub fn tunifioctl(ifp: &Ifnet<TunSoftc>, cmd: u32, data: Option<&mut [u8]>, _cr: &Ucred) -> Result {
    let Some(tp) = ifp.if_softc() else {
        return Err(ENXIO);
    };
    let mut error = Ok(());

    match cmd {
        SIOCGIFSTATUS => {
            let pid = ifnet_serialize_all(ifp).sc.tun_pid;
            if pid != 0 {
                if let Some(ifs) = data {
                    ifstat_append(ifs, format_args!("\tOpened by PID {pid}\n"));
                }
            }
        }
        SIOCSIFADDR => {
            error = tuninit(ifp);
            tundebug!(tp, "address set, error={}\n", errno(&error));
        }
        SIOCSIFDSTADDR => {
            error = tuninit(ifp);
            tundebug!(tp, "destination address set, error={}\n", errno(&error));
        }
        SIOCSIFMTU => {
            let mtu = ifr_mtu(data.as_deref().unwrap_or(&[]))?;
            // `if_mtu` is a u_long: the int sign-extends, as in the C.
            ifp.if_mtu
                .store(mtu as i64 as u64, core::sync::atomic::Ordering::Relaxed);
            tundebug!(tp, "mtu set\n");
        }
        SIOCSIFFLAGS | SIOCADDMULTI | SIOCDELMULTI => {}
        _ => error = Err(EINVAL),
    }
    error
}

fn errno(r: &Result) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Port of `tunoutput_serialized()` (if_tun.c:311–405): queue a packet from the stack for
/// the reader, framed for the current mode, and notify the reader (wakeup, SIGIO, knotes).
pub fn tunoutput_serialized(
    ifp: &Ifnet<TunSoftc>,
    g: &mut SerializeGuard<'_, TunSoftc>,
    mut m0: MbufBox,
    dst: &mut SockAddr,
    _rt: Option<&RtEntry>,
) -> Result {
    let Some(tp) = ifp.if_softc() else {
        return Err(ENXIO);
    };
    let mut pktattr = AltqPktattr::default();

    tundebug!(tp, "tunoutput\n");

    if !g.sc.tun_flags.contains(TunFlags::TUN_READY) {
        tundebug!(tp, "not ready 0{:o}\n", g.sc.tun_flags.bits());
        m_freem(m0);
        return Err(EHOSTDOWN);
    }

    // If the queueing discipline needs packet classification, do it before prepending
    // link headers.
    ifq_classify(&g.if_snd, &m0, dst.sa_family(), &mut pktattr);

    // BPF write needs to be handled specially: the packet starts with the family as a
    // host-order int. The C reads it from the first mbuf whatever its length; here the
    // four bytes are pulled up first (a shorter packet is dropped).
    if dst.sa_family() == AF_UNSPEC {
        if m0.len() < core::mem::size_of::<i32>() {
            m0 = match m_pullup(m0, core::mem::size_of::<i32>()) {
                Some(m) => m,
                None => {
                    if_drop(&mut g.if_snd);
                    ifp.if_oerrors.inc();
                    return Err(ENOBUFS);
                }
            };
        }
        let family = m0.read_u32_ne().ok_or(ENOBUFS)? as i32;
        // sa_family_t is a u_char: the int truncates.
        dst.set_family(family as u8);
        // m0->m_len -= sizeof(int); m0->m_data += sizeof(int): the family word becomes
        // leading space (an IFHEAD prepend then fits in place; m_adj would not move
        // m_data for an emptied mbuf).
        m0.consume_front(core::mem::size_of::<i32>())?;
        // m0->m_pkthdr.len -= sizeof(int);
        if let Some(h) = m0.pkthdr_mut() {
            h.len = h.len.saturating_sub(core::mem::size_of::<i32>());
        }
    }

    if let Some(bp) = ifp.if_bpf() {
        // We need to prepend the address family as a four byte field.
        let af = u32::from(dst.sa_family());
        bpf_ptap(&bp, &m0, &af.to_ne_bytes());
    }

    // Prepend sockaddr? This may abort if the mbuf allocation fails.
    if g.sc.tun_flags.contains(TunFlags::TUN_LMODE) {
        // Allocate space for the sockaddr; if allocation failed drop the packet.
        let sa_len = usize::from(dst.sa_len());
        match m_prepend_hdr(m0, sa_len, MB_DONTWAIT) {
            None => {
                if_drop(&mut g.if_snd);
                ifp.if_oerrors.inc();
                return Err(ENOBUFS);
            }
            Some(m) => {
                m0 = m;
                // bcopy(dst, m0->m_data, dst->sa_len)
                match m0.data_mut().get_mut(..sa_len) {
                    Some(d) => d.copy_from_slice(dst.as_bytes()),
                    None => return Err(ENOBUFS),
                }
            }
        }
    }

    if g.sc.tun_flags.contains(TunFlags::TUN_IFHEAD) {
        // Prepend the address family; if allocation failed drop the packet.
        match m_prepend_hdr(m0, 4, MB_DONTWAIT) {
            None => {
                if_drop(&mut g.if_snd);
                ifp.if_oerrors.inc();
                return Err(ENOBUFS);
            }
            Some(m) => {
                m0 = m;
                m0.write_u32_ne(u32::from(dst.sa_family()).to_be())?;
            }
        }
    } else {
        #[cfg(feature = "inet")]
        let supported = dst.sa_family() == AF_INET;
        #[cfg(not(feature = "inet"))]
        let supported = false;
        if !supported {
            m_freem(m0);
            return Err(EAFNOSUPPORT);
        }
    }

    let error = ifq_handoff(ifp, g, m0, &pktattr);
    match error {
        Err(e) => {
            ifp.if_collisions.inc();
            Err(e)
        }
        Ok(()) => {
            ifp.if_opackets.inc();
            if g.sc.tun_flags.contains(TunFlags::TUN_RWAIT) {
                g.sc.tun_flags.remove(TunFlags::TUN_RWAIT);
                wakeup(&*tp);
            }
            // get_mplock()/rel_mplock(): the sigio slot has its own lock.
            if g.sc.tun_flags.contains(TunFlags::TUN_ASYNC) && tp.tun_sigio.get().is_some() {
                pgsigio(&tp.tun_sigio, SIGIO, 0);
            }
            g.deserialized(|| knote(&tp.tun_rkq, 0));
            Ok(())
        }
    }
}

/// Port of `tunoutput()` (if_tun.c:407–418): `tunoutput_serialized` with the interface
/// serialized.
pub fn tunoutput(
    ifp: &Ifnet<TunSoftc>,
    m0: MbufBox,
    dst: &mut SockAddr,
    rt: Option<&RtEntry>,
) -> Result {
    let mut g = ifnet_serialize_all(ifp);
    let error = tunoutput_serialized(ifp, &mut g, m0, dst, rt);
    drop(g);
    error
}

/// Port of `tunioctl()` (if_tun.c:423–523): the device ioctls.
pub fn tunioctl(ap: &mut DevIoctlArgs<'_>) -> Result {
    let tp = softc(ap.a_dev)?;
    let ifp = &tp.tun_if;
    let data = &mut *ap.a_data;
    use core::sync::atomic::Ordering::Relaxed;

    match ap.a_cmd {
        TUNSIFINFO => {
            let tunp = TunInfo::from_bytes(data)?;
            if u32::from(tunp.mtu) < IF_MINMTU {
                return Err(EINVAL);
            }
            ifp.if_mtu.store(u64::from(tunp.mtu), Relaxed);
            ifp.if_type.store(tunp.type_, Relaxed);
            // int → u_long: sign-extended, as in the C.
            ifp.if_baudrate.store(tunp.baudrate as i64 as u64, Relaxed);
        }
        TUNGIFINFO => {
            let tunp = TunInfo {
                mtu: ifp.if_mtu.load(Relaxed) as u16,
                type_: ifp.if_type.load(Relaxed),
                baudrate: ifp.if_baudrate.load(Relaxed) as i32,
                dummy: 0,
            };
            tunp.to_bytes(data)?;
        }
        TUNSDEBUG => tp.tundebug.set(data_i32(data)?),
        TUNGDEBUG => set_data_i32(data, tp.tundebug.get())?,
        TUNSLMODE => {
            let on = data_i32(data)? != 0;
            let mut g = ifnet_serialize_all(ifp);
            if on {
                g.sc.tun_flags.insert(TunFlags::TUN_LMODE);
                g.sc.tun_flags.remove(TunFlags::TUN_IFHEAD);
            } else {
                g.sc.tun_flags.remove(TunFlags::TUN_LMODE);
            }
        }
        TUNSIFHEAD => {
            let on = data_i32(data)? != 0;
            let mut g = ifnet_serialize_all(ifp);
            if on {
                g.sc.tun_flags.insert(TunFlags::TUN_IFHEAD);
                g.sc.tun_flags.remove(TunFlags::TUN_LMODE);
            } else {
                g.sc.tun_flags.remove(TunFlags::TUN_IFHEAD);
            }
        }
        TUNGIFHEAD => {
            let on = ifnet_serialize_all(ifp)
                .sc
                .tun_flags
                .contains(TunFlags::TUN_IFHEAD);
            set_data_i32(data, i32::from(on))?;
        }
        TUNSIFMODE => {
            // Deny this if UP.
            if ifp.if_flags.get().contains(IfFlags::IFF_UP) {
                return Err(EBUSY);
            }
            let mode = data_i32(data)?;
            let req = IfFlags::from_bits_retain(mode as u32) - IfFlags::IFF_MULTICAST;
            if req == IfFlags::IFF_POINTOPOINT || req == IfFlags::IFF_BROADCAST {
                ifp.if_flags
                    .remove(IfFlags::IFF_BROADCAST | IfFlags::IFF_POINTOPOINT);
                ifp.if_flags.insert(IfFlags::from_bits_retain(mode as u32));
            } else {
                return Err(EINVAL);
            }
        }
        TUNSIFPID => {
            ifnet_serialize_all(ifp).sc.tun_pid = curproc().map_or(0, |p| p.p_pid);
        }
        FIOASYNC => {
            let on = data_i32(data)? != 0;
            let mut g = ifnet_serialize_all(ifp);
            if on {
                g.sc.tun_flags.insert(TunFlags::TUN_ASYNC);
            } else {
                g.sc.tun_flags.remove(TunFlags::TUN_ASYNC);
            }
        }
        FIONREAD => {
            let g = ifnet_serialize_all(ifp);
            // The bytes of the first packet (the sum of m_len over its chain).
            let n = if !ifq_is_empty(&g.if_snd) {
                ifq_poll(&g.if_snd).map_or(0, |mb| mb.iter().map(|m| m.len()).sum::<usize>())
            } else {
                0
            };
            drop(g);
            set_data_i32(data, n as i32)?;
        }
        FIOSETOWN => return fsetown(data_i32(data)?, &tp.tun_sigio),
        FIOGETOWN => {
            set_data_i32(data, fgetown(&tp.tun_sigio))?;
            return Ok(());
        }
        // Deprecated: FIOSETOWN should be used instead.
        TIOCSPGRP => return fsetown(data_i32(data)?.wrapping_neg(), &tp.tun_sigio),
        // Deprecated: FIOGETOWN should be used instead.
        TIOCGPGRP => {
            set_data_i32(data, fgetown(&tp.tun_sigio).wrapping_neg())?;
            return Ok(());
        }
        _ => return Err(ENOTTY),
    }
    Ok(())
}

/// Port of `tunread()` (if_tun.c:529–575): reads one packet, or as much of it as fits
/// (the rest is dropped). Sleeps for a packet unless `IO_NDELAY`.
///
/// The C releases the serializer (line 555) and then calls `tsleep` (556), leaving a window in which
/// `tunoutput` can queue a packet and call `wakeup` before the reader sleeps; the reader
/// then sleeps with a packet queued. Here the guard is handed to `tsleep`, which releases
/// it only once the reader is on the sleep queue.
pub fn tunread(ap: &mut DevReadArgs<'_, '_>) -> Result {
    let tp = softc(ap.a_dev)?;
    let ifp = &tp.tun_if;
    let uio = &mut *ap.a_uio;
    let mut error = Ok(());

    tundebug!(tp, "read\n");
    let mut g = ifnet_serialize_all(ifp);
    if !g.sc.tun_flags.contains(TunFlags::TUN_READY) {
        let flags = g.sc.tun_flags.bits();
        drop(g);
        tundebug!(tp, "not ready 0{:o}\n", flags);
        return Err(EHOSTDOWN);
    }

    g.sc.tun_flags.remove(TunFlags::TUN_RWAIT);

    let mut m0 = loop {
        if let Some(m) = ifq_dequeue(&mut g.if_snd) {
            break Some(m);
        }
        if ap.a_ioflag & IO_NDELAY != 0 {
            return Err(EWOULDBLOCK);
        }
        g.sc.tun_flags.insert(TunFlags::TUN_RWAIT);
        tsleep(&*tp, PCATCH, "tunread", 0, g)?;
        g = ifnet_serialize_all(ifp);
    };
    drop(g);

    while let Some(mut m) = m0.take() {
        if uio.resid() == 0 || error.is_err() {
            m0 = Some(m);
            break;
        }
        let len = uio.resid().min(m.len());
        if len != 0 {
            error = uiomove(&mut m.data_mut()[..len], uio);
        }
        m0 = m_free(m);
    }

    if let Some(m) = m0 {
        tundebug!(tp, "Dropping mbuf\n");
        m_freem(m);
    }
    error
}

/// Port of `tunwrite()` (if_tun.c:580–701): an atomic write is a packet. Copies it into
/// an mbuf chain (a header mbuf of `MHLEN`, then `MLEN`-sized mbufs), taps bpf, strips the
/// `TUNSIFHEAD` family word if any, and hands the packet to the protocol's netisr.
#[cfg_attr(
    not(any(
        feature = "inet",
        feature = "inet6",
        feature = "ipx",
        feature = "netatalk"
    )),
    allow(unreachable_code, unused_variables)
)]
pub fn tunwrite(ap: &mut DevWriteArgs<'_, '_>) -> Result {
    let tp = softc(ap.a_dev)?;
    let ifp = &tp.tun_if;
    let uio = &mut *ap.a_uio;
    let mut error = Ok(());
    let tun_flags = ifnet_serialize_all(ifp).sc.tun_flags;

    tundebug!(tp, "tunwrite\n");

    if uio.resid() == 0 {
        return Ok(());
    }

    if uio.resid() > TUNMRU {
        tundebug!(tp, "len={}!\n", uio.resid());
        return Err(EIO);
    }
    let tlen = uio.resid();

    // Get a header mbuf.
    let Some(first) = m_gethdr(MB_DONTWAIT, MT_DATA) else {
        return Err(ENOBUFS);
    };
    let mut m = Some(first);
    let mut mlen = MHLEN;

    let mut top: Option<MbufBox> = None;
    let mut mp = &mut top;
    while error.is_ok() && uio.resid() > 0 {
        let Some(mut cur) = m.take() else { break };
        let n = mlen.min(uio.resid());
        error = cur.set_len(n).and_then(|()| uiomove(cur.data_mut(), uio));
        mp = mp.insert(cur).next_slot();
        if uio.resid() > 0 {
            match m_get(MB_DONTWAIT, MT_DATA) {
                Some(x) => m = Some(x),
                None => {
                    error = Err(ENOBUFS);
                    break;
                }
            }
            mlen = MLEN;
        }
    }
    // An mbuf allocated for a copy that then failed is freed here (the C leaks it).
    drop(m);
    let mut top = match (error, top) {
        (Ok(()), Some(top)) => top,
        (Err(e), top) => {
            drop(top);
            ifp.if_ierrors.inc();
            return Err(e);
        }
        // resid > 0 was checked: the loop ran at least once.
        (Ok(()), None) => return Err(ENOBUFS),
    };

    if let Some(h) = top.pkthdr_mut() {
        h.len = tlen;
        h.rcvif = Some(ifp.if_index());
    }

    if let Some(bp) = ifp.if_bpf() {
        if tun_flags.contains(TunFlags::TUN_IFHEAD) {
            // Conveniently, we already have a 4-byte address family prepended to our
            // packet! Inconveniently, it's in the wrong byte order!
            top = m_pullup(top, core::mem::size_of::<u32>()).ok_or(ENOBUFS)?;
            let family = top.read_u32_ne().ok_or(ENOBUFS)?;
            top.write_u32_ne(u32::from_be(family))?;
            bpf_mtap(&bp, &top);
            top.write_u32_ne(family)?;
        } else {
            // We need to prepend the address family as a four byte field.
            let af = u32::from(AF_INET);
            bpf_ptap(&bp, &top, &af.to_ne_bytes());
        }
    }

    let family = if tun_flags.contains(TunFlags::TUN_IFHEAD) {
        if top.len() < core::mem::size_of::<u32>() {
            top = m_pullup(top, core::mem::size_of::<u32>()).ok_or(ENOBUFS)?;
        }
        let family = u32::from_be(top.read_u32_ne().ok_or(ENOBUFS)?);
        m_adj(&mut top, core::mem::size_of::<u32>() as isize);
        family
    } else {
        u32::from(AF_INET)
    };

    ifp.if_ibytes.add(top.pkthdr().map_or(0, |h| h.len) as u64);
    ifp.if_ipackets.inc();

    let isr = match family {
        #[cfg(feature = "inet")]
        f if f == u32::from(AF_INET) => NETISR_IP,
        #[cfg(feature = "inet6")]
        f if f == u32::from(AF_INET6) => NETISR_IPV6,
        #[cfg(feature = "ipx")]
        f if f == u32::from(AF_IPX) => NETISR_IPX,
        #[cfg(feature = "netatalk")]
        f if f == u32::from(AF_APPLETALK) => NETISR_ATALK2,
        _ => {
            // The C frees `m`, the last mbuf, leaking the rest of a longer chain
            // (DF-0588); the whole packet is freed here.
            m_freem(top);
            return Err(EAFNOSUPPORT);
        }
    };

    // The protocol owns the packet from here; the C ignores the result.
    let _ = netisr_queue(isr, top);
    Ok(())
}

/// `tun_read_filtops` (if_tun.c:703–704).
static TUN_READ_FILTOPS: FilterOps = FilterOps {
    f_flags: FILTEROP_ISFD,
    f_attach: None,
    f_detach: tun_filter_detach,
    f_event: tun_filter_read,
};

/// `tun_write_filtops` (if_tun.c:705–706).
static TUN_WRITE_FILTOPS: FilterOps = FilterOps {
    f_flags: FILTEROP_ISFD,
    f_attach: None,
    f_detach: tun_filter_detach,
    f_event: tun_filter_write,
};

/// Port of `tunkqfilter()` (if_tun.c:708–739): attaches read and write knotes (both on
/// `tun_rkq`); any other filter is refused with `a_result = EOPNOTSUPP`.
pub fn tunkqfilter(ap: &mut DevKqfilterArgs<'_>) -> Result {
    let tp = softc(ap.a_dev)?;
    let kn: &Arc<Knote> = ap.a_kn;

    ap.a_result = 0;
    let g = ifnet_serialize_all(&tp.tun_if);

    match kn.kn_filter() {
        EVFILT_READ => {
            kn.set_fop(&TUN_READ_FILTOPS);
            kn.set_hook(tp.clone());
        }
        EVFILT_WRITE => {
            kn.set_fop(&TUN_WRITE_FILTOPS);
            kn.set_hook(tp.clone());
        }
        _ => {
            drop(g);
            ap.a_result = EOPNOTSUPP.to_errno();
            return Ok(());
        }
    }

    knote_insert(&tp.tun_rkq, kn);
    drop(g);
    Ok(())
}

/// Port of `tun_filter_detach()` (if_tun.c:741–748).
pub fn tun_filter_detach(kn: &Knote) {
    if let Some(tp) = kn.hook::<TunSoftc>() {
        knote_remove(&tp.tun_rkq, kn);
    }
}

/// Port of `tun_filter_write()` (if_tun.c:750–755): always ready for a write.
pub fn tun_filter_write(_kn: &Knote, _hint: i64) -> bool {
    true
}

/// Port of `tun_filter_read()` (if_tun.c:757–769): ready when a packet is queued.
pub fn tun_filter_read(kn: &Knote, _hint: i64) -> bool {
    let Some(tp) = kn.hook::<TunSoftc>() else {
        return false;
    };
    let g = ifnet_serialize_all(&tp.tun_if);
    !ifq_is_empty(&g.if_snd)
}

/// Port of `tunstart()` (if_tun.c:777–798): with an ALTQ discipline enabled, `if_start`
/// must notify readers when packets become ready; otherwise it does nothing.
pub fn tunstart(ifp: &Ifnet<TunSoftc>, g: &mut SerializeGuard<'_, TunSoftc>) {
    let Some(tp) = ifp.if_softc() else { return };

    if !ifq_is_enabled(&g.if_snd) {
        return;
    }

    if ifq_poll(&g.if_snd).is_some() {
        if g.sc.tun_flags.contains(TunFlags::TUN_RWAIT) {
            g.sc.tun_flags.remove(TunFlags::TUN_RWAIT);
            wakeup(&*tp);
        }
        if g.sc.tun_flags.contains(TunFlags::TUN_ASYNC) && tp.tun_sigio.get().is_some() {
            pgsigio(&tp.tun_sigio, SIGIO, 0);
        }
        g.deserialized(|| knote(&tp.tun_rkq, 0));
    }
}

/// Teardown at unload (not in the C, whose module cannot be unloaded; FreeBSD's
/// `tunmodevent(MOD_UNLOAD)` and `tun_destroy` do the same): for every unit, takes the
/// softc out of its node, purges its queue, detaches the interface (which drops the
/// interface's reference to the softc, breaking the cycle) and destroys the node.
pub fn tununload(ops: &Arc<TunOps>) {
    dev_ops_foreach(ops, &mut |dev| {
        if let Some(tp) = dev.take_si_drv1::<TunSoftc>() {
            {
                let mut g = ifnet_serialize_all(&tp.tun_if);
                ifq_purge(&mut g.if_snd);
            }
            funsetown(&tp.tun_sigio);
            if_detach(&tp.tun_if);
        }
        destroy_dev(dev);
    });
}
