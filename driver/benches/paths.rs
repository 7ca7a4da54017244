// SPDX-License-Identifier: BSD-2-Clause
//! Benchmarks of the driver's per-packet paths on kmock (issue 11, deliverables 1, 2, 5).
//!
//! `make bench` (or `cargo bench -p if_tun --bench paths`) runs, in one process:
//! - `write/{plain,ifhead}{,_bpf}/N`: `write(2)` of an N-byte frame on /dev/tun0 →
//!   `tunwrite` → mbuf chain → `netisr_queue`, then the netisr queue drained (the mbufs
//!   freed). N = 16384 is `TUNMRU`, written in one go (with IFHEAD the 4-byte family is part
//!   of the 16384).
//! - `output_read/{plain,ifhead}{,_bpf}/N`: an N-byte packet as an mbuf chain (56-byte
//!   header mbuf, then 120-byte mbufs) through `if_output` (`tunoutput`) onto the send
//!   queue, then `read(2)` (`tunread`) copies it out. `_bpf`: a bpf listener is attached
//!   (it receives every packet, as a bpf descriptor would).
//! - `floor/{write,read}/N`: what the paths cannot avoid: copy N bytes into the same
//!   chunk layout (56, then 120-byte chunks), push the chain on a queue and pop it (and for
//!   the read path copy it out again into the user's buffer). No allocation.
//! - `linux_tun/echo/N`: Linux's own tun, as a reference: an N-byte ICMP echo request
//!   written to a TUN fd (IFF_TUN|IFF_NO_PI) in a private network namespace, addressed to
//!   the interface's own address, and the echo reply Linux sends back read from the same fd
//!   (one write and one read per iteration, plus Linux's ICMP). Skipped, with a note, where
//!   /dev/net/tun or a namespace is not available (not root, no `ip`).
//! - `threads` (not criterion: a timed loop): one thread does `if_output` in a loop,
//!   another blocking `read(2)`s woken by the output; packets/s with both threads pinned to
//!   CPU 0 (what `taskset -c 0` does) and with one thread on each of CPUs 0 and 1; several
//!   runs (`TUN_BENCH_THREAD_RUNS`, default 5, of `TUN_BENCH_THREAD_MS`, default 500 ms).
//!
//! At the end a summary prints ns/packet, packets/s and Gbit/s for every benchmark
//! (criterion's median and its 95% interval), driver/floor per size and path, driver vs
//! Linux, the thread figures and each target of issue 11, met or missed. Criterion's usual
//! arguments work after `--` (a filter, `--measurement-time 5`, `--sample-size 50`); the
//! summary leaves out what was filtered away. `TUN_BENCH_NO_THREADS=1` skips the thread runs.

use std::collections::VecDeque;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use kernel::bsd::bpf::BpfListener;
use kernel::bsd::ifnet::{ifioctl, IfIoctlArg};
use kernel::bsd::ioccom::SIOCSIFADDR;
use kernel::bsd::netisr::{NETISR_IP, NETISR_IPV6};
use kernel::bsd::socket::SockAddr;
use kernel::Kernel;

/// Packet sizes (bytes written per `write(2)`, or bytes of the packet given to
/// `if_output`).
const SIZES: [usize; 4] = [64, 512, 1500, 16384];
/// `MHLEN`: data in a packet-header mbuf.
const MHLEN: usize = 56;
/// `MLEN`: data in a plain mbuf.
const MLEN: usize = 120;
const PID: i32 = 100;

struct Setup {
    k: Kernel,
    _m: kernel::module::LoadedModule<if_tun::TunModule>,
    fd: kernel::bsd::devfs::File,
}

/// A bpf descriptor that looks at every packet (and keeps nothing).
struct CountingListener(AtomicU64);

impl BpfListener for CountingListener {
    fn tap(&self, _dlt: u32, packet: &[u8]) {
        self.0.fetch_add(packet.len() as u64, Ordering::Relaxed);
    }
}

fn setup(ifhead: bool, bpf: bool) -> Setup {
    let k = Kernel::new();
    k.proc_set(PID, PID, 1, 0).unwrap();
    let m = kernel::module::load::<if_tun::TunModule>(&k).unwrap();
    let fd = k.dev_open("tun0", PID).unwrap();
    let ifp = k.ifunit("tun0").unwrap();
    let _ctx = k.enter(PID);
    ifioctl(
        &*ifp,
        SIOCSIFADDR,
        IfIoctlArg::Inet([10, 0, 0, 1]),
        &Default::default(),
    )
    .unwrap();
    if ifhead {
        fd.ioctl(if_tun::abi::TUNSIFHEAD, &mut 1i32.to_ne_bytes())
            .unwrap();
    }
    if bpf {
        assert!(ifp
            .bpf()
            .attach_listener(Arc::new(CountingListener(AtomicU64::new(0)))));
    }
    Setup { k, _m: m, fd }
}

fn variant(ifhead: bool, bpf: bool) -> String {
    format!(
        "{}{}",
        if ifhead { "ifhead" } else { "plain" },
        if bpf { "_bpf" } else { "" }
    )
}

const VARIANTS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

fn bench_write(c: &mut Criterion) {
    let mut g = c.benchmark_group("write");
    for (ifhead, bpf) in VARIANTS {
        for size in SIZES {
            let s = setup(ifhead, bpf);
            let mut pkt = vec![0x45u8; size];
            if ifhead {
                pkt[..4].copy_from_slice(&2u32.to_be_bytes());
            }
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_with_input(
                BenchmarkId::new(variant(ifhead, bpf), size),
                &pkt,
                |b, pkt| {
                    let _ctx = s.k.enter(PID);
                    b.iter(|| {
                        s.fd.write(black_box(pkt)).unwrap();
                        drop(s.k.netisr().dequeue(NETISR_IP));
                        drop(s.k.netisr().dequeue(NETISR_IPV6));
                    })
                },
            );
            assert_eq!(s.k.mbufs().live(), 0);
        }
    }
    g.finish();
}

fn bench_output_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("output_read");
    for (ifhead, bpf) in VARIANTS {
        for size in SIZES {
            let s = setup(ifhead, bpf);
            let ifp = s.k.ifunit("tun0").unwrap();
            let payload = vec![0x45u8; size];
            let mut buf = vec![0u8; if_tun::abi::TUNMRU + 64];
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_with_input(
                BenchmarkId::new(variant(ifhead, bpf), size),
                &payload,
                |b, payload| {
                    let _ctx = s.k.enter(PID);
                    b.iter(|| {
                        let m = s.k.mbufs().packet_from(payload, 0, None).unwrap();
                        let mut dst = SockAddr::inet([10, 0, 0, 2]);
                        ifp.output(m, &mut dst).unwrap();
                        black_box(s.fd.read(&mut buf, true).unwrap());
                    })
                },
            );
            assert_eq!(s.k.mbufs().live(), 0);
        }
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// The floor.

/// One chunk of the floor's chain: an mbuf's data area and its length.
struct Chunk {
    len: usize,
    data: [u8; MLEN],
}

/// A preallocated chain long enough for `TUNMRU` bytes.
struct Chain {
    n: usize,
    chunks: Box<[Chunk]>,
}

impl Chain {
    fn new() -> Box<Chain> {
        let count = 2 + if_tun::abi::TUNMRU / MLEN;
        Box::new(Chain {
            n: 0,
            chunks: (0..count)
                .map(|_| Chunk {
                    len: 0,
                    data: [0; MLEN],
                })
                .collect(),
        })
    }

    /// Copies `src` in: `MHLEN` bytes into the first chunk, then `MLEN` per chunk.
    #[inline(never)]
    fn fill(&mut self, src: &[u8]) {
        let mut off = 0;
        let mut i = 0;
        while off < src.len() {
            let cap = if i == 0 { MHLEN } else { MLEN };
            let n = cap.min(src.len() - off);
            let c = &mut self.chunks[i];
            c.data[..n].copy_from_slice(&src[off..off + n]);
            c.len = n;
            off += n;
            i += 1;
        }
        self.n = i;
    }

    /// Copies the chain out into `dst`; returns the bytes copied.
    #[inline(never)]
    fn copy_out(&self, dst: &mut [u8]) -> usize {
        let mut off = 0;
        for c in &self.chunks[..self.n] {
            dst[off..off + c.len].copy_from_slice(&c.data[..c.len]);
            off += c.len;
        }
        off
    }
}

fn bench_floor(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");
    for size in SIZES {
        let src = vec![0x45u8; size];
        let mut q: VecDeque<Box<Chain>> = VecDeque::with_capacity(256);
        let mut spare = Some(Chain::new());
        let mut out = vec![0u8; if_tun::abi::TUNMRU + 64];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("write", size), &src, |b, src| {
            b.iter(|| {
                let mut ch = spare.take().unwrap();
                ch.fill(black_box(src));
                q.push_back(ch);
                let ch = q.pop_front().unwrap();
                black_box(&ch.chunks[0].data[0]);
                spare = Some(ch);
            })
        });
        g.bench_with_input(BenchmarkId::new("read", size), &src, |b, src| {
            b.iter(|| {
                let mut ch = spare.take().unwrap();
                ch.fill(black_box(src));
                q.push_back(ch);
                let ch = q.pop_front().unwrap();
                black_box(ch.copy_out(&mut out));
                black_box(&out);
                spare = Some(ch);
            })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// Linux's tun, as a reference point.

static LINUX_NOTE: Mutex<Option<String>> = Mutex::new(None);

#[cfg(target_os = "linux")]
mod linux_tun {
    use std::fs::{File, OpenOptions};
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::process::Command;

    extern "C" {
        fn ioctl(fd: i32, req: std::ffi::c_ulong, ...) -> i32;
        fn unshare(flags: i32) -> i32;
    }
    const TUNSETIFF: std::ffi::c_ulong = 0x4004_54ca;
    const IFF_TUN: i16 = 0x0001;
    const IFF_NO_PI: i16 = 0x1000;
    const CLONE_NEWNET: i32 = 0x4000_0000;
    pub const LOCAL: [u8; 4] = [10, 99, 0, 1];
    pub const REMOTE: [u8; 4] = [10, 99, 0, 2];
    const IFNAME: &str = "tunbench0";

    fn sh(args: &[&str]) -> Result<(), String> {
        let o = Command::new(args[0])
            .args(&args[1..])
            .output()
            .map_err(|e| format!("{}: {e}", args.join(" ")))?;
        if !o.status.success() {
            return Err(format!(
                "{}: {}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Ok(())
    }

    /// Creates a network namespace (on a thread of its own: `unshare(CLONE_NEWNET)` moves
    /// only the calling thread, and the `ip` commands it runs inherit it), a TUN device
    /// `10.99.0.1/24` in it, up, MTU 65535, IPv6 off; returns its descriptor. The
    /// namespace lives as long as the descriptor (the device's socket holds it).
    pub fn open() -> Result<File, String> {
        std::thread::spawn(|| {
            // SAFETY: unshare has no memory-safety preconditions; it affects this thread.
            if unsafe { unshare(CLONE_NEWNET) } != 0 {
                return Err(format!(
                    "unshare(CLONE_NEWNET): {} (needs root)",
                    std::io::Error::last_os_error()
                ));
            }
            for f in ["all", "default"] {
                let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{f}/disable_ipv6"), "1");
            }
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/net/tun")
                .map_err(|e| format!("/dev/net/tun: {e}"))?;
            let mut ifr = [0u8; 40];
            ifr[..IFNAME.len()].copy_from_slice(IFNAME.as_bytes());
            ifr[16..18].copy_from_slice(&(IFF_TUN | IFF_NO_PI).to_ne_bytes());
            // SAFETY: TUNSETIFF reads and writes a struct ifreq (40 bytes), which `ifr` is.
            if unsafe { ioctl(f.as_raw_fd(), TUNSETIFF, ifr.as_mut_ptr()) } != 0 {
                return Err(format!("TUNSETIFF: {}", std::io::Error::last_os_error()));
            }
            sh(&["ip", "link", "set", "lo", "up"])?;
            sh(&["ip", "link", "set", IFNAME, "mtu", "65535", "up"])?;
            sh(&["ip", "addr", "add", "10.99.0.1/24", "dev", IFNAME])?;
            Ok(f)
        })
        .join()
        .map_err(|_| "namespace thread panicked".to_string())?
    }

    fn csum(b: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for c in b.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    /// An IPv4 ICMP echo request of `size` bytes, REMOTE → LOCAL.
    pub fn echo_request(size: usize) -> Vec<u8> {
        let mut p = vec![0u8; size.max(28)];
        let len = p.len() as u16;
        p[0] = 0x45;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p[6] = 0x40; // DF
        p[8] = 64;
        p[9] = 1;
        p[12..16].copy_from_slice(&REMOTE);
        p[16..20].copy_from_slice(&LOCAL);
        let c = csum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p[20] = 8;
        p[24..26].copy_from_slice(&0x7475u16.to_be_bytes());
        for (i, b) in p[28..].iter_mut().enumerate() {
            *b = i as u8;
        }
        let c = csum(&p[20..]);
        p[22..24].copy_from_slice(&c.to_be_bytes());
        p
    }

    /// One round: write the request, read until its echo reply.
    pub fn round(f: &mut File, req: &[u8], buf: &mut [u8]) {
        f.write_all(req).expect("write to the tun fd");
        loop {
            let n = f.read(buf).expect("read from the tun fd");
            if n == req.len() && buf[9] == 1 && buf[20] == 0 {
                return;
            }
        }
    }
}

fn bench_linux_tun(c: &mut Criterion) {
    #[cfg(target_os = "linux")]
    {
        let mut f = match linux_tun::open() {
            Ok(f) => f,
            Err(e) => {
                *LINUX_NOTE.lock().unwrap() = Some(format!("Linux tun reference skipped: {e}"));
                return;
            }
        };
        let mut g = c.benchmark_group("linux_tun");
        let mut buf = vec![0u8; 65536];
        for size in SIZES {
            let req = linux_tun::echo_request(size);
            linux_tun::round(&mut f, &req, &mut buf);
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_with_input(BenchmarkId::new("echo", size), &req, |b, req| {
                b.iter(|| linux_tun::round(&mut f, req, &mut buf))
            });
        }
        g.finish();
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = c;
        *LINUX_NOTE.lock().unwrap() = Some("Linux tun reference skipped: not Linux".into());
    }
}

// ---------------------------------------------------------------------------------------
// Threads: a writer doing if_output, a reader in blocking read(2).

#[cfg(target_os = "linux")]
fn pin_to(cpu: usize) -> bool {
    extern "C" {
        fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
    }
    let mut mask = [0u64; 16];
    mask[cpu / 64] |= 1 << (cpu % 64);
    // SAFETY: the mask is 128 bytes, as passed; pid 0 is the calling thread.
    unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn pin_to(_cpu: usize) -> bool {
    false
}

/// One run: `(packets read per second, if_output calls refused with a full queue per
/// packet read)`. The writer is a thread of its own too, so that the bench's main thread
/// keeps its affinity.
fn thread_run(size: usize, writer_cpu: usize, reader_cpu: usize, dur: Duration) -> (f64, f64) {
    let s = Arc::new(setup(false, false));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (s, stop) = (s.clone(), stop.clone());
        std::thread::spawn(move || {
            pin_to(reader_cpu);
            let _ctx = s.k.enter(PID);
            let mut buf = vec![0u8; if_tun::abi::TUNMRU + 64];
            let mut n = 0u64;
            while let Ok(_len) = s.fd.read(&mut buf, false) {
                n += 1;
            }
            assert!(stop.load(Ordering::SeqCst), "the reader stopped early");
            n
        })
    };
    let writer = {
        let s = s.clone();
        std::thread::spawn(move || {
            pin_to(writer_cpu);
            let ifp = s.k.ifunit("tun0").unwrap();
            let payload = vec![0x45u8; size];
            let mut full = 0u64;
            let _ctx = s.k.enter(PID);
            let t0 = Instant::now();
            let mut i = 0u32;
            loop {
                let m = s.k.mbufs().packet_from(&payload, 0, None).unwrap();
                if ifp.output(m, &mut SockAddr::inet([10, 0, 0, 2])).is_err() {
                    full += 1;
                    std::thread::yield_now();
                }
                i = i.wrapping_add(1);
                if i.is_multiple_of(256) && t0.elapsed() >= dur {
                    break;
                }
            }
            // Let the reader drain what is queued.
            while ifp.snd_len() > 0 {
                std::thread::yield_now();
            }
            (t0.elapsed(), full)
        })
    };
    let (elapsed, full) = writer.join().unwrap();
    // Then interrupt the reader's tsleep.
    stop.store(true, Ordering::SeqCst);
    s.k.post_signal(PID, false).unwrap();
    let n = reader.join().unwrap();
    s.k.clear_signal(PID);
    (
        n as f64 / elapsed.as_secs_f64(),
        full as f64 / n.max(1) as f64,
    )
}

trait SndLen {
    fn snd_len(&self) -> usize;
}

impl<T: kernel::bsd::ifnet::IfnetDyn + ?Sized> SndLen for T {
    fn snd_len(&self) -> usize {
        let mut n = 0;
        self.with_snd(&mut |q| n = q.len());
        n
    }
}

struct ThreadResult {
    label: String,
    size: usize,
    pps: Vec<f64>,
    full_per_pkt: Vec<f64>,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run_threads() -> Vec<ThreadResult> {
    let runs = env_num("TUN_BENCH_THREAD_RUNS", 5) as usize;
    let dur = Duration::from_millis(env_num("TUN_BENCH_THREAD_MS", 500));
    let two = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
    let mut out = Vec::new();
    for size in [64usize, 1500] {
        let mut configs = vec![("one core (both on CPU 0)".to_string(), 0, 0)];
        if two {
            configs.push(("two cores (writer CPU 0, reader CPU 1)".to_string(), 0, 1));
        }
        for (label, w, r) in configs {
            let mut pps = Vec::new();
            let mut full = Vec::new();
            for _ in 0..runs {
                let (p, f) = thread_run(size, w, r, dur);
                pps.push(p);
                full.push(f);
            }
            eprintln!(
                "threads/{size}/{label}: {}",
                pps.iter()
                    .map(|p| format!("{:.2} Mpps", p / 1e6))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            out.push(ThreadResult {
                label,
                size,
                pps,
                full_per_pkt: full,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The summary, from criterion's estimates.

fn criterion_dir() -> PathBuf {
    if let Ok(d) = std::env::var("CRITERION_HOME") {
        return PathBuf::from(d);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// Criterion's median estimate of one benchmark (ns per iteration) and its 95% interval,
/// if it ran in this process.
fn estimate(
    dir: &Path,
    group: &str,
    func: &str,
    size: usize,
    since: std::time::SystemTime,
) -> Option<(f64, f64, f64)> {
    let p = dir
        .join(group)
        .join(func)
        .join(size.to_string())
        .join("new/estimates.json");
    let meta = std::fs::metadata(&p).ok()?;
    if meta.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(&p).ok()?;
    let med = &text[text.find("\"median\"")?..];
    let num = |key: &str| -> Option<f64> {
        let i = med.find(key)? + key.len();
        let rest = &med[i..];
        let end = rest.find([',', '}'])?;
        rest[..end].trim().parse().ok()
    };
    Some((
        num("\"point_estimate\":")?,
        num("\"lower_bound\":")?,
        num("\"upper_bound\":")?,
    ))
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn summary(since: std::time::SystemTime, cpus: usize, threads: &[ThreadResult]) {
    let dir = criterion_dir();
    let est = |g: &str, f: &str, s: usize| estimate(&dir, g, f, s, since);
    println!();
    println!("==================== if_tun benchmark summary ====================");
    println!(
        "machine: {} CPUs, {}",
        cpus,
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string())
            )
            .unwrap_or_else(|| "unknown CPU".into())
    );
    println!("ns/packet = criterion's median [95% interval]; Mpps = 1000/ns; Gbit/s = 8*size/ns");
    println!();
    println!(
        "{:<12} {:<11} {:>6} {:>26} {:>8} {:>8} {:>9} {:>8}",
        "path", "variant", "bytes", "ns/packet", "Mpps", "Gbit/s", "floor ns", "x floor"
    );
    for (group, floor) in [("write", "write"), ("output_read", "read")] {
        for (ifhead, bpf) in VARIANTS {
            let v = variant(ifhead, bpf);
            for size in SIZES {
                let Some((ns, lo, hi)) = est(group, &v, size) else {
                    continue;
                };
                let fl = est("floor", floor, size).map(|e| e.0);
                println!(
                    "{:<12} {:<11} {:>6} {:>8.1} [{:>7.1}, {:>7.1}] {:>8.2} {:>8.2} {:>9} {:>8}",
                    group,
                    v,
                    size,
                    ns,
                    lo,
                    hi,
                    1e3 / ns,
                    8.0 * size as f64 / ns,
                    fl.map_or("-".into(), |f| format!("{f:.1}")),
                    fl.map_or("-".into(), |f| format!("{:.1}x", ns / f)),
                );
            }
        }
    }
    for floor in ["write", "read"] {
        for size in SIZES {
            if let Some((ns, lo, hi)) = est("floor", floor, size) {
                println!(
                    "{:<12} {:<11} {:>6} {:>8.1} [{:>7.1}, {:>7.1}] {:>8.2} {:>8.2}",
                    "floor",
                    floor,
                    size,
                    ns,
                    lo,
                    hi,
                    1e3 / ns,
                    8.0 * size as f64 / ns
                );
            }
        }
    }

    println!();
    match LINUX_NOTE.lock().unwrap().as_ref() {
        Some(note) => println!("{note}"),
        None => {
            println!("Linux tun (write an ICMP echo request, read Linux's reply; one write + one read + Linux's IP/ICMP):");
            for size in SIZES {
                let Some((ns, lo, hi)) = est("linux_tun", "echo", size) else {
                    continue;
                };
                let drv = est("write", "plain", size)
                    .zip(est("output_read", "plain", size))
                    .map(|(w, r)| w.0 + r.0);
                println!(
                    "  {:>6} B: {:>8.1} ns [{:.1}, {:.1}] per write+read ({:.2} Mpps); driver write + output_read (plain) = {} ({})",
                    size,
                    ns,
                    lo,
                    hi,
                    1e3 / ns,
                    drv.map_or("-".into(), |d| format!("{d:.1} ns")),
                    drv.map_or("-".into(), |d| format!("{:.2}x Linux's time", d / ns)),
                );
            }
        }
    }

    if !threads.is_empty() {
        println!();
        println!("threads: a writer doing if_output, a reader in blocking read(2) (plain):");
        for t in threads {
            let min = t.pps.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = t.pps.iter().cloned().fold(0.0, f64::max);
            println!(
                "  {:>5} B, {:<40} median {:>6.3} Mpps (min {:.3}, max {:.3}, {} runs); queue-full retries/packet {:.2}",
                t.size,
                t.label,
                median(&t.pps) / 1e6,
                min / 1e6,
                max / 1e6,
                t.pps.len(),
                median(&t.full_per_pkt)
            );
        }
    }

    println!();
    println!("targets (issue 11):");
    for (group, floor, name) in [
        ("write", "write", "write->netisr"),
        ("output_read", "read", "output->read"),
    ] {
        if let (Some(d), Some(f)) = (est(group, "plain", 1500), est("floor", floor, 1500)) {
            let r = d.0 / f.0;
            println!(
                "  {name:<14} 1500 B <= 3x floor: {:.1} ns / {:.1} ns = {:.1}x -> {}",
                d.0,
                f.0,
                r,
                if r <= 3.0 {
                    "met".to_string()
                } else {
                    format!("missed by {:.1}x ({:.1}x over)", r - 3.0, r / 3.0)
                }
            );
        }
        if let Some(d) = est(group, "plain", 64) {
            let mpps = 1e3 / d.0;
            println!(
                "  {name:<14} 64 B >= 15 Mpps on one core: {:.1} ns = {:.2} Mpps -> {}",
                d.0,
                mpps,
                if mpps >= 15.0 {
                    "met".to_string()
                } else {
                    format!("missed ({:.1}x short; needs <= 66.7 ns)", 15.0 / mpps)
                }
            );
        }
    }
    println!("  TCP through the driver >= 0.8x the bare pipe: `cargo run --release -p tunsim -- bench-tcp` (make bench runs it)");
    println!("==================================================================");
}

fn main() {
    let since = std::time::SystemTime::now() - Duration::from_secs(1);
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .output_directory(&criterion_dir())
        .configure_from_args();
    bench_floor(&mut c);
    bench_write(&mut c);
    bench_output_read(&mut c);
    bench_linux_tun(&mut c);
    c.final_summary();
    let threads = if std::env::var_os("TUN_BENCH_NO_THREADS").is_some()
        || std::env::args().any(|a| a == "--list" || a == "--test")
    {
        Vec::new()
    } else {
        run_threads()
    };
    summary(since, cpus, &threads);
}
