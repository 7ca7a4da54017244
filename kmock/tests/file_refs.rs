// SPDX-License-Identifier: BSD-2-Clause
//! The open file lives until its last reference goes (BSD's `fhold`/`fdrop`): `close`
//! while a call is still running on the file returns at once, and the last close (knote
//! detaches, then `d_close`) runs when that call returns, on its thread. Shown on a small
//! exclusive device whose `d_read` sleeps in `tsleep` for a message, with real threads and
//! in turn-taking mode.

use std::collections::VecDeque;
use std::sync::{mpsc, Arc as StdArc, Mutex};
use std::time::{Duration, Instant};

use kmock::alloc::flags::GFP_KERNEL;
use kmock::bsd::devfs::{
    make_dev, DevCloseArgs, DevKqfilterArgs, DevOpenArgs, DevOps, DevReadArgs, DevWriteArgs,
};
use kmock::bsd::errno::EWOULDBLOCK;
use kmock::bsd::kqueue::{knote_insert, knote_remove, FilterOps, KList, Knote, EVFILT_READ};
use kmock::bsd::sleep::{tsleep, wakeup, PCATCH};
use kmock::bsd::uio::{uiomove, IO_NDELAY};
use kmock::error::code::{EBUSY, EINTR, ENXIO};
use kmock::event::Event;
use kmock::sched::KthreadState;
use kmock::sync::Arc;
use kmock::{Kernel, Result};

const PID: i32 = 1;
const WATCHDOG: Duration = Duration::from_secs(20);

/// The device's state: an exclusive-open flag, queued messages, and a log of what the
/// entry points did, in order.
#[derive(Default)]
struct Box0 {
    open: Mutex<bool>,
    queue: Mutex<VecDeque<Vec<u8>>>,
    log: Mutex<Vec<String>>,
    klist: KList,
}

impl Box0 {
    fn push(&self, s: impl Into<String>) {
        self.log.lock().unwrap().push(s.into());
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

struct Mailbox {
    st: Arc<Box0>,
}

fn mb_detach(kn: &Knote) {
    if let Some(st) = kn.hook::<Box0>() {
        st.push(format!("detach {}", kn.id()));
        knote_remove(&st.klist, kn);
    }
}

fn mb_event(_kn: &Knote, _hint: i64) -> bool {
    false
}

static MB_FOPS: FilterOps = FilterOps {
    f_flags: 1,
    f_attach: None,
    f_detach: mb_detach,
    f_event: mb_event,
};

impl DevOps for Mailbox {
    fn d_name(&self) -> &'static str {
        "mailbox"
    }
    fn d_open(&self, _ap: &mut DevOpenArgs<'_>) -> Result {
        let mut open = self.st.open.lock().unwrap();
        if *open {
            self.st.push("open: EBUSY");
            return Err(EBUSY);
        }
        *open = true;
        self.st.push("open");
        Ok(())
    }
    fn d_close(&self, _ap: &mut DevCloseArgs<'_>) -> Result {
        *self.st.open.lock().unwrap() = false;
        self.st.queue.lock().unwrap().clear();
        self.st.push("close");
        Ok(())
    }
    fn d_read(&self, ap: &mut DevReadArgs<'_, '_>) -> Result {
        let mut q = self.st.queue.lock().unwrap();
        loop {
            if let Some(mut m) = q.pop_front() {
                drop(q);
                self.st
                    .push(format!("read {}", String::from_utf8_lossy(&m)));
                return uiomove(&mut m, ap.a_uio);
            }
            if ap.a_ioflag & IO_NDELAY != 0 {
                return Err(EWOULDBLOCK);
            }
            tsleep(&*self.st, PCATCH, "mailbox", 0, q)?;
            q = self.st.queue.lock().unwrap();
        }
    }
    fn d_write(&self, ap: &mut DevWriteArgs<'_, '_>) -> Result {
        let mut m = vec![0u8; ap.a_uio.resid()];
        uiomove(&mut m, ap.a_uio)?;
        self.st.queue.lock().unwrap().push_back(m);
        wakeup(&*self.st);
        Ok(())
    }
    fn d_kqfilter(&self, ap: &mut DevKqfilterArgs<'_>) -> Result {
        ap.a_kn.set_fop(&MB_FOPS);
        ap.a_kn.set_hook(self.st.clone());
        knote_insert(&self.st.klist, ap.a_kn);
        Ok(())
    }
}

/// A kernel with root process 1 and the device `mbox0`.
fn boot() -> (Kernel, Arc<Box0>) {
    let k = Kernel::new();
    k.proc_set(PID, PID, 1, 0).unwrap();
    let st = Arc::new(Box0::default(), GFP_KERNEL).unwrap();
    let ops = Arc::new(Mailbox { st: st.clone() }, GFP_KERNEL).unwrap();
    {
        let _c = k.enter(PID);
        make_dev(&ops, 0, 0, 0, 0o600, format_args!("mbox0")).unwrap();
    }
    (k, st)
}

/// What the rest of the system does to wake the reader: a message arrives (as `tunoutput`
/// queues a packet) and `wakeup` runs, without any descriptor.
fn deliver(k: &Kernel, st: &Box0, msg: &str) {
    let _c = k.enter(PID);
    st.queue.lock().unwrap().push_back(msg.as_bytes().to_vec());
    wakeup(st);
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < WATCHDOG, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Spawns a blocking reader of `f` on its own thread and waits until it sleeps.
fn blocked_reader(
    k: &Kernel,
    f: &StdArc<kmock::bsd::devfs::File>,
) -> mpsc::Receiver<Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    let before = k.sleepers().len();
    let f = f.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let r = f.read(&mut buf, false).map(|n| buf[..n].to_vec());
        tx.send(r).unwrap();
    });
    wait_until("the reader to sleep", || k.sleepers().len() > before);
    rx
}

#[test]
fn close_while_a_reader_sleeps_defers_d_close_until_the_read_returns() {
    let (k, st) = boot();
    let f = StdArc::new(k.dev_open("mbox0", PID).unwrap());
    let kn = Knote::new(7, EVFILT_READ);
    assert_eq!(f.kqfilter(&kn), Ok(false));
    let rx = blocked_reader(&k, &f);
    assert_eq!(f.calls_in_flight(), 1);

    k.record_events(true);
    // close returns at once, but the file is still open: d_close has not run.
    assert_eq!(f.close(), Ok(()));
    assert!(f.is_closing() && !f.is_closed());
    assert_eq!(st.log(), vec!["open"]);
    assert!(*st.open.lock().unwrap());
    assert!(k.take_events().is_empty(), "no knote detached yet");
    // New calls on the closed descriptor are refused; the reader sleeps on.
    assert_eq!(f.read(&mut [0u8; 8], true), Err(ENXIO));
    assert_eq!(f.write(b"x"), Err(ENXIO));
    assert_eq!(f.ioctl(0x2000_0000, &mut [0u8; 4]), Err(ENXIO));
    assert_eq!(f.kqfilter(&Knote::new(8, EVFILT_READ)), Err(ENXIO));
    assert_eq!(f.kqdel(7), Err(ENXIO));
    assert!(rx.try_recv().is_err());
    // A second close does nothing.
    assert_eq!(f.close(), Ok(()));
    // The device is still open: a reopen is refused by the driver.
    assert_eq!(k.dev_open("mbox0", PID).unwrap_err(), EBUSY);

    // The message wakes the reader, which reads it; only then does the last close run.
    deliver(&k, &st, "hello");
    let got = rx.recv_timeout(WATCHDOG).expect("reader not woken");
    assert_eq!(got.as_deref(), Ok(&b"hello"[..]));
    assert!(f.is_closed());
    assert_eq!(f.calls_in_flight(), 0);
    assert_eq!(
        st.log(),
        vec!["open", "open: EBUSY", "read hello", "detach 7", "close"]
    );
    let chan = kmock::bsd::sleep::chan(&*st);
    assert_eq!(
        k.take_events(),
        vec![
            Event::Wakeup {
                ident: chan,
                woken: 1
            },
            Event::KnoteDetached { id: 7 }
        ]
    );
    assert!(k.sleepers().is_empty());

    // Now a reopen gets a fresh file; the stale reader took nothing of it.
    let g = k.dev_open("mbox0", PID).unwrap();
    g.write(b"second").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(g.read(&mut buf, true), Ok(6));
    assert_eq!(&buf[..6], b"second");
    g.close().unwrap();
    assert_eq!(st.log().last().map(String::as_str), Some("close"));
}

#[test]
fn an_interrupted_reader_runs_the_deferred_close() {
    let (k, st) = boot();
    let f = StdArc::new(k.dev_open("mbox0", PID).unwrap());
    let rx = blocked_reader(&k, &f);
    f.close().unwrap();
    assert_eq!(st.log(), vec!["open"]);
    k.post_signal(PID, false).unwrap();
    assert_eq!(
        rx.recv_timeout(WATCHDOG).expect("reader not interrupted"),
        Err(EINTR)
    );
    k.clear_signal(PID);
    assert!(f.is_closed());
    assert_eq!(st.log(), vec!["open", "close"]);
    assert!(k.sleepers().is_empty());
    k.dev_open("mbox0", PID).unwrap().close().unwrap();
}

#[test]
fn the_last_of_several_calls_in_flight_closes() {
    let (k, st) = boot();
    let f = StdArc::new(k.dev_open("mbox0", PID).unwrap());
    let r1 = blocked_reader(&k, &f);
    let r2 = blocked_reader(&k, &f);
    assert_eq!(f.calls_in_flight(), 2);
    f.close().unwrap();
    // Each wakeup wakes both readers: one takes the message and returns, the other
    // sleeps again, and the file stays open.
    deliver(&k, &st, "one");
    wait_until("one reader to return", || f.calls_in_flight() == 1);
    wait_until("the other to sleep again", || k.sleepers().len() == 1);
    assert!(!f.is_closed());
    assert!(!st.log().contains(&"close".to_string()));
    deliver(&k, &st, "two");
    let mut got = [r1, r2].map(|rx| rx.recv_timeout(WATCHDOG).unwrap().unwrap());
    got.sort();
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
    assert!(f.is_closed());
    let log = st.log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[3], "close", "{log:?}");
}

#[test]
fn close_with_nothing_in_flight_closes_at_once() {
    let (k, st) = boot();
    let f = k.dev_open("mbox0", PID).unwrap();
    assert_eq!(f.calls_in_flight(), 0);
    f.write(b"left").unwrap();
    assert_eq!(f.close(), Ok(()));
    assert!(f.is_closed());
    assert_eq!(st.log(), vec!["open", "close"]);
    // Dropping a closed file does not close it again.
    drop(f);
    assert_eq!(st.log().len(), 2);
    // Dropping an open one closes it.
    let g = k.dev_open("mbox0", PID).unwrap();
    drop(g);
    assert_eq!(st.log(), vec!["open", "close", "open", "close"]);
}

#[test]
fn turn_taking_the_deferred_close_runs_when_the_woken_reader_is_resumed() {
    let (k, st) = boot();
    k.set_turn_taking(true);
    let _c = k.enter(PID);
    let f = StdArc::new(k.dev_open("mbox0", PID).unwrap());
    let f2 = f.clone();
    let (mut th, state) = k.kthread_spawn(PID, move || {
        let mut buf = [0u8; 16];
        f2.read(&mut buf, false).map(|n| buf[..n].to_vec())
    });
    assert!(matches!(state, KthreadState::Sleeping));
    f.close().unwrap();
    assert_eq!(st.log(), vec!["open"]);
    st.queue.lock().unwrap().push_back(b"hi".to_vec());
    assert_eq!(wakeup(&*st), 1);
    // Woken but not yet run: still open.
    assert!(!f.is_closed());
    assert_eq!(k.dev_open("mbox0", PID).unwrap_err(), EBUSY);
    match k.kthread_resume(&mut th).unwrap() {
        KthreadState::Done(r) => assert_eq!(r.as_deref(), Ok(&b"hi"[..])),
        KthreadState::Sleeping => panic!("the reader sleeps again"),
    }
    assert!(f.is_closed());
    assert_eq!(st.log(), vec!["open", "open: EBUSY", "read hi", "close"]);
}
