// SPDX-License-Identifier: BSD-2-Clause
//! The console and the per-process record of received signals are bounded: they keep the
//! newest entries (10,000 console lines, 1,000 signals per process, or a limit the caller
//! sets), count the ones they let go, and can be drained as a run goes.

use kmock::bsd::sigio::{fsetown, pgsigio, SigioSlot, SIGIO};
use kmock::host::kernel::CONSOLE_LINES;
use kmock::host::proc::SIGNALS_KEPT;
use kmock::{pr_info, Kernel};

#[test]
fn the_console_keeps_the_newest_lines_and_counts_the_rest() {
    let k = Kernel::new();
    let _c = k.enter(1);
    let extra = 7;
    for i in 0..CONSOLE_LINES + extra {
        pr_info!("line {i}\n");
    }
    let lines = k.console();
    assert_eq!(lines.len(), CONSOLE_LINES);
    assert_eq!(lines[0], format!("line {extra}"));
    assert_eq!(
        lines.last().unwrap(),
        &format!("line {}", CONSOLE_LINES + extra - 1)
    );
    assert_eq!(k.console_dropped(), extra as u64);

    // Draining takes what is kept; the count of dropped lines stays.
    assert_eq!(k.take_console(), lines);
    assert!(k.console().is_empty());
    assert_eq!(k.console_dropped(), extra as u64);
    pr_info!("after");
    assert_eq!(k.console(), vec!["after".to_string()]);

    // A caller that drains as it goes loses nothing.
    let mut all = k.take_console();
    for i in 0..3 * CONSOLE_LINES {
        pr_info!("{i}");
        if i % 1000 == 999 {
            all.extend(k.take_console());
        }
    }
    all.extend(k.take_console());
    assert_eq!(all.len(), 1 + 3 * CONSOLE_LINES);
    assert_eq!(k.console_dropped(), extra as u64);

    // A smaller limit trims at once.
    for i in 0..5 {
        pr_info!("x{i}");
    }
    k.set_console_limit(2);
    assert_eq!(k.console(), vec!["x3".to_string(), "x4".to_string()]);
    assert_eq!(k.console_dropped(), extra as u64 + 3);
}

#[test]
fn each_process_keeps_its_newest_signals_and_counts_the_rest() {
    let k = Kernel::new();
    k.proc_set(100, 100, 1, 0).unwrap();
    k.proc_set(200, 200, 1, 0).unwrap();
    let _c = k.enter(100);
    let s = SigioSlot::new();
    fsetown(100, &s).unwrap();
    for _ in 0..SIGNALS_KEPT + 25 {
        pgsigio(&s, SIGIO, 0);
    }
    assert_eq!(k.proc_signals(100), vec![SIGIO; SIGNALS_KEPT]);
    assert_eq!(k.proc_signals_dropped(100), 25);
    assert!(k.proc_signals(200).is_empty());
    assert_eq!(k.proc_signals_dropped(200), 0);
    assert_eq!(k.proc_signals_dropped(999), 0, "no such process");

    assert_eq!(k.take_proc_signals(100).len(), SIGNALS_KEPT);
    assert!(k.proc_signals(100).is_empty());
    pgsigio(&s, SIGIO, 0);
    assert_eq!(k.proc_signals(100), vec![SIGIO]);
    assert_eq!(k.proc_signals_dropped(100), 25);

    // A new limit applies to existing processes and to new ones.
    k.set_signal_limit(3);
    fsetown(200, &s).unwrap();
    for _ in 0..5 {
        pgsigio(&s, SIGIO, 0);
    }
    assert_eq!(k.proc_signals(200), vec![SIGIO; 3]);
    assert_eq!(k.proc_signals_dropped(200), 2);
    k.proc_set(300, 300, 1, 0).unwrap();
    fsetown(300, &s).unwrap();
    for _ in 0..4 {
        pgsigio(&s, SIGIO, 0);
    }
    assert_eq!(k.proc_signals(300).len(), 3);
    assert_eq!(k.proc_signals_dropped(300), 1);
}
