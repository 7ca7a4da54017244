// SPDX-License-Identifier: BSD-2-Clause
//! # if_tun: DragonFly BSD's tun driver, in Rust
//!
//! A function-by-function port of `sys/net/tun/if_tun.c` (DragonFly BSD, 2010–11;
//! originally by Julian Onions, Nottingham University 1987, via NetBSD and FreeBSD),
//! written the way a Rust-for-Linux driver is written and running on [`kernel`] — kmock
//! on the host, kshim (`kmock/linux`) inside Linux 6.12.
//!
//! The tun device is a network interface whose "wire" is a character device. Packets the
//! network stack sends out of `tunN` are queued on the interface and read, one per
//! `read(2)`, from `/dev/tunN`; each `write(2)` to `/dev/tunN` is one packet that enters
//! the stack as if it had been received on `tunN`. A VPN daemon is the typical user: it
//! reads what the host routes into the tunnel, encrypts it, and writes back what arrives
//! from the far end.
//!
//! ## The two sides and their entry points
//!
//! | side | C entry point | Rust | who calls it |
//! |---|---|---|---|
//! | device | `d_open`, `d_close` | [`if_tun::tunopen`], [`if_tun::tunclose`] | `open(2)`, the last `close(2)` |
//! | device | `d_read`, `d_write` | [`if_tun::tunread`], [`if_tun::tunwrite`] | `read(2)`, `write(2)` |
//! | device | `d_ioctl` | [`if_tun::tunioctl`] | `ioctl(2)` on the descriptor (`TUNSIFHEAD`, `FIONREAD`, `FIOASYNC`…) |
//! | device | `d_kqfilter` | [`if_tun::tunkqfilter`] | `kevent(2)` (`poll(2)` on Linux) |
//! | device | `d_clone` | [`if_tun::tunclone`] | opening the autoclone node `/dev/tun` |
//! | interface | `if_output` | [`if_tun::tunoutput`] | the stack, for every packet routed to `tunN` |
//! | interface | `if_ioctl` | [`if_tun::tunifioctl`] | the generic `ifioctl()` (`ifconfig tunN …`) |
//! | interface | `if_start` | [`if_tun::tunstart`] | `ifq_handoff`, with the interface serialized |
//!
//! [`TunOps`] is the C's `static struct dev_ops tun_ops`: its [`DevOps`](kernel::bsd::devfs::DevOps) methods only
//! dispatch to the functions above. The interface methods are the [`IfnetOps`](kernel::bsd::ifnet::IfnetOps) impl of
//! [`TunSoftc`]. [`TunModule`] is the module: loading it runs [`if_tun::tunattach`]
//! (the C's `PSEUDO_SET(tunattach, if_tun)`), dropping it runs [`if_tun::tununload`].
//!
//! ## Layout (beside the C)
//!
//! - [`if_tun`]: every function of the C, in the C's order, named after it, with the
//!   C's line range in its doc comment: `tunattach`, `tunclone`, `tuncreate`, `tunopen`,
//!   `tunclose`, `tuninit`, `tunifioctl`, `tunoutput_serialized`, `tunoutput`, `tunioctl`,
//!   `tunread`, `tunwrite`, `tunkqfilter`, `tun_filter_detach`, `tun_filter_write`,
//!   `tun_filter_read`, `tunstart`; plus `tununload`, which the C has not (its module
//!   cannot be unloaded). `docs/porting-guide.md` maps each one to its C lines and tests.
//! - [`softc`]: `struct tun_softc` ([`TunSoftc`]), its flags ([`TunFlags`]) and its lock
//!   map.
//! - [`abi`]: `struct tuninfo` and the ioctl numbers, checked against the C's sizes at
//!   compile time.
//!
//! ## Layering
//!
//! ```text
//! if_tun (this crate)  #![no_std], #![forbid(unsafe_code)], no `alloc` crate
//!    │  use kernel::prelude::*; use kernel::sync::Arc; use kernel::bsd::*;
//!    ▼
//! `kernel` = the API: the Rust-for-Linux face (alloc, sync, init, error, uaccess, print,
//!            module) and the BSD face (bsd::{mbuf, uio, ifnet, ifq, bpf, netisr, devfs,
//!            sleep, kqueue, sigio, sysctl, proc, cred, …})
//!    ▼
//! an implementation of that API, chosen at build time:
//!    kmock (cargo; the host: kmock::door → kmock::host, one `Kernel` value per test)
//!    kshim (Kbuild; kmock/linux: Linux 6.12's Rust + glue.c → if_tun.ko)
//! ```
//!
//! The driver is the same source in both builds. It allocates only through fallible,
//! flag-taking calls (`Arc::new(x, GFP_KERNEL)?`, `Ifnet::new(.., GFP_KERNEL)?`,
//! `m_gethdr(MB_DONTWAIT, MT_DATA)` returning an `Option`), returns
//! [`Result`] where the C returns an errno `int`, and frees an mbuf
//! chain by dropping the [`MbufBox`](kernel::bsd::mbuf::MbufBox) that owns it.
//!
//! ## Lock map
//!
//! The C protects `tun_flags` partly with the interface serializer and partly with the MP
//! lock. Here every field has one owner, and the fields the serializer protects can only be
//! reached through its guard (the full table is on [`TunSoftc`]):
//!
//! | field (C) | where it lives | protected by |
//! |---|---|---|
//! | `tun_flags`, `tun_pid` | [`TunSerialized`](softc::TunSerialized), inside `tun_if`'s serializer | the ifnet serializer ([`ifnet_serialize_all`](kernel::bsd::ifnet::ifnet_serialize_all) returns the guard) |
//! | `tun_if.if_snd` | beside them in the serializer's state | the ifnet serializer |
//! | `tun_if` flags, mtu, type, baudrate, counters | atomics of the `Ifnet` | none needed |
//! | `tun_if` address list | the `Ifnet` | kmock's address-list lock |
//! | `tun_sigio` | [`SigioSlot`](kernel::bsd::sigio::SigioSlot) | its own lock (the C used the MP lock) |
//! | `tun_rkq` | [`KList`](kernel::bsd::kqueue::KList) | the klist's lock |
//!
//! Order: the serializer first; inside it the sleep queue (`wakeup`, and `tsleep`, which
//! takes the guard as its interlock), the sigio lock and the klist lock. `KNOTE` runs with
//! the serializer released (`g.deserialized(|| knote(..))`) because the read filter takes
//! it.
//!
//! ## A user's view
//!
//! What a VPN daemon and the network stack do to one unit, in one program: boot a kernel,
//! load the module, open `/dev/tun0`, configure `tun0` through the generic interface
//! ioctls (as `ifconfig tun0 10.0.0.1 10.0.0.2` would), write a packet that reaches the
//! stack's IP input queue (netisr), let the stack output a packet and read it back, with a
//! kqueue knote and SIGIO watching, and check that no mbuf leaked.
//!
//! ```rust
//! use if_tun::{TunFlags, TunModule, TunSoftc};
//! use kernel::bsd::ifnet::{ifioctl, ifnet_serialize_all, IfFlags, IfHost, IfIoctlArg, IfnetDyn};
//! use kernel::bsd::ioccom::{FIOASYNC, FIONREAD, FIOSETOWN, SIOCSIFADDR, SIOCSIFDSTADDR};
//! use kernel::bsd::kqueue::{Knote, EVFILT_READ};
//! use kernel::bsd::netisr::NETISR_IP;
//! use kernel::bsd::sigio::SIGIO;
//! use kernel::bsd::socket::SockAddr;
//! use kernel::Kernel;
//!
//! // Boot: one kernel, one root process (pid 100, process group 100, session 1, uid 0).
//! let k = Kernel::new();
//! k.proc_set(100, 100, 1, 0)?;
//! let module = kernel::module::load::<TunModule>(&k)?; // tunattach: /dev/tun, tun0..tun3
//! let _ctx = k.enter(100); // this thread now runs as pid 100
//!
//! // open("/dev/tun0", O_RDWR): the first open runs tuncreate (softc + interface tun0).
//! let fd = k.dev_open("tun0", 100)?;
//! let ifp = k.ifunit("tun0").expect("tuncreate attached tun0");
//!
//! // ifconfig tun0 10.0.0.1 10.0.0.2: the generic layer records the addresses and calls
//! // tunifioctl(SIOCSIFADDR / SIOCSIFDSTADDR), whose tuninit marks the interface up.
//! let root = k.proc_cred(100).expect("pid 100 exists");
//! ifioctl(&*ifp, SIOCSIFADDR, IfIoctlArg::Inet([10, 0, 0, 1]), &root)?;
//! ifioctl(&*ifp, SIOCSIFDSTADDR, IfIoctlArg::Inet([10, 0, 0, 2]), &root)?;
//! assert!(ifp.flags().get().contains(IfFlags::IFF_UP | IfFlags::IFF_RUNNING));
//!
//! // The softc's flags live behind the interface serializer: take it to look.
//! let sc = k.devfs().lookup("tun0").unwrap().si_drv1::<TunSoftc>().unwrap();
//! let flags = ifnet_serialize_all(&sc.tun_if).sc.tun_flags;
//! assert!(flags.contains(TunFlags::TUN_READY | TunFlags::TUN_IASET));
//!
//! // The daemon asks for SIGIO on output (fcntl(F_SETOWN) + FIOASYNC) and adds a read
//! // knote (kevent(EVFILT_READ)); nothing is queued, so the knote is not ready.
//! fd.ioctl(FIOSETOWN, &mut 100i32.to_ne_bytes())?;
//! fd.ioctl(FIOASYNC, &mut 1i32.to_ne_bytes())?;
//! let kn = Knote::new(1, EVFILT_READ);
//! assert!(!fd.kqfilter(&kn)?);
//!
//! // write(2): tunwrite copies the packet into an mbuf chain and hands it to NETISR_IP.
//! let ping: [u8; 20] = [
//!     0x45, 0, 0, 20, 0, 1, 0, 0, 64, 1, 0, 0, // IPv4 header, 20 bytes, ICMP
//!     10, 0, 0, 2, 10, 0, 0, 1, //                from 10.0.0.2 to 10.0.0.1
//! ];
//! assert_eq!(fd.write(&ping)?, ping.len());
//! let m = k.netisr().dequeue(NETISR_IP).expect("the packet reached the IP input queue");
//! assert_eq!(m.to_vec(), ping);
//! assert_eq!(ifp.stats().ipackets, 1);
//! drop(m); // the protocol is done with it: the chain goes back to the mbuf zone
//!
//! // The stack sends a reply out of tun0: if_output → tunoutput queues it on if_snd,
//! // then notifies the reader (wakeup, SIGIO, KNOTE).
//! let pong: [u8; 20] = [
//!     0x45, 0, 0, 20, 0, 2, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
//! ];
//! let m = k.mbufs().packet_from(&pong, 0, None)?;
//! ifp.output(m, &mut SockAddr::inet([10, 0, 0, 2]))?;
//! assert_eq!(ifp.stats().opackets, 1);
//! assert!(kn.check(0)); //                                  the read knote is ready
//! assert_eq!(k.take_proc_signals(100), vec![SIGIO]); //     and pid 100 got SIGIO
//!
//! // FIONREAD says how long the next packet is; read(2) returns exactly that packet.
//! let mut n = [0u8; 4];
//! fd.ioctl(FIONREAD, &mut n)?;
//! assert_eq!(i32::from_ne_bytes(n), 20);
//! let mut buf = [0u8; 1500];
//! let got = fd.read(&mut buf, true)?; // O_NONBLOCK: would be EWOULDBLOCK if empty
//! assert_eq!(&buf[..got], &pong);
//!
//! // close(2) runs tunclose (queue purged, interface down); unloading runs tununload.
//! fd.close()?;
//! drop(module);
//! assert_eq!(k.mbufs().live(), 0, "no mbuf leaked");
//! # Ok::<(), kernel::error::Error>(())
//! ```
//!
//! The same conversation with the real module, from C: `kernel/test/tuntest.c` is the
//! program `make kernel-test` runs inside a qemu guest after `insmod if_tun.ko` (it uses
//! DragonFly's ioctl numbers, which the module keeps; `docs/kernel.md`). Its core, cut
//! down (error handling and the packet builders left out):
//!
//! ```c
//! #define BSD_FIONREAD 0x4004667fUL          /* DragonFly's _IOR('f', 127, int) */
//!
//! int tunfd = open("/dev/tun0", O_RDWR);     /* tunopen; the first open runs tuncreate */
//! int ifsock = socket(AF_INET, SOCK_DGRAM, 0);
//! struct ifreq ifr;                          /* ifconfig tun0 10.0.0.1 10.0.0.2 up */
//! struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
//! memset(&ifr, 0, sizeof(ifr));
//! snprintf(ifr.ifr_name, IFNAMSIZ, "%s", "tun0");
//! sin->sin_family = AF_INET;
//! sin->sin_addr.s_addr = inet_addr("10.0.0.1");
//! ioctl(ifsock, SIOCSIFADDR, &ifr);          /* reaches tunifioctl -> tuninit */
//! sin->sin_addr.s_addr = inet_addr("10.0.0.2");
//! ioctl(ifsock, SIOCSIFDSTADDR, &ifr);
//! /* ... SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP | IFF_RUNNING ... */
//!
//! write(tunfd, pkt, len);                    /* tunwrite -> netisr: the stack receives it */
//!
//! sendto(udp, "fionread probe", 14, 0, (struct sockaddr *)&peer, sizeof(peer));
//! int n;                                     /* routed out of tun0: tunoutput queues it */
//! ioctl(tunfd, BSD_FIONREAD, &n);            /* 20 + 8 + 14 */
//! struct pollfd pfd = { tunfd, POLLIN, 0 };
//! poll(&pfd, 1, 5000);                       /* tunkqfilter's read filter, through poll */
//! read(tunfd, buf, sizeof(buf));             /* tunread: one whole packet */
//! close(tunfd);                              /* tunclose */
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
pub mod if_tun;
pub mod softc;

use kernel::prelude::*;
use kernel::sync::Arc;

pub use if_tun::TunOps;
pub use softc::{TunFlags, TunSoftc};

/// The loaded driver: the `PSEUDO_SET(tunattach, if_tun)` registration (if_tun.c:65–66).
pub struct TunModule {
    ops: Arc<TunOps>,
}

impl TunModule {
    /// The device operations (`tun_ops`) and clone bitmap.
    pub fn ops(&self) -> &Arc<TunOps> {
        &self.ops
    }
}

impl kernel::module::Module for TunModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(TunModule {
            ops: if_tun::tunattach()?,
        })
    }
}

impl Drop for TunModule {
    /// Unload: [`if_tun::tununload`] tears every unit down.
    fn drop(&mut self) {
        if_tun::tununload(&self.ops);
    }
}

module! {
    type: TunModule,
    name: "if_tun",
    author: "Julian Onions (original); the if_tun Rust port authors",
    description: "Tunnel network interface: packets between a network stack and a user process",
    // Every Rust symbol of Linux is GPL-only: a BSD-2-Clause module fails modpost. The
    // source is BSD-2-Clause; "Dual BSD/GPL" says it may be used under either.
    license: "Dual BSD/GPL",
}
