// SPDX-License-Identifier: BSD-2-Clause
//! The runner scales (issue 11 §6), shown by counting work, not by timing it: a scenario
//! with N blocked reads, three outputs that each wake every reader, an interrupt and a
//! `show` is run for N = 1000, 2000 and 4000, and every count of the kernel's scheduling
//! work (condition-variable notifications, thread wake-ups, sleeper records examined, turn
//! handoffs) and of the runner's (jobs examined, jobs resumed) at most doubles when N
//! doubles. Before, each command scanned every job (asking the kernel about each, which
//! scanned every sleeper) and every sleep, wakeup and handoff notified every thread: the
//! work grew with N².

use kmock::sched::SchedStats;
use tunsim::scenario::exec::{run_scenario_counted, RunnerWork};

const OUTPUTS: usize = 3;

/// Work the scenario's fixed part may cost (its lines other than the reads).
const FIXED: u64 = 64;

fn scenario(n: usize) -> String {
    let mut s = String::from("open tun0\nifioctl tun0 SIOCSIFADDR 10.0.0.1\n");
    for _ in 0..n {
        s.push_str("read tun0 2000\n");
    }
    for _ in 0..OUTPUTS {
        s.push_str("if_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 cafe\n");
    }
    s.push_str(&format!("interrupt {}\nwait 1\nshow tun0\n", n / 2));
    s
}

struct Run {
    sched: SchedStats,
    runner: RunnerWork,
    lines: usize,
}

fn run(n: usize) -> Run {
    let text = scenario(n);
    let mut out = Vec::new();
    let (sched, runner) = run_scenario_counted(text.as_bytes(), &mut out, false).unwrap();
    let out = String::from_utf8(out).unwrap();
    // The transcript is what it must be: every read blocked, each output woke every
    // reader still asleep, one of them took the packet.
    assert!(out.contains(&format!("= blocked (job {n})")));
    assert!(out.contains(&format!("wakeup tun0 (sleepers={n})")));
    assert!(out.contains(&format!("wakeup tun0 (sleepers={})", n - 2)));
    assert_eq!(out.matches("woke up and sleeps again").count(), {
        // Output k (0-based) wakes n - k readers; one reads, the rest sleep again.
        (0..OUTPUTS).map(|k| n - k - 1).sum::<usize>()
    });
    assert!(out.contains(&format!("end: job {n} still blocked reading tun0")));
    Run {
        sched,
        runner,
        lines: out.lines().count(),
    }
}

fn counts(r: &Run) -> [(&'static str, u64); 7] {
    [
        ("notifications", r.sched.notifications),
        ("sleepers examined", r.sched.sleepers_examined),
        ("sleeps", r.sched.sleeps),
        ("turn handoffs", r.sched.handoffs),
        ("jobs examined", r.runner.jobs_examined),
        ("jobs resumed", r.runner.jobs_resumed),
        ("transcript lines", r.lines as u64),
    ]
}

#[test]
fn doubling_the_blocked_jobs_at_most_doubles_the_work() {
    let runs: Vec<(usize, Run)> = [1000, 2000, 4000]
        .into_iter()
        .map(|n| (n, run(n)))
        .collect();
    for (n, r) in &runs {
        eprintln!("N={n}: {:?} {:?} lines={}", r.sched, r.runner, r.lines);
    }
    for w in runs.windows(2) {
        let ((n1, a), (n2, b)) = (&w[0], &w[1]);
        for ((what, x), (_, y)) in counts(a).into_iter().zip(counts(b)) {
            // The scenario's few fixed commands cost the same at every N: allow for them.
            assert!(
                y <= 2 * x + FIXED,
                "{what}: {x} for {n1} jobs but {y} for {n2} (more than doubled)"
            );
        }
    }
    for (_, r) in &runs {
        // Every thread woken was notified (a spurious return aside): no thread wakes to
        // find the news was for another.
        assert!(
            r.sched.wakeups_taken <= r.sched.notifications + 16,
            "{:?}",
            r.sched
        );
    }
    // And the work per job is a small constant: each notification goes to one thread,
    // about two per resume (the handoff to the thread and back) and two per read.
    let (n, r) = &runs[2];
    let per_job = r.sched.notifications as f64 / (*n as f64 + r.runner.jobs_resumed as f64);
    assert!(per_job <= 3.0, "{per_job} notifications per job or resume");
    assert!(r.runner.jobs_examined <= r.runner.jobs_resumed + 2 * *n as u64);
}

/// Reads that do not sleep run on one pooled OS thread, however many there are: a
/// scenario's cost per line stays the same as it grows (no thread is created per read).
/// Reads that sleep each hold an OS thread (their stack is their state), so N blocked
/// reads start N threads, and no more.
#[test]
fn reads_reuse_pooled_threads() {
    let threads = |text: &str| {
        let mut sim = tunsim::scenario::Sim::new(false);
        for l in text.lines() {
            sim.exec_line(l);
        }
        let out = sim.take_output();
        let n = sim.kernel().kthread_os_threads();
        sim.finish();
        (n, out)
    };
    for rounds in [10, 1000] {
        let mut s = String::from("open tun0\nifioctl tun0 SIOCSIFADDR 10.0.0.1\n");
        for _ in 0..rounds {
            s.push_str("if_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 cafe\n");
            s.push_str("read tun0 2000\n");
        }
        let (n, out) = threads(&s);
        assert_eq!(out.matches("= 22 bytes").count(), rounds, "{out}");
        assert_eq!(n, 1, "{rounds} reads started {n} OS threads");
    }
    let (n, out) = threads(&scenario(300));
    assert!(out.contains("= blocked (job 300)"));
    assert_eq!(n, 300, "300 blocked reads started {n} OS threads");
}
