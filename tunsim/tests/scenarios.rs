// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim check tests/scenarios` as part of `cargo test`: every scenario's transcript
//! must equal its golden `.out` byte for byte (the `.out` files are the original C
//! driver's transcripts, edited only where docs/deviations.md says).

mod common;

use std::path::Path;

#[test]
fn golden_transcripts_match() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios");
    let results = tunsim::scenario::check::check_dir(&dir).expect("tests/scenarios is readable");
    assert!(
        results.len() >= 16,
        "expected the 16 shared scenarios at least"
    );
    let mut failed = Vec::new();
    for r in &results {
        if !r.passed() {
            eprint!("{r}");
            failed.push(r.scenario.display().to_string());
        }
    }
    assert!(failed.is_empty(), "transcripts differ: {failed:?}");
}

#[test]
fn the_check_binary_reports_and_exits_nonzero_on_a_difference() {
    let tmp = std::env::temp_dir().join(format!("tunsim-check-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("01-x.tun"), "open tun0\n").unwrap();
    std::fs::write(tmp.join("01-x.out"), "> open tun0\n  = ok\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tunsim"))
        .args(["check"])
        .arg(&tmp)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains("+  if_attach tun0"), "{text}");
    assert!(text.contains("0 passed, 1 failed"), "{text}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn trace_shows_entry_points_and_flags() {
    let t = tunsim::scenario::run_scenario(
        "open tun0\nifioctl tun0 SIOCSIFADDR 10.0.0.1\nread tun0 10 nonblock\nclose tun0\n",
        true,
    );
    assert!(
        t.contains("  trace: -> tunopen(tun0) tun_flags=(no softc)\n"),
        "{t}"
    );
    assert!(
        t.contains("  trace: <- tunopen(tun0) = ok tun_flags=0x0003<OPEN,INITED>\n"),
        "{t}"
    );
    assert!(
        t.contains("  trace: <- tunread(tun0) = EWOULDBLOCK tun_flags=0x000b<OPEN,INITED,IASET>\n"),
        "{t}"
    );
    assert!(
        t.contains("  trace: <- tunclose(tun0) = ok tun_flags=0x000a<INITED,IASET>\n"),
        "{t}"
    );
    // Without --trace the transcript has no trace lines.
    let plain = tunsim::scenario::run_scenario("open tun0\n", false);
    assert!(!plain.contains("trace:"));
}

#[test]
fn repl_prints_each_result_as_it_goes() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tunsim"));
    cmd.arg("repl");
    let out = common::run_with_input(cmd, b"open tun0\nopen tun0\nbogus\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("tun>   if_attach tun0\n  = ok\ntun>   = EBUSY\ntun>   ! error: unknown command 'bogus'\n"),
        "{text}"
    );
    assert!(
        text.ends_with("end: mbufs live=0 queued=0 leaked=0\n"),
        "{text}"
    );
}
