// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim bridge`: the driver's user side joined to a real Linux TUN interface inside a
//! network namespace this command creates, so a real `ping` in that namespace crosses the
//! driver to the host stack (smoltcp on tun0) and back.
//!
//! ```text
//! netns tunsimN: ping 10.77.0.2 -> tsimN (Linux TUN, 10.77.0.1 peer 10.77.0.2)
//!   -> this process: read Linux TUN, write(/dev/tun0) -> tunwrite -> netisr -> smoltcp
//!   <- smoltcp -> if_output (tunoutput) -> read(/dev/tun0) -> write Linux TUN
//! ```
//!
//! Only namespace-local addresses are used; the namespace (IPv6 disabled) is removed on
//! exit. Needs root, `/dev/net/tun`, `ip` and `ping`; [`available`] says why not.

use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use smoltcp::phy::{self, Device, Medium, RxToken, TunTapInterface, TxToken};

use crate::net::peer::{Framing, UserSide};
use crate::net::stack::{fmt_ip, smol_now, KernelHost, Msg, TunAddrs, DAEMON_PID};

/// The Linux side's address (inside the namespace).
pub const LINUX_ADDR: [u8; 4] = [10, 77, 0, 1];
/// tun0's address (the smoltcp host stack).
pub const TUN0_ADDR: [u8; 4] = [10, 77, 0, 2];

fn which(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Whether the bridge can run here; the error says what is missing.
pub fn available() -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err("the bridge needs Linux".into());
    }
    if !is_root() {
        return Err(
            "the bridge needs root (it creates a network namespace and a TUN interface)".into(),
        );
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err("/dev/net/tun is missing (no TUN support here)".into());
    }
    if !which("ip") {
        return Err("`ip` (iproute2) is not installed".into());
    }
    if !which("ping") {
        return Err("`ping` is not installed (apt-get install iputils-ping)".into());
    }
    // Root in a container may still lack the capabilities: try both things the bridge
    // needs, a namespace and a TUN interface, and undo them.
    let probe = format!("tsimprobe{}", std::process::id() % 100_000);
    sh(&["ip", "netns", "add", &probe])
        .map_err(|e| format!("cannot create a network namespace here: {e}"))?;
    let _ = sh(&["ip", "netns", "del", &probe]);
    TunTapInterface::new(&probe, Medium::Ip)
        .map(drop)
        .map_err(|e| format!("cannot create a TUN interface here: {e}"))?;
    Ok(())
}

fn sh(args: &[&str]) -> Result<(), String> {
    let o = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if !o.status.success() {
        return Err(format!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(())
}

/// A network namespace, deleted on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&["ip", "netns", "del", &self.0]);
    }
}

/// What a bridge run saw.
#[derive(Clone, Debug, Default)]
pub struct BridgeReport {
    /// Whether `ping` exited 0.
    pub ping_ok: bool,
    /// `ping`'s output.
    pub ping_output: String,
    /// Packets the Linux side sent into the driver.
    pub from_linux: u64,
    /// Packets the driver gave back to the Linux side.
    pub to_linux: u64,
    /// Mbufs live after closing (must be 0).
    pub mbufs_live: usize,
}

/// Sets up the namespace and the bridge, runs `ping -c count` in the namespace towards
/// tun0's host stack, tears everything down.
pub fn run_ping_check(count: u32) -> Result<BridgeReport, String> {
    available()?;
    let id = std::process::id();
    let ns = Netns(format!("tunsim{id}"));
    let ifname = format!("tsim{}", id % 100_000);
    sh(&["ip", "netns", "add", &ns.0])?;
    for k in ["all", "default"] {
        sh(&[
            "ip",
            "netns",
            "exec",
            &ns.0,
            "sysctl",
            "-qw",
            &format!("net.ipv6.conf.{k}.disable_ipv6=1"),
        ])?;
    }
    let mut linux = TunTapInterface::new(&ifname, Medium::Ip)
        .map_err(|e| format!("open /dev/net/tun ({ifname}): {e}"))?;
    let mtu = linux.capabilities().max_transmission_unit;
    let raw = linux.as_raw_fd();
    sh(&["ip", "link", "set", &ifname, "netns", &ns.0])?;
    let (l, p) = (fmt_ip(LINUX_ADDR), fmt_ip(TUN0_ADDR));
    sh(&[
        "ip", "-n", &ns.0, "addr", "add", &l, "peer", &p, "dev", &ifname,
    ])?;
    sh(&["ip", "-n", &ns.0, "link", "set", "lo", "up"])?;
    sh(&["ip", "-n", &ns.0, "link", "set", &ifname, "up"])?;

    // The kernel side: tun0 with the smoltcp host stack, opened by the daemon.
    let base = Instant::now();
    let (k, module) = KernelHost::boot(false)?;
    let fd = UserSide::open(&k, Framing::Plain)?;
    let mut host = KernelHost::configure(
        k.clone(),
        module,
        TunAddrs {
            local: TUN0_ADDR,
            dst: LINUX_ADDR,
        },
        base,
    )?;
    let user = UserSide::start(&k, fd.clone(), Framing::Plain, host.tx.clone());

    // Linux -> driver: a thread that waits on the Linux TUN and writes each packet to
    // /dev/tun0 (the daemon's other half).
    let stop = Arc::new(AtomicBool::new(false));
    let (cnt_tx, cnt_rx) = mpsc::channel::<u64>();
    let lin = {
        let (k, fd, stop) = (k.clone(), fd.clone(), stop.clone());
        std::thread::spawn(move || {
            let _ctx = k.enter(DAEMON_PID);
            let mut n = 0u64;
            // A second handle on the same descriptor, for reading only; the first one owns
            // (and closes) it, so this one is forgotten, never dropped.
            let Ok(mut rd) = TunTapInterface::from_fd(raw, Medium::Ip, mtu) else {
                let _ = cnt_tx.send(0);
                return;
            };
            while !stop.load(Ordering::SeqCst) {
                let _ = phy::wait(raw, Some(smoltcp::time::Duration::from_millis(100)));
                while let Some((rx, _tx)) = rd.receive(smol_now(base)) {
                    rx.consume(|b| {
                        if fd.write(b).is_ok() {
                            n += 1;
                        }
                    });
                }
            }
            std::mem::forget(rd);
            let _ = cnt_tx.send(n);
        })
    };

    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.0, "ping", "-n", "-c"])
        .arg(count.to_string())
        .args(["-i", "0.2", "-W", "2", &p])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ping: {e}"))?;
    let mut to_linux = 0u64;
    let deadline = Instant::now() + Duration::from_secs(u64::from(count) + 10);
    let mut err = None;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            err = Some("ping did not finish".to_string());
            break;
        }
        // Wake on a netisr delivery or a frame read from /dev/tun0 (or every 50 ms to
        // see whether ping is done).
        match host.rx.recv_timeout(Duration::from_millis(50)) {
            Ok(m) => {
                let mut next = Some(m);
                while let Some(m) = next.take().or_else(|| host.rx.try_recv().ok()) {
                    match m {
                        Msg::Netisr(pkt) => host.input(pkt),
                        Msg::Dev(frame) => {
                            if let Some(tx) = linux.transmit(smol_now(base)) {
                                tx.consume(frame.len(), |b| b.copy_from_slice(&frame));
                                to_linux += 1;
                            }
                        }
                        Msg::ReaderDone(why) => err = Some(format!("reader ended: {why}")),
                    }
                    while host.poll() {}
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => while host.poll() {},
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let out = child.wait_with_output().map_err(|e| format!("ping: {e}"))?;
    stop.store(true, Ordering::SeqCst);
    let _ = lin.join();
    let from_linux = cnt_rx.recv().unwrap_or(0);
    user.close();
    let mbufs_live = host.shutdown();
    drop(linux);
    drop(ns);
    if let Some(e) = err {
        return Err(e);
    }
    let mut ping_output = String::from_utf8_lossy(&out.stdout).into_owned();
    ping_output.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(BridgeReport {
        ping_ok: out.status.success(),
        ping_output,
        from_linux,
        to_linux,
        mbufs_live,
    })
}
