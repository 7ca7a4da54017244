// SPDX-License-Identifier: BSD-2-Clause
//! The host stack: a smoltcp [`Interface`] (`Medium::Ip`) attached to a tun interface as
//! the kernel's IP stack.
//!
//! Packets the driver hands to netisr (`NETISR_IP`) go into smoltcp through a netisr
//! handler; what smoltcp transmits goes out through the interface's `if_output` (the
//! driver's `tunoutput`) with the packet's destination as the `sockaddr_in`. The interface
//! address and its point-to-point destination are read back from the interface's address
//! list (set with `SIOCSIFADDR`/`SIOCSIFDSTADDR` through the generic `ifioctl` layer).
//!
//! [`IpStack`] is a smoltcp interface over an in-memory [`QueueDevice`]; the same type is
//! the remote peer of [`crate::net::peer::Tunnel`]. [`KernelHost`] is the kernel with the
//! driver loaded, `tun0` configured and an [`IpStack`] bound to it.

use kmock::sync::Arc;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Instant as StdInstant;

use if_tun::{TunModule, TunSoftc};
use kmock::bsd::ifnet::{ifioctl, IfIoctlArg, IfnetDyn};
use kmock::bsd::ioccom::{SIOCSIFADDR, SIOCSIFDSTADDR};
use kmock::bsd::netisr::NETISR_IP;
use kmock::bsd::socket::SockAddr;
use kmock::module::LoadedModule;
use kmock::Kernel;
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};

/// The pid the host stack runs as (the kernel's network threads).
pub const HOST_PID: i32 = 1;
/// The pid of the process that opens `/dev/tun0` (the "VPN daemon").
pub const DAEMON_PID: i32 = 100;

/// What wakes the pump: a packet for the host stack or one read from the device.
#[derive(Debug)]
pub enum Msg {
    /// A packet the driver handed to netisr (`NETISR_IP`): input for the host stack.
    Netisr(Vec<u8>),
    /// A frame the user side read from `/dev/tunN` (framing still on).
    Dev(Vec<u8>),
    /// The reader thread stopped, with the reason.
    ReaderDone(String),
}

/// An in-memory smoltcp device: received packets wait in `rx`, transmitted ones collect
/// in `tx`; at most `tx_room` may be pending in `tx` (backpressure from the send queue).
#[derive(Debug)]
pub struct QueueDevice {
    /// Packets waiting to be received by the stack.
    pub rx: VecDeque<Vec<u8>>,
    /// Packets the stack transmitted, not yet sent on.
    pub tx: Vec<Vec<u8>>,
    /// How many packets may be pending in `tx`.
    pub tx_room: usize,
    mtu: usize,
}

impl QueueDevice {
    /// An empty device with the given MTU and unlimited room.
    pub fn new(mtu: usize) -> Self {
        QueueDevice {
            rx: VecDeque::new(),
            tx: Vec::new(),
            tx_room: usize::MAX,
            mtu,
        }
    }
}

/// Receive token of a [`QueueDevice`].
pub struct QRx(Vec<u8>);
/// Transmit token of a [`QueueDevice`].
pub struct QTx<'a>(&'a mut Vec<Vec<u8>>);

impl RxToken for QRx {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(&self.0)
    }
}

impl TxToken for QTx<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut b = vec![0u8; len];
        let r = f(&mut b);
        self.0.push(b);
        r
    }
}

impl Device for QueueDevice {
    type RxToken<'a> = QRx;
    type TxToken<'a> = QTx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(QRx, QTx<'_>)> {
        if self.tx.len() >= self.tx_room {
            return None;
        }
        let p = self.rx.pop_front()?;
        Some((QRx(p), QTx(&mut self.tx)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<QTx<'_>> {
        (self.tx.len() < self.tx_room).then_some(QTx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = self.mtu;
        c
    }
}

/// A smoltcp IPv4 stack on a [`QueueDevice`]: one address, a default route.
pub struct IpStack {
    /// The smoltcp interface.
    pub iface: Interface,
    /// Its sockets.
    pub sockets: SocketSet<'static>,
    /// The device it sends and receives on.
    pub dev: QueueDevice,
    /// Its address.
    pub addr: Ipv4Address,
}

/// An IPv4 address from four bytes.
pub fn v4(a: [u8; 4]) -> Ipv4Address {
    Ipv4Address::new(a[0], a[1], a[2], a[3])
}

impl IpStack {
    /// A stack with address `addr` whose default route is `gw` (the other end).
    pub fn new(addr: [u8; 4], gw: [u8; 4], mtu: usize, now: Instant, seed: u64) -> Self {
        let mut dev = QueueDevice::new(mtu);
        let mut cfg = Config::new(HardwareAddress::Ip);
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut dev, now);
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(v4(addr)), 32));
        });
        let _ = iface.routes_mut().add_default_ipv4_route(v4(gw));
        IpStack {
            iface,
            sockets: SocketSet::new(Vec::new()),
            dev,
            addr: v4(addr),
        }
    }

    /// Runs the stack once; returns whether it consumed or produced packets.
    pub fn poll(&mut self, now: Instant) -> bool {
        let (rx0, tx0) = (self.dev.rx.len(), self.dev.tx.len());
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
        self.dev.rx.len() != rx0 || self.dev.tx.len() != tx0
    }

    /// How long until the stack wants to be polled again.
    pub fn delay(&mut self, now: Instant) -> Option<std::time::Duration> {
        self.iface
            .poll_delay(now, &self.sockets)
            .map(|d| std::time::Duration::from_micros(d.total_micros()))
    }
}

/// Addresses of a point-to-point tun interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunAddrs {
    /// The local address (`SIOCSIFADDR`).
    pub local: [u8; 4],
    /// The destination (`SIOCSIFDSTADDR`).
    pub dst: [u8; 4],
}

impl Default for TunAddrs {
    fn default() -> Self {
        TunAddrs {
            local: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
        }
    }
}

/// Formats an IPv4 address.
pub fn fmt_ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// The kernel with the tun driver loaded and `tun0`'s host side: a smoltcp stack fed
/// from netisr and sending through `if_output`.
pub struct KernelHost {
    /// The kernel.
    pub k: Kernel,
    module: Option<LoadedModule<TunModule>>,
    /// `tun0`.
    pub ifp: Arc<dyn IfnetDyn>,
    /// The host IP stack.
    pub stack: IpStack,
    /// The addresses read back from the interface.
    pub addrs: TunAddrs,
    /// Where netisr deliveries (and the reader thread) report.
    pub tx: mpsc::Sender<Msg>,
    /// The pump's inbox.
    pub rx: mpsc::Receiver<Msg>,
    /// Packets sent through `if_output`, and their bytes.
    pub out_packets: u64,
    /// Bytes sent through `if_output`.
    pub out_bytes: u64,
    /// Packets `if_output` refused.
    pub out_errors: u64,
    /// Packets received from netisr.
    pub in_packets: u64,
    /// Bytes received from netisr.
    pub in_bytes: u64,
    /// When `record` is set, every packet handed to `if_output`, in order.
    pub sent_log: Option<Vec<Vec<u8>>>,
    base: StdInstant,
}

/// The process-wide context for smoltcp timestamps.
pub fn smol_now(base: StdInstant) -> Instant {
    Instant::from_micros(base.elapsed().as_micros() as i64)
}

impl KernelHost {
    /// Boots a kernel, loads the driver, creates the host and daemon processes and
    /// registers the netisr handler. `tun0` does not exist until the device is opened
    /// (call [`KernelHost::configure`] after opening it).
    pub fn boot(record_events: bool) -> Result<(Kernel, LoadedModule<TunModule>), String> {
        let k = Kernel::new();
        k.record_events(record_events);
        k.proc_set(HOST_PID, HOST_PID, 1, 0)
            .map_err(|e| format!("proc_set: {e:?}"))?;
        k.proc_set(DAEMON_PID, DAEMON_PID, DAEMON_PID, 0)
            .map_err(|e| format!("proc_set: {e:?}"))?;
        let module =
            kmock::module::load::<TunModule>(&k).map_err(|e| format!("load if_tun: {e:?}"))?;
        Ok((k, module))
    }

    /// Configures `tun0` with `addrs` (`SIOCSIFADDR`, `SIOCSIFDSTADDR` as root), reads the
    /// addresses back and attaches a smoltcp stack as its IP stack.
    pub fn configure(
        k: Kernel,
        module: LoadedModule<TunModule>,
        addrs: TunAddrs,
        base: StdInstant,
    ) -> Result<KernelHost, String> {
        let _ctx = k.enter(HOST_PID);
        let ifp = k.ifunit("tun0").ok_or("no interface tun0")?;
        let cred = k.proc_cred(HOST_PID).ok_or("no host credentials")?;
        ifioctl(&*ifp, SIOCSIFADDR, IfIoctlArg::Inet(addrs.local), &cred)
            .map_err(|e| format!("SIOCSIFADDR: {e:?}"))?;
        ifioctl(&*ifp, SIOCSIFDSTADDR, IfIoctlArg::Inet(addrs.dst), &cred)
            .map_err(|e| format!("SIOCSIFDSTADDR: {e:?}"))?;
        let ia = ifp
            .addrs()
            .into_iter()
            .find_map(|a| Some((a.addr?.inet_addr()?, a.dstaddr?.inet_addr()?)))
            .ok_or("tun0 has no inet address with a destination")?;
        let read_back = TunAddrs {
            local: ia.0,
            dst: ia.1,
        };
        let mtu = ifp.mtu() as usize;
        let stack = IpStack::new(read_back.local, read_back.dst, mtu, smol_now(base), 1);
        let (tx, rx) = mpsc::channel();
        let h = tx.clone();
        k.netisr()
            .set_handler(NETISR_IP, move |m: kmock::bsd::mbuf::MbufBox| {
                let _ = h.send(Msg::Netisr(m.to_vec()));
            });
        Ok(KernelHost {
            k: k.clone(),
            module: Some(module),
            ifp,
            stack,
            addrs: read_back,
            tx,
            rx,
            out_packets: 0,
            out_bytes: 0,
            out_errors: 0,
            in_packets: 0,
            in_bytes: 0,
            sent_log: None,
            base,
        })
    }

    /// smoltcp's clock.
    pub fn now(&self) -> Instant {
        smol_now(self.base)
    }

    /// The clock's origin.
    pub fn base(&self) -> StdInstant {
        self.base
    }

    /// tun0's softc.
    pub fn softc(&self) -> Option<Arc<TunSoftc>> {
        self.k.devfs().lookup("tun0")?.si_drv1::<TunSoftc>()
    }

    /// Hands a netisr packet to the stack.
    pub fn input(&mut self, pkt: Vec<u8>) {
        self.in_packets += 1;
        self.in_bytes += pkt.len() as u64;
        self.stack.dev.rx.push_back(pkt);
    }

    /// Polls the host stack with room for what the send queue can still take, then sends
    /// what it produced through `if_output`. Returns whether anything moved.
    pub fn poll(&mut self) -> bool {
        let (len, max) = {
            let mut r = (0, 0);
            self.ifp.with_snd(&mut |q| r = (q.len(), q.maxlen()));
            r
        };
        self.stack.dev.tx_room = max.saturating_sub(len).max(1);
        let now = self.now();
        let moved = self.stack.poll(now);
        let out = std::mem::take(&mut self.stack.dev.tx);
        for pkt in out {
            self.output(&pkt);
        }
        moved
    }

    /// `if_output(ifp, m, dst)` for one IPv4 packet, `dst` its destination address.
    pub fn output(&mut self, pkt: &[u8]) {
        let _ctx = self.k.enter(HOST_PID);
        let dst = match pkt.get(16..20) {
            Some(d) => [d[0], d[1], d[2], d[3]],
            None => self.addrs.dst,
        };
        if let Some(log) = &mut self.sent_log {
            log.push(pkt.to_vec());
        }
        let m = match self.k.mbufs().packet_from(pkt, 0, None) {
            Ok(m) => m,
            Err(_) => {
                self.out_errors += 1;
                return;
            }
        };
        match self.ifp.output(m, &mut SockAddr::inet(dst)) {
            Ok(()) => {
                self.out_packets += 1;
                self.out_bytes += pkt.len() as u64;
            }
            Err(_) => self.out_errors += 1,
        }
    }

    /// Removes the netisr handler, drains netisr and unloads the driver; returns the mbufs
    /// still live afterwards (0 unless something leaked).
    pub fn shutdown(mut self) -> usize {
        let _ctx = self.k.enter(HOST_PID);
        self.k.netisr().clear_handler(NETISR_IP);
        drop(self.k.netisr().drain_all());
        self.stack.dev.rx.clear();
        let live = self.k.mbufs().live();
        drop(self.module.take());
        live
    }
}
