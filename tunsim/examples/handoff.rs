// SPDX-License-Identifier: BSD-2-Clause
//! What one turn handoff costs with N threads asleep, in plain `std` (no kmock): N threads
//! each wait on their own condition variable under one mutex, as kmock's sleep queues
//! do; the main thread hands the turn to each in order and waits for it to come back.
//!
//! ```sh
//! cargo run --release -p tunsim --example handoff -- 1000 8000 16000          # private futex hash
//! cargo run --release -p tunsim --example handoff -- --global 1000 8000 16000 # tunsim's setting
//! ```
//!
//! On Linux 6.17 and later a process's futexes hash into a private table sized by its CPUs
//! (16 buckets on 2 CPUs), so each wake walks a bucket of about N/16 waiters and the
//! handoff grows with N; `--global` puts the process on the system-wide table first
//! (`tunsim::hostos::use_global_futex_hash`), as the scenario runner does.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

struct Turn {
    whose: usize,
    done: bool,
}

const NOBODY: usize = usize::MAX;

fn measure(n: usize, rounds: usize) -> f64 {
    let m = Arc::new(Mutex::new(Turn {
        whose: NOBODY,
        done: false,
    }));
    let cvs: Vec<Arc<Condvar>> = (0..=n).map(|_| Arc::new(Condvar::new())).collect();
    let mut threads = Vec::new();
    for i in 0..n {
        let (m, me, runner) = (m.clone(), cvs[i].clone(), cvs[n].clone());
        threads.push(std::thread::spawn(move || {
            let mut g = m.lock().unwrap();
            loop {
                if g.whose == i {
                    g.whose = NOBODY;
                    runner.notify_one();
                }
                if g.done {
                    return;
                }
                g = me.wait(g).unwrap();
            }
        }));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let t0 = Instant::now();
    for _ in 0..rounds {
        for (i, cv) in cvs.iter().enumerate().take(n) {
            let mut g = m.lock().unwrap();
            g.whose = i;
            cv.notify_one();
            while g.whose != NOBODY {
                g = cvs[n].wait(g).unwrap();
            }
        }
    }
    let per = t0.elapsed().as_secs_f64() * 1e6 / (n * rounds) as f64;
    m.lock().unwrap().done = true;
    for cv in &cvs {
        cv.notify_one();
    }
    for t in threads {
        let _ = t.join();
    }
    per
}

fn main() {
    let mut global = false;
    let mut sizes = Vec::new();
    for a in std::env::args().skip(1) {
        if a == "--global" {
            global = true;
        } else {
            match a.parse::<usize>() {
                Ok(n) if (1..=100_000).contains(&n) => sizes.push(n),
                _ => {
                    eprintln!("handoff: {a:?}: give thread counts from 1 to 100000 (and --global)");
                    std::process::exit(2);
                }
            }
        }
    }
    if sizes.is_empty() {
        sizes = vec![1000, 2000, 4000, 8000, 16000];
    }
    if global {
        let took = tunsim::hostos::use_global_futex_hash();
        println!(
            "global futex hash: {}",
            if took {
                "set"
            } else {
                "refused (kernel before 6.17?)"
            }
        );
    }
    for n in sizes {
        println!(
            "{n:6} sleeping threads: {:7.1} µs per handoff",
            measure(n, 2)
        );
    }
}
