// SPDX-License-Identifier: BSD-2-Clause
//! Lifecycle orderings, in the style of Linux's `tools/testing/selftests/net/tun.c`: a
//! table of sequences of open, close, reopen, if_output, read (blocking and not), write,
//! ioctl, interface down/up, signal, bpf attach/detach and knote add/remove, each run on a
//! fresh kernel with real threads for the blocking reads. Every step's result must be one
//! the C allows in that state, and every sequence must end with no live mbuf, no sleeping
//! thread and a consistent softc.

mod common;

use std::sync::Arc as StdArc;
use std::thread::JoinHandle;

use common::*;
use if_tun::abi::*;
use if_tun::TunFlags;
use kernel::bsd::devfs::File;
use kernel::bsd::errno::{EHOSTDOWN, EWOULDBLOCK};
use kernel::bsd::ifnet::{ifioctl, IfFlags, IfIoctlArg};
use kernel::bsd::kqueue::{Knote, EVFILT_READ};
use kernel::error::code::{EBUSY, EINTR};
use kernel::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Open,
    Close,
    Output,
    ReadNb,
    ReadBlock,
    Write,
    Ifhead,
    Lmode,
    Async,
    IfDown,
    IfUp,
    Signal,
    BpfOn,
    BpfOff,
    KnoteAdd,
    KnoteDel,
}

use Step::*;

/// A blocking reader on its own thread.
struct Reader {
    h: JoinHandle<Result<usize>>,
}

struct Run {
    env: Env,
    fd: Option<StdArc<File>>,
    readers: Vec<Reader>,
    captures: usize,
    knotes: Vec<u64>,
    next_knote: u64,
    log: Vec<String>,
    /// Whether tun0 must be down at the end: a close took it down and no `IfUp` followed.
    expect_down: bool,
}

/// Threads asleep in `tunread` on tun0.
fn sleeping_readers(env: &Env) -> usize {
    let chan = env.softc("tun0").wait_channel();
    env.k
        .sleepers()
        .iter()
        .filter(|&&(_, ident, wmesg)| ident == chan && wmesg == "tunread")
        .count()
}

/// An IPv4 header-shaped payload (the driver does not parse it).
fn packet(tag: u8) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28];
    p.extend(std::iter::repeat_n(tag, 24));
    p
}

impl Run {
    fn new() -> Run {
        let env = boot();
        Run {
            env,
            fd: None,
            readers: Vec::new(),
            captures: 0,
            knotes: Vec::new(),
            next_knote: 1,
            log: Vec::new(),
            expect_down: true,
        }
    }

    fn open_flag(&self) -> bool {
        self.env.flags("tun0").contains(TunFlags::TUN_OPEN)
    }

    fn step(&mut self, s: Step) {
        let env = &self.env;
        // Before the first open there is no interface (tuncreate makes it): the
        // interface-side steps have nothing to act on.
        let has_if = env.k.ifunit("tun0").is_some();
        if !has_if && matches!(s, Output | IfDown | IfUp | BpfOn | BpfOff) {
            self.log.push(format!("{s:?}: no interface yet"));
            return;
        }
        match s {
            Open => {
                if self.fd.is_some() {
                    // A second open of an open unit is refused.
                    assert_eq!(env.k.dev_open("tun0", PID).err(), Some(EBUSY));
                    return;
                }
                match env.k.dev_open("tun0", PID) {
                    Ok(f) => self.fd = Some(StdArc::new(f)),
                    // Only while a reader of the previous descriptor is still inside
                    // tunread (the file lives until its last operation returns).
                    Err(e) => {
                        // (The reader may have returned since the open was refused.)
                        assert_eq!(e, EBUSY);
                        assert!(!self.readers.is_empty(), "EBUSY without a reader in flight");
                    }
                }
            }
            Close => {
                if let Some(f) = self.fd.take() {
                    assert_eq!(f.close(), Ok(()));
                    self.expect_down = true;
                }
            }
            Output => {
                let ifp = env.ifp("tun0");
                let before = self.open_flag();
                let r = env.output_inet(&ifp, &packet(1));
                // A deferred close (a reader of a closed descriptor returning) may run
                // meanwhile; the result must match the state on one side of it.
                let after = self.open_flag();
                let ok = r.is_ok() || r == Err(kernel::bsd::errno::ENOBUFS);
                let down = r == Err(EHOSTDOWN);
                if before == after {
                    assert!(
                        if before { ok } else { down },
                        "{r:?} with TUN_OPEN={before}"
                    );
                } else {
                    assert!(ok || down, "{r:?}");
                }
            }
            ReadNb => {
                if let Some(f) = &self.fd {
                    let mut buf = [0u8; 2048];
                    match f.read(&mut buf, true) {
                        Ok(n) => assert!(n > 0),
                        Err(e) => assert_eq!(e, EWOULDBLOCK),
                    }
                }
            }
            ReadBlock => {
                if let Some(f) = &self.fd {
                    let before = sleeping_readers(env);
                    let f = f.clone();
                    let k = env.k.clone();
                    let h = std::thread::spawn(move || {
                        let _c = k.enter(PID);
                        let mut buf = [0u8; 2048];
                        f.read(&mut buf, false)
                    });
                    // Wait until it sleeps in tunread or has returned.
                    wait_until(10, "the reader to sleep or return", || {
                        h.is_finished() || sleeping_readers(env) > before
                    });
                    self.readers.push(Reader { h });
                }
            }
            Write => {
                if let Some(f) = &self.fd {
                    let p = packet(2);
                    let r = f.write(&p);
                    assert!(r == Ok(p.len()) || r.is_err(), "{r:?}");
                }
            }
            Ifhead | Lmode | Async => {
                if let Some(f) = &self.fd {
                    let cmd = match s {
                        Ifhead => TUNSIFHEAD,
                        Lmode => TUNSLMODE,
                        _ => FIOASYNC,
                    };
                    assert_eq!(f.ioctl(cmd, &mut 1i32.to_ne_bytes()), Ok(()));
                }
            }
            IfDown | IfUp => {
                let ifp = env.ifp("tun0");
                let mut f = ifp.flags().get();
                f.set(IfFlags::IFF_UP, s == IfUp);
                ifioctl(
                    &*ifp,
                    SIOCSIFFLAGS,
                    IfIoctlArg::Int(f.bits() as i32),
                    &env.root(),
                )
                .unwrap();
                assert_eq!(ifp.flags().get().contains(IfFlags::IFF_UP), s == IfUp);
                self.expect_down = s == IfDown;
            }
            Signal => self.release_readers(),
            BpfOn => {
                let _ = Capture::attach(&env.ifp("tun0"));
                self.captures += 1;
            }
            BpfOff => {
                if self.captures > 0 {
                    assert!(env.ifp("tun0").bpf().detach_last());
                    self.captures -= 1;
                }
            }
            KnoteAdd => {
                if let Some(f) = &self.fd {
                    let id = self.next_knote;
                    self.next_knote += 1;
                    f.kqfilter(&Knote::new(id, EVFILT_READ)).unwrap();
                    self.knotes.push(id);
                }
            }
            KnoteDel => {
                if let (Some(f), Some(id)) = (&self.fd, self.knotes.pop()) {
                    assert_eq!(f.kqdel(id), Ok(()));
                }
            }
        }
    }

    /// Signals the process until every reader thread has returned (with data, or EINTR).
    fn release_readers(&mut self) {
        for r in self.readers.drain(..) {
            wait_until(10, "a signalled reader to return", || {
                if !r.h.is_finished() {
                    let _ = self.env.k.post_signal(PID, false);
                }
                r.h.is_finished()
            });
            match r.h.join().unwrap() {
                Ok(n) => assert!(n > 0),
                Err(e) => assert_eq!(e, EINTR),
            }
        }
        self.env.k.clear_signal(PID);
    }

    fn finish(mut self, seq: &[Step]) {
        self.release_readers();
        if let Some(f) = self.fd.take() {
            assert_eq!(f.close(), Ok(()));
            self.expect_down = true;
        }
        let env = &self.env;
        assert!(
            env.k.sleepers().is_empty(),
            "{seq:?}: a thread still sleeps"
        );
        if env.k.ifunit("tun0").is_none() {
            // Never opened: nothing was created.
            assert!(env
                .k
                .devfs()
                .lookup("tun0")
                .unwrap()
                .si_drv1::<if_tun::TunSoftc>()
                .is_none());
            self.env.finish();
            return;
        }
        let st = env.status("tun0");
        assert!(!st.flags.contains(TunFlags::TUN_OPEN), "{seq:?}: {st:?}");
        assert_eq!(st.pid, 0, "{seq:?}");
        assert!(
            !(st.flags.contains(TunFlags::TUN_LMODE) && st.flags.contains(TunFlags::TUN_IFHEAD)),
            "{seq:?}: {st:?}"
        );
        assert!(st.knotes.is_empty(), "{seq:?}: knotes left {:?}", st.knotes);
        assert_eq!(qlen(&env.ifp("tun0")), 0, "{seq:?}: close purges the queue");
        if self.expect_down {
            let up = env.ifp("tun0").flags().get().contains(IfFlags::IFF_UP);
            assert!(!up, "{seq:?}: close takes tun0 down");
        }
        // A fresh open works after any sequence.
        let f = env
            .k
            .dev_open("tun0", PID)
            .expect("reopen after the sequence");
        drop(f);
        let _ = &self.log;
        self.env.finish();
    }
}

fn run(seq: &[Step]) {
    let mut r = Run::new();
    for &s in seq {
        r.step(s);
    }
    r.finish(seq);
}

/// The hand-written orderings (what selftests/net/tun.c's cases exercise, and more).
const ORDERINGS: &[&[Step]] = &[
    &[Open, Close],
    &[Open, Close, Open, Close],
    &[Open, Open, Close],
    &[Close, Open, Close, Close],
    &[Output, Open, Output, ReadNb, Close],
    &[Open, ReadNb, Output, ReadNb, ReadNb, Close],
    &[Open, ReadBlock, Output, Close],
    &[Open, ReadBlock, Signal, Output, ReadNb, Close],
    &[Open, ReadBlock, Close, Output, Open, Output, Close],
    &[Open, ReadBlock, Close, Open, Output, ReadNb, Close],
    &[Open, ReadBlock, ReadBlock, Output, Output, Close],
    &[Open, Output, Output, Close, Open, ReadNb, Close],
    &[Open, Write, Write, Output, Close],
    &[
        Open, Ifhead, Output, Write, ReadNb, Lmode, Output, ReadNb, Close,
    ],
    &[Open, Async, Output, Close, Open, Output, Close],
    &[Open, IfUp, Output, IfDown, Output, ReadNb, IfUp, Close],
    &[IfUp, Open, IfDown, Close, IfUp],
    &[Open, BpfOn, Output, Write, BpfOff, Output, Close],
    &[BpfOn, Open, Ifhead, Write, Output, Close, BpfOff],
    &[Open, KnoteAdd, Output, KnoteAdd, KnoteDel, Close],
    &[Open, KnoteAdd, KnoteAdd, Close, Open, KnoteAdd, Close],
    &[Open, KnoteAdd, ReadBlock, Output, KnoteDel, Close],
    &[Open, ReadBlock, Signal, ReadBlock, Close],
    &[Open, Signal, ReadNb, Close],
    &[Open, Output, IfDown, ReadNb, Close],
    &[
        Open, Lmode, ReadBlock, Output, Ifhead, Output, ReadNb, Close,
    ],
];

#[test]
fn lifecycle_orderings_table() {
    for seq in ORDERINGS {
        watchdog(60, move || run(seq));
    }
    println!("{} hand-written orderings", ORDERINGS.len());
}

/// Every permutation of `steps`.
fn permutations(steps: &[Step]) -> Vec<Vec<Step>> {
    if steps.len() <= 1 {
        return vec![steps.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..steps.len() {
        let mut rest = steps.to_vec();
        let s = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, s);
            out.push(p);
        }
    }
    out
}

#[test]
fn every_ordering_of_open_output_blocking_read_close_and_signal() {
    let perms = permutations(&[Open, Output, ReadBlock, Close, Signal]);
    assert_eq!(perms.len(), 120);
    for p in &perms {
        // Each after an initial open, so a reader can block at any position.
        let mut seq = vec![Open];
        seq.extend_from_slice(p);
        watchdog(60, move || run(&seq));
    }
    println!(
        "{} permutations of open/output/read/close/signal",
        perms.len()
    );
}

#[test]
fn every_ordering_of_knotes_bpf_and_interface_flags_around_io() {
    let perms = permutations(&[KnoteAdd, BpfOn, IfUp, Output, Write]);
    for p in &perms {
        let mut seq = vec![Open];
        seq.extend_from_slice(p);
        seq.extend_from_slice(&[KnoteDel, BpfOff, IfDown, Close]);
        watchdog(60, move || run(&seq));
    }
    println!(
        "{} permutations of knote/bpf/ifup/output/write",
        perms.len()
    );
}
