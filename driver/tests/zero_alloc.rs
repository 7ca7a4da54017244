// SPDX-License-Identifier: BSD-2-Clause
//! No heap allocation per packet in steady state (issue 11, deliverable 3).
//!
//! A counting global allocator counts the allocations (`alloc`, `alloc_zeroed`, `realloc`)
//! of the calling thread. After a warm-up (the zone's free list, the send and netisr
//! queues and the free list's own vector reach their working size), every packet of
//! - `write(2)` → `tunwrite` → `netisr_queue`, the netisr queue drained (mbufs freed), and
//! - `if_output` (`tunoutput`, an environment-built chain) → `read(2)` (`tunread`)
//!
//! must allocate nothing, for 64-, 1500- and 16384-byte packets, in plain and `TUNSIFHEAD`
//! framing. The counts are printed (`cargo test --test zero_alloc -- --nocapture`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kernel::bsd::ifnet::{ifioctl, IfIoctlArg};
use kernel::bsd::ioccom::SIOCSIFADDR;
use kernel::bsd::netisr::{NETISR_IP, NETISR_IPV6};
use kernel::bsd::socket::SockAddr;
use kernel::Kernel;

/// The system allocator, counting the calling thread's allocations.
struct Counting;

std::thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread's locals may be gone while it exits.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds as it does for `System`; counting touches only a
// thread-local `Cell` (const-initialized, no destructor: it never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const PID: i32 = 100;
const WARMUP: usize = 64;
const PACKETS: u64 = 1000;
const SIZES: [usize; 3] = [64, 1500, 16384];

struct Setup {
    k: Kernel,
    _m: kernel::module::LoadedModule<if_tun::TunModule>,
    fd: kernel::bsd::devfs::File,
}

fn setup(ifhead: bool) -> Setup {
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
    Setup { k, _m: m, fd }
}

fn framing(ifhead: bool) -> &'static str {
    if ifhead {
        "ifhead"
    } else {
        "plain"
    }
}

/// Allocations per packet of `step` after the warm-up.
fn measure(mut step: impl FnMut()) -> (u64, f64) {
    // The counter counts (a box is one allocation).
    let b = allocs();
    drop(std::hint::black_box(Box::new(0u64)));
    assert_eq!(allocs(), b + 1);
    for _ in 0..WARMUP {
        step();
    }
    let before = allocs();
    for _ in 0..PACKETS {
        step();
    }
    let n = allocs() - before;
    (n, n as f64 / PACKETS as f64)
}

/// `write(2)` → `tunwrite` → netisr, the queue drained: 0 allocations per packet.
#[test]
fn write_to_netisr_allocates_nothing_per_packet() {
    let mut failed = Vec::new();
    for ifhead in [false, true] {
        for size in SIZES {
            let s = setup(ifhead);
            // The frame is `size` bytes (TUNMRU is 16384; with IFHEAD the family word is
            // part of it).
            let mut pkt = vec![0x45u8; size];
            if ifhead {
                pkt[..4].copy_from_slice(&2u32.to_be_bytes());
            }
            let _ctx = s.k.enter(PID);
            let (n, per) = measure(|| {
                assert_eq!(s.fd.write(&pkt), Ok(size));
                let m =
                    s.k.netisr()
                        .dequeue(NETISR_IP)
                        .expect("a packet on netisr ip");
                assert_eq!(m.pkthdr().unwrap().len, size - if ifhead { 4 } else { 0 });
                drop(m);
                assert!(s.k.netisr().dequeue(NETISR_IPV6).is_none());
            });
            println!(
                "write->netisr {:6} {size:5} B: {n} allocations in {PACKETS} packets ({per} per packet)",
                framing(ifhead)
            );
            if n != 0 {
                failed.push((ifhead, size, n));
            }
            assert_eq!(s.k.mbufs().live(), 0);
        }
    }
    assert!(failed.is_empty(), "allocations per packet: {failed:?}");
}

/// `if_output` → `tunoutput` → `read(2)`: 0 allocations per packet.
#[test]
fn output_to_read_allocates_nothing_per_packet() {
    let mut failed = Vec::new();
    for ifhead in [false, true] {
        for size in SIZES {
            let s = setup(ifhead);
            let ifp = s.k.ifunit("tun0").unwrap();
            let payload = vec![0x45u8; size];
            let mut buf = vec![0u8; size + 64];
            let want = size + if ifhead { 4 } else { 0 };
            let _ctx = s.k.enter(PID);
            let (n, per) = measure(|| {
                let m = s.k.mbufs().packet_from(&payload, 0, None).unwrap();
                let mut dst = SockAddr::inet([10, 0, 0, 2]);
                ifp.output(m, &mut dst).unwrap();
                assert_eq!(s.fd.read(&mut buf, true), Ok(want));
            });
            println!(
                "output->read  {:6} {size:5} B: {n} allocations in {PACKETS} packets ({per} per packet)",
                framing(ifhead)
            );
            if n != 0 {
                failed.push((ifhead, size, n));
            }
            assert_eq!(s.k.mbufs().live(), 0);
        }
    }
    assert!(failed.is_empty(), "allocations per packet: {failed:?}");
}

/// The free list is what makes it so: after the warm-up the zone hands out reused storage,
/// the ids still count up from where they were, and nothing leaks.
#[test]
fn mbufs_are_reused_and_numbered_on() {
    let s = setup(false);
    let _ctx = s.k.enter(PID);
    let pkt = vec![0x45u8; 1500];
    s.fd.write(&pkt).unwrap();
    drop(s.k.netisr().dequeue(NETISR_IP));
    let (allocated, cached) = (s.k.mbufs().stats().allocated, s.k.mbufs().cached());
    assert!(cached >= 14, "a 1500-byte write is 14 mbufs");
    s.fd.write(&pkt).unwrap();
    let m = s.k.netisr().dequeue(NETISR_IP).unwrap();
    assert_eq!(m.id(), allocated + 1);
    assert_eq!(s.k.mbufs().cached(), cached - 14);
    assert_eq!(s.k.mbufs().live(), 14);
    drop(m);
    assert_eq!(s.k.mbufs().live(), 0);
    assert_eq!(s.k.mbufs().stats().allocated, allocated + 14);
}
