// SPDX-License-Identifier: BSD-2-Clause
//! Every numeric option of the `tunsim` binary has a range: a value outside it (too large,
//! far too large, negative, not a number) is refused with exit status 2 and an error that
//! names the option and the range, never a panic or an allocation of the value's size.
//! The numeric options are `demo --bytes` (0 to 64 MiB) and `bridge --count` (1 to 600).

use std::process::{Command, Output};

use tunsim::net::demo::{run_demo, DemoOptions, MAX_TCP_BYTES};

fn tunsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tunsim"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run tunsim")
}

/// `args` is refused before anything runs: exit 2, the option named, each of `says` in
/// the message, no panic.
fn refused(args: &[&str], option: &str, says: &[&str]) {
    let out = tunsim(args);
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}{stdout}");
    assert!(stdout.is_empty(), "{args:?} ran: {stdout}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(
        err.contains(&format!("for '{option} <")),
        "{args:?} does not name {option}: {err}"
    );
    for s in says {
        assert!(err.contains(s), "{args:?}: no {s:?} in {err}");
    }
}

#[test]
fn demo_bytes_out_of_range() {
    let range = format!("is not in 0..={MAX_TCP_BYTES}");
    for v in ["18446744073709551615", "4294967296", "67108865"] {
        refused(&["demo", "--bytes", v], "--bytes", &[&range]);
        refused(&["demo", &format!("--bytes={v}")], "--bytes", &[&range]);
    }
    // Beyond u64, negative, not a number.
    refused(
        &["demo", "--bytes", "18446744073709551616"],
        "--bytes",
        &["invalid value"],
    );
    refused(
        &["demo", "--bytes", "-1"],
        "--bytes",
        &["invalid value '-1'"],
    );
    refused(&["demo", "--bytes", "1MiB"], "--bytes", &["invalid value"]);
    refused(&["demo", "--bytes", ""], "--bytes", &["invalid value"]);
}

#[test]
fn bridge_count_out_of_range() {
    for v in ["0", "601", "4294967296", "18446744073709551615"] {
        refused(&["bridge", "--count", v], "--count", &["is not in 1..=600"]);
    }
    refused(
        &["bridge", "--count", "-5"],
        "--count",
        &["invalid value '-5'"],
    );
    refused(
        &["bridge", "--count", "five"],
        "--count",
        &["invalid value"],
    );
}

#[test]
fn demo_bytes_at_the_bounds() {
    // 0 is a valid (empty) transfer; the help states the range.
    let pcap = std::env::temp_dir().join(format!("tunsim-ranges-{}.pcap", std::process::id()));
    let out = tunsim(&["demo", "--bytes", "0", "--pcap", pcap.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("tcp: 0 bytes verified"), "{text}");
    let _ = std::fs::remove_file(&pcap);
    let help = tunsim(&["demo", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("0 to 67108864"));
    let help = tunsim(&["bridge", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("1 to 600"));
    assert_eq!(MAX_TCP_BYTES, 67108864, "update the --bytes help text");
}

#[test]
fn the_library_refuses_too_many_bytes_too() {
    let opts = DemoOptions {
        tcp_bytes: usize::MAX,
        pcap: std::env::temp_dir().join("tunsim-ranges-never-written.pcap"),
        ..DemoOptions::default()
    };
    let mut out = Vec::new();
    let e = run_demo(&opts, &mut out).expect_err("usize::MAX bytes is refused");
    assert!(e.contains("at most 67108864"), "{e}");
    assert!(out.is_empty(), "it ran: {}", String::from_utf8_lossy(&out));
}
