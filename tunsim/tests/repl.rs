// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim repl` fed through a pipe (issue 12 §4): `help`, `help COMMAND`, `help nosuch`,
//! and the caret under the token a syntax error is about; the parser's error locations
//! always name a token of the line.

use std::process::Command;

mod common;

use tunsim::scenario::lexer::tokenize;
use tunsim::scenario::parser::{locate_error, parse_command, parse_command_at, ErrorAt};

fn repl(input: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tunsim"));
    cmd.arg("repl").env_remove("HOME");
    let out = common::run_with_input(cmd, input.as_bytes());
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_lists_every_command_with_its_syntax() {
    let out = repl("help\n");
    for syntax in [
        "open DEV",
        "close DEV",
        "read DEV LEN [nonblock]",
        "write DEV PAYLOAD...",
        "ioctl DEV NAME|0xNUMBER [ARG]",
        "kq add DEV FILTER | kq check K | kq del K",
        "if_output IF DST PAYLOAD... [lead=N] [seg=A,B,..] [mcast]",
        "ifioctl IF CMD [ARG]",
        "if_start IF",
        "ifaddr IF inet A.B.C.D | inet6 | null",
        "bpf attach|detach IF",
        "altq IF on|off",
        "proc PID [pgrp=G] [sess=S] [uid=U]",
        "as PID",
        "failalloc N|off",
        "interrupt JOB [restart]",
        "wait JOB",
        "show IF",
        "mbufs",
        "help [COMMAND]",
    ] {
        let mut lines = out.lines().map(|l| l.trim_start_matches("tun> "));
        assert!(
            lines.any(|l| l == format!("  {syntax}")),
            "no {syntax:?} in\n{out}"
        );
        // Its summary follows, indented under it.
        assert!(
            lines
                .next()
                .is_some_and(|l| l.starts_with("      ") && l.len() > 10),
            "no summary under {syntax:?} in\n{out}"
        );
    }
    // The list fits an 80-column terminal (give or take the prompt).
    let widest = out.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 86, "a help line is {widest} columns wide:\n{out}");
    // `help` runs nothing: the world is untouched.
    assert!(out.ends_with("end: mbufs live=0 queued=0 leaked=0\n"));
}

#[test]
fn help_command_prints_its_syntax_and_description() {
    let out = repl("help read\nhelp payload\n");
    assert!(
        out.contains("tun> usage: read DEV LEN [nonblock]\n  read() with a LEN-byte buffer"),
        "{out}"
    );
    assert!(out.contains("tsleep(\"tunread\")"));
    assert!(out.contains("  ip4:SRC>DST "), "{out}");
}

#[test]
fn help_for_an_unknown_command_is_a_clear_error() {
    let out = repl("help nosuch\nhelp read more\n");
    assert!(
        out.contains(
            "tun>   ! error: no command 'nosuch' (`help` lists them)\n    help nosuch\n         ^^^^^^\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  ! error: usage: help [COMMAND]\n    help read more\n              ^^^^\n"),
        "{out}"
    );
}

/// The error line and the two caret lines the REPL prints for `line`.
fn carets_for(line: &str) -> String {
    let out = repl(&format!("open tun0\n{line}\n"));
    let i = out
        .find("  ! error: ")
        .unwrap_or_else(|| panic!("no error in {out}"));
    out[i..].lines().take(3).collect::<Vec<_>>().join("\n")
}

#[test]
fn carets_point_at_the_token_at_fault() {
    assert_eq!(
        carets_for("ifconfig tun0 up"),
        "  ! error: unknown command 'ifconfig'\n    ifconfig tun0 up\n    ^^^^^^^^"
    );
    // A bad number.
    assert_eq!(
        carets_for("read tun0 lots"),
        "  ! error: usage: read DEV LEN [nonblock]\n    read tun0 lots\n              ^^^^"
    );
    // A bad address.
    assert_eq!(
        carets_for("if_output tun0 inet:10.0.0.256 cafe"),
        "  ! error: bad address 'inet:10.0.0.256'\n    if_output tun0 inet:10.0.0.256 cafe\n                   ^^^^^^^^^^^^^^^"
    );
    // A missing argument: one caret past the end of the line.
    assert_eq!(
        carets_for("ioctl tun0 TUNSDEBUG"),
        "  ! error: TUNSDEBUG needs an integer argument\n    ioctl tun0 TUNSDEBUG\n                         ^"
    );
    assert_eq!(
        carets_for("open"),
        "  ! error: usage: open DEV\n    open\n         ^"
    );
    // One token too many.
    assert_eq!(
        carets_for("close tun0 now"),
        "  ! error: usage: close DEV\n    close tun0 now\n               ^^^"
    );
    // A bad payload token, after blanks and a tab.
    assert_eq!(
        carets_for("  write\ttun0  be32:2 beef xyz"),
        "  ! error: bad payload token 'xyz'\n    write tun0  be32:2 beef xyz\n                            ^^^"
    );
    // A deferred error (reported after the interface check) still points.
    assert_eq!(
        carets_for("ifioctl tun0 SIOCSIFMTU big"),
        "  ! error: usage: ifioctl IF SIOCSIFMTU N\n    ifioctl tun0 SIOCSIFMTU big\n                            ^^^"
    );
}

#[test]
fn runtime_errors_and_results_get_no_caret() {
    let out = repl("close tun0\nopen tun0\nread tun0 10 nonblock\n");
    assert!(
        out.contains("tun>   ! error: tun0 is not open\ntun> "),
        "{out}"
    );
    assert!(out.contains("tun>   = EWOULDBLOCK\ntun> "), "{out}");
    assert!(!out.contains('^'));
}

#[test]
fn error_locations_name_a_token_of_the_line_and_keep_the_messages() {
    // Every line of every scenario, and each with its last token dropped or doubled.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "tun") {
            continue;
        }
        for line in std::fs::read_to_string(&p).unwrap().lines() {
            let toks = tokenize(line.trim());
            if toks.is_empty() || toks[0].starts_with('#') {
                continue;
            }
            let mut variants = vec![toks.clone(), toks[..toks.len() - 1].to_vec()];
            let mut more = toks.clone();
            more.push(toks[toks.len() - 1]);
            more.push("0xzz");
            variants.push(more);
            for v in variants.into_iter().filter(|v| !v.is_empty()) {
                let plain = parse_command(&v);
                let at = parse_command_at(&v);
                assert_eq!(plain, at.clone().map_err(|e| e.message), "{v:?}");
                if let Some(e) = locate_error(&v) {
                    if let ErrorAt::Token(i) = e.at {
                        assert!(i < v.len(), "{v:?}: {e:?}");
                    }
                    n += 1;
                }
            }
        }
    }
    assert!(n > 100, "{n} errors located");
}
