// SPDX-License-Identifier: BSD-2-Clause
//! # kmock: the kernel services the tun driver runs on
//!
//! The API the Rust port of DragonFly's `if_tun.c` is written against, and a userspace
//! implementation of it. The driver (crate `if_tun`) sees this crate as `kernel` and reads
//! like an upstream Rust-for-Linux driver (`use kernel::prelude::*;`), while calling the BSD
//! services the C calls (`m_gethdr`, `uiomove`, `ifq_handoff`, `tsleep`, `knote`,
//! `pgsigio`, `make_dev`, …) under their C names. Everything runs in one process: a test
//! boots a [`Kernel`], loads a module into it, opens its device nodes as a process would,
//! and inspects what the kernel saw (mbufs live, netisr queues, signals delivered, events).
//!
//! ## Layers (imports run one way, top to bottom)
//!
//! - **The Rust-for-Linux face** — [`prelude`], [`alloc`] ([`alloc::KBox`],
//!   [`alloc::KVec`], [`alloc::flags::GFP_KERNEL`]…), [`sync`] ([`sync::Arc`],
//!   [`sync::Mutex`], [`sync::SpinLock`], [`sync::CondVar`]), [`init`], [`error`],
//!   [`uaccess`], [`print`](mod@print) (`pr_*!`), [`module`](mod@module)
//!   ([`module::Module`], `module!`): the names and signatures of the `kernel` crate of
//!   Linux 6.12, every allocation fallible.
//! - **The BSD face** — [`bsd`]: mbufs, uio, ifnet, ifq, bpf, netisr, devfs, credentials,
//!   sleep/wakeup, kqueue, sigio, sysctl, processes, errno: the DragonFly API the driver
//!   calls, with its semantics in the docs. Only `core`/`alloc` types in signatures,
//!   fallible allocation as `Option`/`Result`, errnos instead of panics.
//! - **The door** — [`door`]: the list of functions and types an implementation provides.
//!   Both faces reach an implementation only through it (as Rust-for-Linux reaches C only
//!   through `bindings`).
//! - **The host implementation** — [`host`]: the [`Kernel`] instance (one per test, no
//!   globals), events, turn-taking threads, sleep queues, processes, the mbuf zone, devfs
//!   and open files, the interface list and generic ifioctl, netisr queues, bpf listeners,
//!   sysctls, module loading, allocation-failure injection. It names no API service module,
//!   only the leaf vocabulary (errnos, `uaccess`, `uio`, `cred`, `socket`, `ioccom`,
//!   `ifdefs`, `param`), which imports nothing above it.
//!
//! ```text
//! driver (if_tun)   use kernel::prelude::*; use kernel::bsd::*;
//!    ▼
//! kmock API         prelude · alloc · sync · init · error · uaccess · print · module
//!                   bsd::{mbuf, uio, ifnet, ifq, bpf, netisr, devfs, sleep, kqueue, sigio, …}
//!    ▼
//! kmock::door       alloc_fails, mbuf_alloc, emit, curproc, tsleep/wakeup, netisr_queue,
//!                   devfs_publish, ifnet_attach, ifioctl, bpf_new, sysctl_int, module_init…
//!    ▼
//! kmock::host       Kernel, File, sleep queues, mbuf zone, devfs table, interface list…
//! ```
//!
//! The second implementation, kshim (`kmock/linux`, built by Kbuild into `if_tun.ko`),
//! replaces `host` and the door's bodies with Linux 6.12: the real Rust-for-Linux face,
//! kmock's own leaf files and `bsd::mbuf` compiled with `--cfg kernel`, and the other BSD
//! services on `net_device`, wait queues, `poll` and `kill_pid` (see `docs/kernel.md`).
//! The faces and the driver stay as they are; `docs/porting-guide.md` lists every
//! DragonFly call of the C with its item here, its host body and its Linux body.
//!
//! kmock has no `unsafe` (`#![forbid(unsafe_code)]`).
//!
//! ## Lock map
//!
//! The locks the API hands a driver, what each protects and the order they nest in (the
//! tun driver's use of them is the lock map on `if_tun::TunSoftc`):
//!
//! | lock | protects | taken by |
//! |---|---|---|
//! | the ifnet serializer | the interface's send queue `if_snd` and the driver's [`IfnetOps::Serialized`](bsd::ifnet::IfnetOps::Serialized) state (tun: `tun_flags`, `tun_pid`) | [`ifnet_serialize_all`](bsd::ifnet::ifnet_serialize_all), whose [`SerializeGuard`](bsd::ifnet::SerializeGuard) is the only way to them; [`ifq_handoff`](bsd::ifnet::ifq_handoff) and `if_start` receive the caller's guard |
//! | a sleep queue | the sleepers of a wait channel | [`tsleep`](bsd::sleep::tsleep) (which takes a guard as its interlock and drops it only once the thread is queued) and [`wakeup`](bsd::sleep::wakeup) |
//! | a [`SigioSlot`](bsd::sigio::SigioSlot)'s lock | the SIGIO owner | `fsetown`, `fgetown`, `funsetown`, `pgsigio` |
//! | a [`KList`](bsd::kqueue::KList)'s lock | the knotes attached to it | `knote_insert`, `knote_remove`; [`knote`](bsd::kqueue::knote) copies the list and runs the filters unlocked |
//! | the interface's address lock | its address list | the generic ifioctl, `if_purgeaddrs_nolink`, `Ifnet::if_addrs` (a copy) |
//!
//! Order: the serializer first; inside it, the sleep queue, the sigio lock and the klist
//! lock. `KNOTE` must run with the serializer released
//! ([`SerializeGuard::deserialized`](bsd::ifnet::SerializeGuard::deserialized)), because a
//! read filter takes it. Interface flags, mtu and counters are atomics and need no lock.
//!
//! ## A user's view: a small device and the program that uses it
//!
//! In the style of Rust-for-Linux's `samples/rust/rust_misc_device.rs`: a driver, its
//! module, and the user-side program that exercises it, in one place. `mbox0` holds one
//! message in one mbuf: `write(2)` replaces it, `read(2)` takes it. (The tun driver's own
//! example, the same steps with a network interface behind the device, is on crate
//! `if_tun`.)
//!
//! ```rust
//! use kmock::bsd::cred::{GID_DIALER, UID_UUCP};
//! use kmock::bsd::devfs::{destroy_dev, make_dev, Cdev, DevCloseArgs, DevOpenArgs, DevOps};
//! use kmock::bsd::devfs::{DevReadArgs, DevWriteArgs};
//! use kmock::bsd::errno::{ENOBUFS, EWOULDBLOCK};
//! use kmock::bsd::mbuf::{m_gethdr, MbufBox, MB_DONTWAIT, MHLEN, MT_DATA};
//! use kmock::bsd::uio::uiomove;
//! use kmock::prelude::*;
//! use kmock::sync::Arc;
//! use kmock::Kernel;
//!
//! /// `static struct dev_ops mbox_ops`.
//! struct MboxOps;
//! /// The softc (`dev->si_drv1`): the message, if any.
//! struct Mbox {
//!     msg: Mutex<Option<MbufBox>>,
//! }
//!
//! impl DevOps for MboxOps {
//!     fn d_name(&self) -> &'static str {
//!         "mbox"
//!     }
//!     fn d_open(&self, _ap: &mut DevOpenArgs<'_>) -> Result {
//!         Ok(())
//!     }
//!     fn d_close(&self, _ap: &mut DevCloseArgs<'_>) -> Result {
//!         Ok(())
//!     }
//!     fn d_write(&self, ap: &mut DevWriteArgs<'_, '_>) -> Result {
//!         let sc = ap.a_dev.si_drv1::<Mbox>().ok_or(ENXIO)?;
//!         if ap.a_uio.resid() > MHLEN {
//!             return Err(EINVAL); // one header mbuf only
//!         }
//!         let mut m = m_gethdr(MB_DONTWAIT, MT_DATA).ok_or(ENOBUFS)?; // MGETHDR
//!         m.set_len(ap.a_uio.resid())?;
//!         uiomove(m.data_mut(), ap.a_uio)?; // on error `m` is dropped: freed
//!         *sc.msg.lock() = Some(m); // the old message, if any, is freed here
//!         Ok(())
//!     }
//!     fn d_read(&self, ap: &mut DevReadArgs<'_, '_>) -> Result {
//!         let sc = ap.a_dev.si_drv1::<Mbox>().ok_or(ENXIO)?;
//!         let Some(mut m) = sc.msg.lock().take() else {
//!             return Err(EWOULDBLOCK);
//!         };
//!         let n = m.len().min(ap.a_uio.resid());
//!         uiomove(&mut m.data_mut()[..n], ap.a_uio) // `m` is freed on return (m_freem)
//!     }
//! }
//!
//! struct MboxModule {
//!     dev: Arc<Cdev>,
//! }
//!
//! impl kmock::module::Module for MboxModule {
//!     fn init(_module: &'static ThisModule) -> Result<Self> {
//!         let ops = Arc::new(MboxOps, GFP_KERNEL)?;
//!         let dev = make_dev(&ops, 0, UID_UUCP, GID_DIALER, 0o600, format_args!("mbox0"))?;
//!         dev.set_si_drv1(Arc::new(Mbox { msg: Mutex::new(None) }, GFP_KERNEL)?);
//!         Ok(MboxModule { dev })
//!     }
//! }
//!
//! impl Drop for MboxModule {
//!     fn drop(&mut self) {
//!         drop(self.dev.take_si_drv1::<Mbox>()); // frees a message left behind
//!         destroy_dev(&self.dev);
//!     }
//! }
//!
//! kmock::module! {
//!     type: MboxModule,
//!     name: "mbox",
//!     author: "A. Porter",
//!     description: "A one-message mailbox",
//!     license: "Dual BSD/GPL",
//! }
//!
//! // The user side: boot, load, open, write, read, close, unload.
//! let k = Kernel::new();
//! k.proc_set(100, 100, 1, 0)?; // pid 100, pgrp 100, session 1, uid 0
//! k.proc_set(200, 200, 2, 1000)?; // an ordinary user
//! let module = kmock::module::load::<MboxModule>(&k)?;
//!
//! assert_eq!(k.dev_open("mbox0", 200).err(), Some(EACCES)); // mode 0600 uucp:dialer
//! let fd = k.dev_open("mbox0", 100)?;
//! let mut buf = [0u8; 64];
//! assert_eq!(fd.read(&mut buf, true), Err(EWOULDBLOCK)); // nothing yet
//! assert_eq!(fd.write(b"hello, kernel")?, 13);
//! assert_eq!(k.mbufs().live(), 1); // the message, in one mbuf
//! let n = fd.read(&mut buf, true)?;
//! assert_eq!(&buf[..n], b"hello, kernel");
//! assert_eq!(fd.write(&[0u8; MHLEN + 1]), Err(EINVAL));
//! fd.close()?;
//! drop(module); // unload: the node is gone
//! assert!(k.devfs().lookup("mbox0").is_none());
//! assert_eq!(k.mbufs().live(), 0, "no mbuf leaked");
//! # Ok::<(), kmock::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate std;

pub mod alloc;
pub mod bsd;
pub mod door;
pub mod error;
pub mod host;
pub mod init;
pub mod module;
mod platform;
pub mod prelude;
pub mod print;
pub mod static_assert;
pub mod sync;
pub mod uaccess;

pub use error::{Error, Result};
pub use host::event;
pub use host::kernel::{ContextGuard, Kernel};
pub use host::sched;
