// SPDX-License-Identifier: BSD-2-Clause
//! The user side: the process that opens `/dev/tun0` (the "VPN daemon"), with a second
//! smoltcp stack as the remote end of the tunnel.
//!
//! A real thread blocks in `read(2)` (the driver's `tunread`) and forwards each frame to
//! the pump; the pump writes the peer's packets with `write(2)` (`tunwrite`). Three
//! framings are supported: plain IPv4, `TUNSLMODE` (reads carry the destination
//! `sockaddr_in`, 16 bytes) and `TUNSIFHEAD` (a 4-byte big-endian address family both
//! ways).
//!
//! [`Tunnel`] puts it together: kernel, driver, host stack ([`KernelHost`]), descriptor,
//! reader thread and peer stack, and runs pings and TCP transfers across the driver.

use crate::scenario::status::SoftcStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use if_tun::abi::{TUNMRU, TUNSIFHEAD, TUNSLMODE};
use kmock::bsd::devfs::File;
use kmock::Kernel;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::socket::{icmp, tcp};
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpAddress, IpEndpoint};

use crate::net::pcap::PcapCapture;
use crate::net::stack::{IpStack, KernelHost, Msg, TunAddrs, DAEMON_PID};

/// `AF_INET`.
pub const AF_INET: u32 = 2;
/// Length of the `sockaddr_in` that `TUNSLMODE` reads start with.
pub const LMODE_HDR: usize = 16;

/// How packets are framed on `/dev/tun0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Bare IPv4 packets.
    Plain,
    /// `TUNSLMODE`: reads start with the destination `sockaddr_in`.
    Lmode,
    /// `TUNSIFHEAD`: a 4-byte big-endian address family both ways.
    Ifhead,
}

impl Framing {
    /// The three framings.
    pub const ALL: [Framing; 3] = [Framing::Plain, Framing::Lmode, Framing::Ifhead];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Framing::Plain => "plain",
            Framing::Lmode => "LMODE",
            Framing::Ifhead => "IFHEAD",
        }
    }

    /// Strips the framing of a frame read from the device; checks the header.
    pub fn unframe(self, frame: &[u8]) -> Result<&[u8], String> {
        match self {
            Framing::Plain => Ok(frame),
            Framing::Lmode => {
                let h = frame.get(..LMODE_HDR).ok_or("LMODE frame too short")?;
                if h[0] as usize != LMODE_HDR || u32::from(h[1]) != AF_INET {
                    return Err(format!("bad LMODE sockaddr {h:02x?}"));
                }
                Ok(&frame[LMODE_HDR..])
            }
            Framing::Ifhead => {
                let h = frame.get(..4).ok_or("IFHEAD frame too short")?;
                let af = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                if af != AF_INET {
                    return Err(format!("IFHEAD family {af}, expected {AF_INET}"));
                }
                Ok(&frame[4..])
            }
        }
    }

    /// Frames an IPv4 packet for writing to the device.
    pub fn frame(self, pkt: &[u8]) -> Vec<u8> {
        match self {
            Framing::Plain | Framing::Lmode => pkt.to_vec(),
            Framing::Ifhead => {
                let mut v = Vec::with_capacity(pkt.len() + 4);
                v.extend_from_slice(&AF_INET.to_be_bytes());
                v.extend_from_slice(pkt);
                v
            }
        }
    }
}

/// The open descriptor and its reader thread.
pub struct UserSide {
    /// The descriptor on `/dev/tun0`.
    pub fd: Arc<File>,
    /// The framing set on it.
    pub framing: Framing,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    k: Kernel,
}

impl UserSide {
    /// Opens `/dev/tun0` as the daemon and sets the framing.
    pub fn open(k: &Kernel, framing: Framing) -> Result<Arc<File>, String> {
        let _ctx = k.enter(DAEMON_PID);
        let fd = k
            .dev_open("tun0", DAEMON_PID)
            .map_err(|e| format!("open /dev/tun0: {e:?}"))?;
        match framing {
            Framing::Plain => {}
            Framing::Lmode => fd
                .ioctl(TUNSLMODE, &mut 1i32.to_ne_bytes())
                .map_err(|e| format!("TUNSLMODE: {e:?}"))?,
            Framing::Ifhead => fd
                .ioctl(TUNSIFHEAD, &mut 1i32.to_ne_bytes())
                .map_err(|e| format!("TUNSIFHEAD: {e:?}"))?,
        }
        Ok(Arc::new(fd))
    }

    /// The descriptor without a reader thread: the pump reads it itself, without
    /// blocking ([`Daemon::Polling`]).
    pub fn polled(k: &Kernel, fd: Arc<File>, framing: Framing) -> Self {
        UserSide {
            fd,
            framing,
            stop: Arc::new(AtomicBool::new(false)),
            reader: None,
            k: k.clone(),
        }
    }

    /// Starts the reader thread: each frame read goes to `tx` as [`Msg::Dev`].
    pub fn start(k: &Kernel, fd: Arc<File>, framing: Framing, tx: mpsc::Sender<Msg>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (k2, fd2, stop2) = (k.clone(), fd.clone(), stop.clone());
        let reader = std::thread::Builder::new()
            .name("tun0-reader".into())
            .spawn(move || {
                let _ctx = k2.enter(DAEMON_PID);
                let mut buf = vec![0u8; TUNMRU + LMODE_HDR + 4];
                let why = loop {
                    if stop2.load(Ordering::SeqCst) {
                        break "stopped".to_string();
                    }
                    match fd2.read(&mut buf, false) {
                        Ok(n) => {
                            if tx.send(Msg::Dev(buf[..n].to_vec())).is_err() {
                                break "pump gone".to_string();
                            }
                        }
                        Err(e) => {
                            if stop2.load(Ordering::SeqCst) {
                                break "stopped".to_string();
                            }
                            break format!("read: {e:?}");
                        }
                    }
                };
                let _ = tx.send(Msg::ReaderDone(why));
            })
            .expect("spawn the reader thread");
        UserSide {
            fd,
            framing,
            stop,
            reader: Some(reader),
            k: k.clone(),
        }
    }

    /// Writes one IPv4 packet, framed.
    pub fn write(&self, pkt: &[u8]) -> Result<usize, String> {
        self.fd
            .write(&self.framing.frame(pkt))
            .map_err(|e| format!("write: {e:?}"))
    }

    /// Stops the reader (a signal interrupts its `tsleep`) and closes the descriptor.
    pub fn close(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.k.post_signal(DAEMON_PID, false);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.k.clear_signal(DAEMON_PID);
        let _ctx = self.k.enter(DAEMON_PID);
        let _ = self.fd.close();
    }
}

/// How a tunnel is set up.
#[derive(Clone, Debug)]
pub struct TunnelConfig {
    /// The framing on the descriptor.
    pub framing: Framing,
    /// tun0's addresses.
    pub addrs: TunAddrs,
    /// Record kmock events from boot on.
    pub record_events: bool,
    /// Attach a pcap capture to tun0's bpf.
    pub capture: bool,
    /// How the daemon reads `/dev/tun0`.
    pub daemon: Daemon,
}

/// How the daemon behind `/dev/tun0` reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Daemon {
    /// A reader thread in a blocking `read(2)`, woken by `tunoutput` (a VPN daemon with a
    /// thread per direction); its frames reach the pump through a channel.
    #[default]
    Thread,
    /// The pump itself reads with `IO_NDELAY` until `EWOULDBLOCK` each time the stacks
    /// have run (a single-threaded daemon polling its descriptor): no thread, no wakeup.
    Polling,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        TunnelConfig {
            framing: Framing::Plain,
            addrs: TunAddrs::default(),
            record_events: false,
            capture: false,
            daemon: Daemon::Thread,
        }
    }
}

/// Which way a TCP transfer goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the host stack (tun0's address) to the peer: the data crosses `tunoutput`
    /// and `tunread`.
    HostToPeer,
    /// From the peer to the host: the data crosses `tunwrite` and netisr.
    PeerToHost,
}

/// The result of a TCP transfer.
#[derive(Clone, Debug)]
pub struct Transfer {
    /// The bytes received, in order.
    pub received: Vec<u8>,
    /// From connect to the receiver seeing FIN.
    pub elapsed: Duration,
    /// TCP segments that crossed the driver during the transfer (both directions).
    pub segments: u64,
    /// Segments sent again, in order (none when nothing was dropped).
    pub retransmissions: Vec<Retransmission>,
}

impl Transfer {
    /// The retransmissions that came after a retransmission timeout.
    pub fn timeouts(&self) -> impl Iterator<Item = &Retransmission> {
        self.retransmissions.iter().filter(|r| r.after_timeout())
    }
}

/// A silence this long before a retransmitted segment means its sender waited out a
/// retransmission timeout: smoltcp's RTO is at least 1 s (`RTTE_MIN_RTO`), while a fast
/// retransmit follows the third duplicate ACK at once (microseconds here).
pub const RTO_GAP: Duration = Duration::from_millis(500);

/// A TCP segment whose sequence number went back over bytes already seen going the same
/// way: the sender sent them again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retransmission {
    /// Sent by the host stack (read from the device); else by the peer (written to it).
    pub from_host: bool,
    /// Its sequence number.
    pub seq: u32,
    /// Its length in sequence space (data, plus SYN and FIN).
    pub len: u32,
    /// How far back it went: the highest sequence number seen before it, minus `seq`.
    pub back: u32,
    /// How long its direction had been silent before it (no segment at all).
    pub gap: Duration,
}

impl Retransmission {
    /// Whether its sender waited out a retransmission timeout first (a gap of at
    /// least [`RTO_GAP`]).
    pub fn after_timeout(&self) -> bool {
        self.gap >= RTO_GAP
    }
}

impl std::fmt::Display for Retransmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} seq={} len={} ({} back) after {:.1} ms of silence{}",
            if self.from_host {
                "host->peer"
            } else {
                "peer->host"
            },
            self.seq,
            self.len,
            self.back,
            self.gap.as_secs_f64() * 1e3,
            if self.after_timeout() {
                " (retransmission timeout)"
            } else {
                ""
            }
        )
    }
}

/// Watches the TCP segments crossing the driver, both ways, and records each one sent
/// again (its sequence number behind the highest one seen in its direction).
#[derive(Debug, Default)]
pub struct TcpWatch {
    /// Per direction of each connection (addresses and ports): the next sequence number
    /// after the highest seen, and when the last segment went that way.
    flows: Vec<([u8; 12], u32, Instant)>,
    /// TCP segments seen.
    pub segments: u64,
    /// Every retransmitted segment, in order.
    pub retransmissions: Vec<Retransmission>,
}

impl TcpWatch {
    /// Looks at one IPv4 packet (unframed) going through the driver.
    pub fn observe(&mut self, pkt: &[u8], from_host: bool, now: Instant) {
        if pkt.len() < 20 || pkt[0] >> 4 != 4 || pkt[9] != 6 {
            return;
        }
        let ihl = usize::from(pkt[0] & 15) * 4;
        let total = usize::from(u16::from_be_bytes([pkt[2], pkt[3]])).min(pkt.len());
        let Some(tcp) = pkt.get(ihl..total).filter(|t| t.len() >= 20) else {
            return;
        };
        self.segments += 1;
        let doff = usize::from(tcp[12] >> 4) * 4;
        let flags = tcp[13];
        let (syn, fin) = (flags & 2 != 0, flags & 1 != 0);
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        let len = tcp.len().saturating_sub(doff) as u32 + u32::from(syn) + u32::from(fin);
        let mut key = [0u8; 12];
        key[..8].copy_from_slice(&pkt[12..20]);
        key[8..].copy_from_slice(&tcp[..4]);
        let end = seq.wrapping_add(len);
        let i = match self.flows.iter().position(|f| f.0 == key) {
            Some(i) if !syn => i,
            // A SYN starts the connection's sequence space afresh.
            found => {
                if let Some(i) = found {
                    self.flows.swap_remove(i);
                }
                self.flows.push((key, end, now));
                return;
            }
        };
        let (_, next, last) = &mut self.flows[i];
        let behind = next.wrapping_sub(seq) as i32;
        if len > 0 && behind > 0 {
            self.retransmissions.push(Retransmission {
                from_host,
                seq,
                len,
                back: behind as u32,
                gap: now.saturating_duration_since(*last),
            });
        }
        if (end.wrapping_sub(*next) as i32) > 0 {
            *next = end;
        }
        *last = now;
    }
}

/// Counters at the end of a tunnel's life.
#[derive(Clone, Debug, Default)]
pub struct TunnelReport {
    /// Packets the host sent through `if_output`.
    pub host_out_packets: u64,
    /// Their bytes.
    pub host_out_bytes: u64,
    /// Packets the host received from netisr.
    pub host_in_packets: u64,
    /// Their bytes.
    pub host_in_bytes: u64,
    /// Frames the daemon read.
    pub dev_reads: u64,
    /// Frames the daemon wrote.
    pub dev_writes: u64,
    /// Mbufs live after closing and draining (must be 0).
    pub mbufs_live: usize,
}

/// tun0 with a smoltcp host stack on the kernel side and a smoltcp peer behind the
/// descriptor.
pub struct Tunnel {
    /// The kernel side.
    pub host: KernelHost,
    /// The daemon's descriptor and reader.
    pub user: Option<UserSide>,
    /// The remote end.
    pub peer: IpStack,
    /// The pcap capture, if any.
    pub capture: Option<Arc<PcapCapture>>,
    /// Every packet written to the device (unframed), in order, when capturing.
    pub written_log: Option<Vec<Vec<u8>>>,
    /// The TCP segments that crossed the driver, and those sent again.
    pub tcp_watch: TcpWatch,
    dev_reads: u64,
    dev_writes: u64,
    /// The polling daemon's read buffer (`None` with a reader thread).
    poll_buf: Option<Vec<u8>>,
    reader_error: Option<String>,
    icmp: smoltcp::iface::SocketHandle,
    next_port: u16,
    ping_seq: u16,
}

const PING_IDENT: u16 = 0x7475;
const TCP_PORT: u16 = 5001;
/// Each socket's receive buffer, and so the window it advertises: at most 65535 bytes, so
/// that smoltcp's window scale is 0 (it picks the shift from the buffer's size: 256 KiB
/// gave a shift of 3). With a shift of 0 the advertised window is exact, and its right
/// edge (ACK + free space = bytes read + capacity) never moves back. With a shift of `s`
/// smoltcp rounds the free space down to a multiple of `2^s`, so an ACK sent while the
/// buffer holds a number of unread bytes that is not such a multiple moved the right edge
/// back by up to `2^s - 1` bytes; smoltcp then trimmed the bytes the sender had already
/// sent up to the old edge, and the sender waited out its retransmission timeout (1 s,
/// then 3 s), or at best fast-retransmitted. One in ten demo runs stalled so, and most
/// retransmitted something; with 65535 none did in 100 runs per framing
/// (`tests/tcp_stalls.rs`). The window is still far above what the link needs: its
/// round trip is a few microseconds.
const TCP_RX_BUF: usize = 65535;
/// Each socket's send buffer: larger than the peer's window, so the sender always has a
/// full window's worth of data queued. (A receive buffer larger than the sender's send
/// buffer also avoids the shrink in practice, but only the exact window is a proof.)
const TCP_TX_BUF: usize = 256 * 1024;

impl Tunnel {
    /// Boots the kernel, opens `/dev/tun0`, configures it, starts the reader thread.
    pub fn new(cfg: TunnelConfig) -> Result<Tunnel, String> {
        let base = Instant::now();
        let (k, module) = KernelHost::boot(cfg.record_events)?;
        let fd = UserSide::open(&k, cfg.framing)?;
        let mut host = KernelHost::configure(k.clone(), module, cfg.addrs, base)?;
        let capture = if cfg.capture {
            let c = Arc::new(PcapCapture::new());
            if !host.ifp.bpf().attach_listener(c.clone()) {
                return Err("tun0 has no bpf attachment".into());
            }
            host.sent_log = Some(Vec::new());
            Some(c)
        } else {
            None
        };
        let user = match cfg.daemon {
            Daemon::Thread => UserSide::start(&k, fd, cfg.framing, host.tx.clone()),
            Daemon::Polling => UserSide::polled(&k, fd, cfg.framing),
        };
        let poll_buf = (cfg.daemon == Daemon::Polling).then(|| vec![0u8; TUNMRU + LMODE_HDR + 4]);
        let mtu = host.ifp.mtu() as usize;
        let mut peer = IpStack::new(host.addrs.dst, host.addrs.local, mtu, host.now(), 2);
        let mut s = icmp::Socket::new(
            icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 16], vec![0; 4096]),
            icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 16], vec![0; 4096]),
        );
        s.bind(icmp::Endpoint::Ident(PING_IDENT))
            .map_err(|e| format!("icmp bind: {e:?}"))?;
        let icmp = host.stack.sockets.add(s);
        // The peer answers echo requests by itself; it needs no socket for that.
        peer.dev.tx_room = usize::MAX;
        Ok(Tunnel {
            host,
            user: Some(user),
            peer,
            written_log: capture.as_ref().map(|_| Vec::new()),
            capture,
            tcp_watch: TcpWatch::default(),
            dev_reads: 0,
            dev_writes: 0,
            poll_buf,
            reader_error: None,
            icmp,
            next_port: 49152,
            ping_seq: 0,
        })
        .inspect(|t| {
            if t.poll_buf.is_none() {
                t.wait_reader_asleep(Duration::from_secs(2));
            }
        })
    }

    /// Waits (briefly, at start-up) until the reader thread sleeps in `tunread`
    /// (`TUN_RWAIT` set), so that the first packet's trace shows its wakeup.
    pub fn wait_reader_asleep(&self, max: Duration) -> bool {
        let t0 = Instant::now();
        while t0.elapsed() < max {
            match self.host.softc() {
                Some(sc) if sc.status().flags.contains(if_tun::TunFlags::TUN_RWAIT) => return true,
                Some(_) => std::thread::sleep(Duration::from_micros(200)),
                None => return false,
            }
        }
        false
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.host.k
    }

    fn handle(&mut self, m: Msg) -> Result<(), String> {
        match m {
            Msg::Netisr(p) => self.host.input(p),
            Msg::Dev(f) => {
                self.dev_reads += 1;
                let framing = self.user.as_ref().map_or(Framing::Plain, |u| u.framing);
                let p = framing.unframe(&f)?;
                self.tcp_watch.observe(p, true, Instant::now());
                self.peer.dev.rx.push_back(p.to_vec());
            }
            Msg::ReaderDone(why) => {
                self.reader_error = Some(why.clone());
                return Err(format!("reader thread ended: {why}"));
            }
        }
        Ok(())
    }

    /// The polling daemon's turn: reads every queued frame without blocking (nothing with
    /// a reader thread). Returns whether it read any.
    fn read_polled(&mut self) -> Result<bool, String> {
        let (Some(mut buf), Some(u)) = (self.poll_buf.take(), self.user.as_ref()) else {
            return Ok(false);
        };
        let fd = u.fd.clone();
        let mut any = false;
        let r = loop {
            match fd.read(&mut buf, true) {
                Ok(n) => {
                    any = true;
                    if let Err(e) = self.handle(Msg::Dev(buf[..n].to_vec())) {
                        break Err(e);
                    }
                }
                Err(e) if e == kmock::bsd::errno::EWOULDBLOCK => break Ok(any),
                Err(e) => break Err(format!("read: {e:?}")),
            }
        };
        self.poll_buf = Some(buf);
        r
    }

    /// Moves packets until nothing moves: inbox → stacks → driver.
    fn settle(&mut self) -> Result<(), String> {
        loop {
            let mut moved = false;
            while let Ok(m) = self.host.rx.try_recv() {
                self.handle(m)?;
                moved = true;
            }
            moved |= self.host.poll();
            moved |= self.read_polled()?;
            let now = self.host.now();
            moved |= self.peer.poll(now);
            let out = std::mem::take(&mut self.peer.dev.tx);
            if let Some(u) = &self.user {
                for p in out {
                    moved = true;
                    self.tcp_watch.observe(&p, false, Instant::now());
                    if let Some(l) = &mut self.written_log {
                        l.push(p.clone());
                    }
                    u.write(&p)?;
                    self.dev_writes += 1;
                }
            }
            if !moved {
                return Ok(());
            }
        }
    }

    /// Runs both stacks until `done` says so or `timeout` passes. Sleeps on the inbox
    /// (netisr deliveries and frames from the reader thread) or until a stack's timer.
    pub fn pump(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&mut Tunnel) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            self.settle()?;
            if done(self) {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err("timed out".into());
            }
            let snow = self.host.now();
            let mut wait = deadline - now;
            for d in [self.host.stack.delay(snow), self.peer.delay(snow)]
                .into_iter()
                .flatten()
            {
                wait = wait.min(d);
            }
            match self.host.rx.recv_timeout(wait) {
                Ok(m) => self.handle(m)?,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err("inbox closed".into()),
            }
        }
    }

    /// Pings the peer from the host stack `count` times; returns each round-trip time.
    pub fn ping(&mut self, count: u16, timeout: Duration) -> Result<Vec<Duration>, String> {
        let mut rtts = Vec::new();
        let dst = IpAddress::Ipv4(self.peer.addr);
        for _ in 0..count {
            self.ping_seq = self.ping_seq.wrapping_add(1);
            let seq = self.ping_seq;
            let payload: Vec<u8> = (0..56u8).collect();
            let repr = Icmpv4Repr::EchoRequest {
                ident: PING_IDENT,
                seq_no: seq,
                data: &payload,
            };
            let t0 = Instant::now();
            {
                let s = self.host.stack.sockets.get_mut::<icmp::Socket>(self.icmp);
                let buf = s
                    .send(repr.buffer_len(), dst)
                    .map_err(|e| format!("icmp send: {e:?}"))?;
                let mut pkt = Icmpv4Packet::new_unchecked(buf);
                repr.emit(&mut pkt, &ChecksumCapabilities::default());
            }
            let h = self.icmp;
            let mut got = false;
            self.pump(timeout, |t| {
                let s = t.host.stack.sockets.get_mut::<icmp::Socket>(h);
                while let Ok((data, _from)) = s.recv() {
                    if let Ok(p) = Icmpv4Packet::new_checked(data) {
                        if let Ok(Icmpv4Repr::EchoReply {
                            ident,
                            seq_no,
                            data,
                        }) = Icmpv4Repr::parse(&p, &ChecksumCapabilities::default())
                        {
                            if ident == PING_IDENT && seq_no == seq && data == &payload[..] {
                                got = true;
                            }
                        }
                    }
                }
                got
            })
            .map_err(|e| format!("ping seq {seq}: {e}"))?;
            rtts.push(t0.elapsed());
        }
        Ok(rtts)
    }

    /// Sends `data` over a fresh TCP connection in direction `dir`; returns what arrived.
    pub fn tcp_transfer(
        &mut self,
        data: &[u8],
        dir: Direction,
        timeout: Duration,
    ) -> Result<Transfer, String> {
        let new_sock = new_tcp_socket;
        let mut server = new_sock();
        server
            .listen(TCP_PORT)
            .map_err(|e| format!("listen: {e:?}"))?;
        let (srv_addr, cli_is_host) = match dir {
            Direction::HostToPeer => (self.peer.addr, true),
            Direction::PeerToHost => (self.host.stack.addr, false),
        };
        let port = self.next_port;
        self.next_port = self.next_port.wrapping_add(1).max(49152);
        let (srv, cli) = if cli_is_host {
            let srv = self.peer.sockets.add(server);
            let mut c = new_sock();
            c.connect(
                self.host.stack.iface.context(),
                IpEndpoint::new(IpAddress::Ipv4(srv_addr), TCP_PORT),
                port,
            )
            .map_err(|e| format!("connect: {e:?}"))?;
            (srv, self.host.stack.sockets.add(c))
        } else {
            let srv = self.host.stack.sockets.add(server);
            let mut c = new_sock();
            c.connect(
                self.peer.iface.context(),
                IpEndpoint::new(IpAddress::Ipv4(srv_addr), TCP_PORT),
                port,
            )
            .map_err(|e| format!("connect: {e:?}"))?;
            (srv, self.peer.sockets.add(c))
        };
        // The sender is the client; the receiver the server.
        let t0 = Instant::now();
        let (seg0, rtx0) = (
            self.tcp_watch.segments,
            self.tcp_watch.retransmissions.len(),
        );
        let mut sent = 0usize;
        let mut closed = false;
        let mut received = Vec::with_capacity(data.len());
        let r = self.pump(timeout, |t| {
            let (cstack, sstack) = if cli_is_host {
                (&mut t.host.stack.sockets, &mut t.peer.sockets)
            } else {
                (&mut t.peer.sockets, &mut t.host.stack.sockets)
            };
            let c = cstack.get_mut::<tcp::Socket>(cli);
            if c.may_send() {
                if sent < data.len() {
                    if let Ok(n) = c.send_slice(&data[sent..]) {
                        sent += n;
                    }
                }
                if sent == data.len() && !closed {
                    c.close();
                    closed = true;
                }
            }
            let s = sstack.get_mut::<tcp::Socket>(srv);
            while s.can_recv() {
                let _ = s.recv(|b| {
                    received.extend_from_slice(b);
                    (b.len(), ())
                });
            }
            closed && matches!(s.state(), tcp::State::CloseWait | tcp::State::Closed)
        });
        let elapsed = t0.elapsed();
        let segments = self.tcp_watch.segments - seg0;
        let retransmissions = self.tcp_watch.retransmissions[rtx0..].to_vec();
        // Close the receiving end and let the connection wind down briefly.
        {
            let sstack = if cli_is_host {
                &mut self.peer.sockets
            } else {
                &mut self.host.stack.sockets
            };
            sstack.get_mut::<tcp::Socket>(srv).close();
        }
        let _ = self.pump(Duration::from_millis(500), |t| {
            let (cstack, sstack) = if cli_is_host {
                (&mut t.host.stack.sockets, &mut t.peer.sockets)
            } else {
                (&mut t.peer.sockets, &mut t.host.stack.sockets)
            };
            let cs = cstack.get_mut::<tcp::Socket>(cli).state();
            let ss = sstack.get_mut::<tcp::Socket>(srv).state();
            matches!(cs, tcp::State::TimeWait | tcp::State::Closed) && ss == tcp::State::Closed
        });
        if cli_is_host {
            self.host.stack.sockets.remove(cli);
            self.peer.sockets.remove(srv);
        } else {
            self.peer.sockets.remove(cli);
            self.host.stack.sockets.remove(srv);
        }
        r.map_err(|e| {
            format!(
                "tcp transfer: {e} (sent {sent} of {}, received {})",
                data.len(),
                received.len()
            )
        })?;
        Ok(Transfer {
            received,
            elapsed,
            segments,
            retransmissions,
        })
    }

    /// Closes the descriptor (stopping the reader), drains netisr, unloads the driver and
    /// reports; `mbufs_live` must be 0.
    pub fn close(mut self) -> TunnelReport {
        if let Some(u) = self.user.take() {
            u.close();
        }
        if let Some(c) = &self.capture {
            let c: Arc<dyn kmock::bsd::bpf::BpfListener> = c.clone();
            self.host.ifp.bpf().detach_listener(&c);
        }
        let mut r = TunnelReport {
            host_out_packets: self.host.out_packets,
            host_out_bytes: self.host.out_bytes,
            host_in_packets: self.host.in_packets,
            host_in_bytes: self.host.in_bytes,
            dev_reads: self.dev_reads,
            dev_writes: self.dev_writes,
            mbufs_live: 0,
        };
        r.mbufs_live = self.host.shutdown();
        r
    }
}

/// A TCP socket as every transfer uses it (through the driver or over the bare pipe, so
/// that the two compare like for like): the receive and send buffers of [`TCP_RX_BUF`] and
/// [`TCP_TX_BUF`] bytes, no delayed ACK, no Nagle.
pub(crate) fn new_tcp_socket() -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; TCP_RX_BUF]),
        tcp::SocketBuffer::new(vec![0; TCP_TX_BUF]),
    );
    s.set_ack_delay(None);
    s.set_nagle_enabled(false);
    s
}
