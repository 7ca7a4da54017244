// SPDX-License-Identifier: BSD-2-Clause
//! Criterion benchmarks of the driver's per-packet paths on kmock:
//! - `write`: `write(2)` on /dev/tun0 → `tunwrite` → mbuf chain → netisr (drained);
//! - `output_read`: `if_output` (`tunoutput`) → send queue → `read(2)` (`tunread`);
//!
//! In plain and IFHEAD framing, for 64-, 576- and 1500-byte packets.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kernel::bsd::ifnet::{ifioctl, IfIoctlArg};
use kernel::bsd::ioccom::SIOCSIFADDR;
use kernel::bsd::netisr::{NETISR_IP, NETISR_IPV6};
use kernel::bsd::socket::SockAddr;
use kernel::Kernel;

struct Setup {
    k: Kernel,
    _m: kernel::module::LoadedModule<if_tun::TunModule>,
    fd: kernel::bsd::devfs::File,
}

fn setup(ifhead: bool) -> Setup {
    let k = Kernel::new();
    k.proc_set(100, 100, 1, 0).unwrap();
    let m = kernel::module::load::<if_tun::TunModule>(&k).unwrap();
    let fd = k.dev_open("tun0", 100).unwrap();
    let ifp = k.ifunit("tun0").unwrap();
    let _ctx = k.enter(100);
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

fn bench_write(c: &mut Criterion) {
    let mut g = c.benchmark_group("write");
    for ifhead in [false, true] {
        for size in [64usize, 576, 1500] {
            let s = setup(ifhead);
            let mut pkt = vec![0x45u8; size];
            if ifhead {
                pkt[..4].copy_from_slice(&2u32.to_be_bytes());
            }
            g.throughput(Throughput::Bytes(size as u64));
            let name = if ifhead { "ifhead" } else { "plain" };
            g.bench_with_input(BenchmarkId::new(name, size), &pkt, |b, pkt| {
                let _ctx = s.k.enter(100);
                b.iter(|| {
                    s.fd.write(black_box(pkt)).unwrap();
                    drop(s.k.netisr().dequeue(NETISR_IP));
                    drop(s.k.netisr().dequeue(NETISR_IPV6));
                })
            });
            assert_eq!(s.k.mbufs().live(), 0);
        }
    }
    g.finish();
}

fn bench_output_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("output_read");
    for ifhead in [false, true] {
        for size in [64usize, 576, 1500] {
            let s = setup(ifhead);
            let ifp = s.k.ifunit("tun0").unwrap();
            let payload = vec![0x45u8; size];
            let mut buf = vec![0u8; 2048];
            g.throughput(Throughput::Bytes(size as u64));
            let name = if ifhead { "ifhead" } else { "plain" };
            g.bench_with_input(BenchmarkId::new(name, size), &payload, |b, payload| {
                let _ctx = s.k.enter(100);
                b.iter(|| {
                    let m = s.k.mbufs().packet_from(payload, 0, None).unwrap();
                    let mut dst = SockAddr::inet([10, 0, 0, 2]);
                    ifp.output(m, &mut dst).unwrap();
                    black_box(s.fd.read(&mut buf, true).unwrap());
                })
            });
            assert_eq!(s.k.mbufs().live(), 0);
        }
    }
    g.finish();
}

criterion_group!(benches, bench_write, bench_output_read);
criterion_main!(benches);
