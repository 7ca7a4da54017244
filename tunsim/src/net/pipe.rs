// SPDX-License-Identifier: BSD-2-Clause
//! The baseline for the end-to-end benchmark (issue 11 §4): the same two smoltcp stacks
//! as [`crate::net::peer::Tunnel`] (same addresses, MTU, seeds and TCP socket settings),
//! joined by a bare in-memory pipe instead of the driver: what one stack transmits is the
//! other's next received packet, with no kernel, no mbuf, no thread and no framing.
//! [`bench_tcp`] runs the same transfer both ways and compares (`tunsim bench-tcp`).

use std::time::{Duration, Instant};

use smoltcp::socket::tcp;
use smoltcp::wire::{IpAddress, IpEndpoint};

use crate::net::peer::{Daemon, Direction, Framing, TcpWatch, Transfer, Tunnel, TunnelConfig};
use crate::net::stack::{smol_now, IpStack, TunAddrs};

// The sockets are the tunnel's own (`peer::new_tcp_socket`: the same buffers and options).
const TCP_PORT: u16 = 5001;
/// tun0's MTU (the tunnel reads it back from the interface: 1500).
pub const PIPE_MTU: usize = 1500;

/// Two smoltcp stacks joined by an in-memory pipe.
pub struct Pipe {
    /// The stack with tun0's address (10.0.0.1).
    pub host: IpStack,
    /// The remote end (10.0.0.2).
    pub peer: IpStack,
    /// The TCP segments that crossed the pipe.
    pub tcp_watch: TcpWatch,
    base: Instant,
}

impl Default for Pipe {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipe {
    /// The two stacks, addressed as the tunnel's are.
    pub fn new() -> Pipe {
        let base = Instant::now();
        let a = TunAddrs::default();
        Pipe {
            host: IpStack::new(a.local, a.dst, PIPE_MTU, smol_now(base), 1),
            peer: IpStack::new(a.dst, a.local, PIPE_MTU, smol_now(base), 2),
            tcp_watch: TcpWatch::default(),
            base,
        }
    }

    /// Polls both stacks and moves packets across until nothing moves.
    fn settle(&mut self) {
        loop {
            let now = smol_now(self.base);
            let mut moved = self.host.poll(now);
            moved |= self.peer.poll(now);
            for p in std::mem::take(&mut self.host.dev.tx) {
                self.tcp_watch.observe(&p, true, Instant::now());
                self.peer.dev.rx.push_back(p);
                moved = true;
            }
            for p in std::mem::take(&mut self.peer.dev.tx) {
                self.tcp_watch.observe(&p, false, Instant::now());
                self.host.dev.rx.push_back(p);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    /// Sends `data` over a fresh TCP connection from the host to the peer
    /// ([`Direction::HostToPeer`]) or back; returns what arrived, as
    /// [`Tunnel::tcp_transfer`] does.
    pub fn tcp_transfer(
        &mut self,
        data: &[u8],
        dir: Direction,
        timeout: Duration,
    ) -> Result<Transfer, String> {
        let new_sock = super::peer::new_tcp_socket;
        let (cli_stack, srv_stack) = match dir {
            Direction::HostToPeer => (&mut self.host, &mut self.peer),
            Direction::PeerToHost => (&mut self.peer, &mut self.host),
        };
        let mut server = new_sock();
        server
            .listen(TCP_PORT)
            .map_err(|e| format!("listen: {e:?}"))?;
        let srv_addr = srv_stack.addr;
        let srv = srv_stack.sockets.add(server);
        let mut c = new_sock();
        c.connect(
            cli_stack.iface.context(),
            IpEndpoint::new(IpAddress::Ipv4(srv_addr), TCP_PORT),
            49152,
        )
        .map_err(|e| format!("connect: {e:?}"))?;
        let cli = cli_stack.sockets.add(c);
        let (seg0, rtx0) = (
            self.tcp_watch.segments,
            self.tcp_watch.retransmissions.len(),
        );
        let t0 = Instant::now();
        let deadline = t0 + timeout;
        let mut sent = 0usize;
        let mut closed = false;
        let mut received = Vec::with_capacity(data.len());
        loop {
            self.settle();
            let before = (sent, received.len(), closed);
            let (cs, ss) = match dir {
                Direction::HostToPeer => (&mut self.host, &mut self.peer),
                Direction::PeerToHost => (&mut self.peer, &mut self.host),
            };
            let c = cs.sockets.get_mut::<tcp::Socket>(cli);
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
            let s = ss.sockets.get_mut::<tcp::Socket>(srv);
            while s.can_recv() {
                let _ = s.recv(|b| {
                    received.extend_from_slice(b);
                    (b.len(), ())
                });
            }
            if closed && matches!(s.state(), tcp::State::CloseWait | tcp::State::Closed) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "pipe tcp transfer timed out (sent {sent} of {}, received {})",
                    data.len(),
                    received.len()
                ));
            }
            // Nothing is in flight outside the stacks: when the application made no
            // progress either, sleep until the earlier of the stacks' timers.
            if before == (sent, received.len(), closed) {
                let snow = smol_now(self.base);
                let wait = [self.host.delay(snow), self.peer.delay(snow)]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(deadline - now)
                    .min(deadline - now);
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
            }
        }
        let elapsed = t0.elapsed();
        let segments = self.tcp_watch.segments - seg0;
        let retransmissions = self.tcp_watch.retransmissions[rtx0..].to_vec();
        let (cs, ss) = match dir {
            Direction::HostToPeer => (&mut self.host, &mut self.peer),
            Direction::PeerToHost => (&mut self.peer, &mut self.host),
        };
        ss.sockets.remove(srv);
        cs.sockets.remove(cli);
        Ok(Transfer {
            received,
            elapsed,
            segments,
            retransmissions,
        })
    }
}

/// One run of [`bench_tcp`]: the same transfer through the driver and through the pipe.
#[derive(Clone, Debug)]
pub struct TcpRun {
    /// Which way the data went.
    pub dir: Direction,
    /// Through the driver, the daemon a reader thread ([`Daemon::Thread`]): bytes/s.
    pub tunnel_bps: f64,
    /// Through the driver, the daemon polling in the pump's thread ([`Daemon::Polling`]):
    /// bytes/s.
    pub polled_bps: f64,
    /// Through the pipe: bytes/s.
    pub pipe_bps: f64,
    /// Retransmitted segments through the driver, both daemons (0 when nothing stalled or
    /// dropped).
    pub tunnel_rtx: usize,
    /// Of them, after a retransmission timeout (a stall).
    pub tunnel_timeouts: usize,
    /// Retransmitted segments through the pipe.
    pub pipe_rtx: usize,
}

impl TcpRun {
    /// Through the driver (reader thread), as a fraction of the pipe.
    pub fn ratio(&self) -> f64 {
        self.tunnel_bps / self.pipe_bps
    }

    /// Through the driver (polling daemon), as a fraction of the pipe.
    pub fn polled_ratio(&self) -> f64 {
        self.polled_bps / self.pipe_bps
    }
}

fn pattern(bytes: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// `runs` rounds; in each, for each direction, `bytes` over TCP through the driver (a
/// fresh [`Tunnel`] with `framing`, once with each [`Daemon`]) and through a fresh
/// [`Pipe`] (the order rotates between rounds). Every transfer's data is checked; any
/// mbuf left live is an error.
pub fn bench_tcp(
    bytes: usize,
    runs: usize,
    framing: Framing,
    dirs: &[Direction],
    mut progress: impl FnMut(&TcpRun),
) -> Result<Vec<TcpRun>, String> {
    let data = pattern(bytes);
    let timeout = Duration::from_secs(10 + (bytes >> 20) as u64);
    let mut out = Vec::new();
    for i in 0..runs {
        for &dir in dirs {
            let through_tunnel = |data: &[u8], daemon: Daemon| -> Result<Transfer, String> {
                let mut t = Tunnel::new(TunnelConfig {
                    framing,
                    daemon,
                    ..Default::default()
                })?;
                let r = t.tcp_transfer(data, dir, timeout);
                let rep = t.close();
                let r = r?;
                if rep.mbufs_live != 0 {
                    return Err(format!("{} mbufs leaked", rep.mbufs_live));
                }
                Ok(r)
            };
            let through_pipe = |data: &[u8]| -> Result<Transfer, String> {
                Pipe::new().tcp_transfer(data, dir, timeout)
            };
            let (mut tun, mut polled, mut pipe) = (None, None, None);
            for k in 0..3 {
                match (i + k) % 3 {
                    0 => tun = Some(through_tunnel(&data, Daemon::Thread)?),
                    1 => polled = Some(through_tunnel(&data, Daemon::Polling)?),
                    _ => pipe = Some(through_pipe(&data)?),
                }
            }
            let (Some(tun), Some(polled), Some(pipe)) = (tun, polled, pipe) else {
                return Err("a transfer did not run".into());
            };
            for (what, t) in [
                ("driver (reader thread)", &tun),
                ("driver (polling daemon)", &polled),
                ("pipe", &pipe),
            ] {
                if t.received != data {
                    return Err(format!(
                        "{what}: received {} bytes, not the {} sent intact",
                        t.received.len(),
                        data.len()
                    ));
                }
            }
            let run = TcpRun {
                dir,
                tunnel_bps: bytes as f64 / tun.elapsed.as_secs_f64(),
                polled_bps: bytes as f64 / polled.elapsed.as_secs_f64(),
                pipe_bps: bytes as f64 / pipe.elapsed.as_secs_f64(),
                tunnel_rtx: tun.retransmissions.len() + polled.retransmissions.len(),
                tunnel_timeouts: tun.timeouts().count() + polled.timeouts().count(),
                pipe_rtx: pipe.retransmissions.len(),
            };
            progress(&run);
            out.push(run);
        }
    }
    Ok(out)
}
