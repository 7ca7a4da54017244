// SPDX-License-Identifier: BSD-2-Clause
//! The OS threads kernel threads run on ([`super::sched`]), pooled per kernel: a kernel
//! thread that finished leaves its OS thread idle for the next `Kernel::kthread_spawn`, so a
//! scenario's thousands of reads (each one a kernel thread, most finishing at once) cost a
//! handoff each, not a thread creation and exit (~70 µs each here, growing with the
//! process's mappings). A leaf: it knows nothing of kernels, only of jobs to run.

use std::boxed::Box;
use std::sync::Arc;
use std::sync::{Condvar as StdCondvar, Mutex as StdMutex};
use std::vec::Vec;

/// How many idle OS threads a kernel keeps for its next kernel threads; more exit.
pub const IDLE_WORKERS_MAX: usize = 64;

/// A kernel thread's body, as a worker runs it. It calls its argument just before it hands
/// the turn back: the worker is idle from then on (so the next spawn finds it, whatever
/// the OS scheduler does meanwhile).
pub(crate) type Job = Box<dyn FnOnce(&dyn Fn()) + Send>;

/// What an idle worker is told.
enum Order {
    Run(Job),
    Exit,
}

/// One OS thread of the pool, and what it is told to do next.
struct Worker {
    order: StdMutex<Option<Order>>,
    cv: StdCondvar,
}

/// The idle OS threads of one kernel. Workers hold the pool, never the kernel, so an idle
/// pool keeps no kernel alive; the kernel's end tells its idle workers to exit.
///
/// # Invariants
///
/// Every worker in `idle` waits for an order with none pending; once `shutdown` is set,
/// `idle` stays empty.
pub(crate) struct Workers {
    st: StdMutex<WorkersState>,
}

struct WorkersState {
    idle: Vec<Arc<Worker>>,
    shutdown: bool,
    /// OS threads ever started, for tests.
    started: u64,
}

fn plock<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Workers {
    pub(crate) fn new() -> Self {
        Workers {
            st: StdMutex::new(WorkersState {
                idle: Vec::new(),
                shutdown: false,
                started: 0,
            }),
        }
    }

    /// Runs `job` on an idle worker, or on a new OS thread.
    pub(crate) fn run(self: &Arc<Self>, job: Job) {
        let idle = {
            let mut st = plock(&self.st);
            let w = st.idle.pop();
            if w.is_none() {
                st.started += 1;
            }
            w
        };
        match idle {
            Some(w) => {
                *plock(&w.order) = Some(Order::Run(job));
                w.cv.notify_one();
            }
            None => {
                let pool = self.clone();
                std::thread::spawn(move || pool.worker_main(job));
            }
        }
    }

    /// A worker's life: run its job, go idle, run the next one, until told to exit.
    fn worker_main(self: Arc<Self>, first: Job) {
        let me = Arc::new(Worker {
            order: StdMutex::new(None),
            cv: StdCondvar::new(),
        });
        let mut job = first;
        loop {
            let idle = core::cell::Cell::new(false);
            job(&|| {
                let mut st = plock(&self.st);
                if !st.shutdown && st.idle.len() < IDLE_WORKERS_MAX {
                    st.idle.push(me.clone());
                    idle.set(true);
                }
            });
            if !idle.get() {
                return;
            }
            let mut order = plock(&me.order);
            job = loop {
                match order.take() {
                    Some(Order::Run(j)) => break j,
                    Some(Order::Exit) => return,
                    None => order = me.cv.wait(order).unwrap_or_else(|e| e.into_inner()),
                }
            };
        }
    }

    /// The kernel is gone: every idle worker exits, and busy ones exit when done.
    pub(crate) fn shutdown(&self) {
        let idle = {
            let mut st = plock(&self.st);
            st.shutdown = true;
            core::mem::take(&mut st.idle)
        };
        for w in idle {
            *plock(&w.order) = Some(Order::Exit);
            w.cv.notify_one();
        }
    }

    pub(crate) fn started(&self) -> u64 {
        plock(&self.st).started
    }
}
