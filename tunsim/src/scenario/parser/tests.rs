// SPDX-License-Identifier: BSD-2-Clause
//! The parser's tests: commands, their harness errors, and the echo of every shipped
//! scenario.

use super::*;
use crate::scenario::command::*;
use crate::scenario::lexer::*;

/// Parses one command line, expecting a command (not blank/comment).
fn cmd(line: &str) -> Result<Command, String> {
    match parse_line(line) {
        Line::Command { cmd, .. } => cmd,
        other => panic!("not a command: {other:?}"),
    }
}

fn ok(line: &str) -> Command {
    cmd(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn err(line: &str) -> String {
    match cmd(line) {
        Err(e) => e,
        Ok(c) => panic!("{line:?} parsed: {c:?}"),
    }
}

/// The deferred error of a line (after a `no interface` precheck).
fn deferred(line: &str) -> String {
    match ok(line) {
        Command::Deferred {
            precheck: Precheck::Interface(_),
            error,
        } => error,
        c => panic!("{line:?} not deferred: {c:?}"),
    }
}

fn ioctl(line: &str) -> IoctlReq {
    match ok(line) {
        Command::Ioctl { req, .. } => req,
        c => panic!("{c:?}"),
    }
}

fn ifioctl(line: &str) -> IfIoctlReq {
    match ok(line) {
        Command::IfIoctl { req, .. } => req,
        c => panic!("{c:?}"),
    }
}

#[test]
fn lexing() {
    assert_eq!(parse_line(""), Line::Blank);
    assert_eq!(parse_line(" \t\r\n"), Line::Blank);
    assert_eq!(parse_line("\x0b\x0c"), Line::Blank);
    assert_eq!(
        parse_line("  # a  comment\t \r\n"),
        Line::Comment("# a  comment".into())
    );
    assert_eq!(parse_line("#"), Line::Comment("#".into()));
    assert_eq!(
        parse_line("\t open \t  tun0   \r\n"),
        Line::Command {
            echo: "open tun0".into(),
            cmd: Ok(Command::Open { dev: "tun0".into() })
        }
    );
    // '#' later on the line is an ordinary token
    match parse_line("open tun0 # x") {
        Line::Command { echo, cmd } => {
            assert_eq!(echo, "open tun0 # x");
            assert_eq!(cmd, Err("usage: open DEV".into()));
        }
        l => panic!("{l:?}"),
    }
    // only blanks and tabs separate tokens; a NUL ends the line
    assert_eq!(err("open\x0btun0"), "unknown command 'open\x0btun0'");
    assert_eq!(parse_line("mbufs\0 junk"), parse_line("mbufs"));
    assert_eq!(parse_line("\0mbufs"), Line::Blank);
    // tokens are case-sensitive
    assert_eq!(err("OPEN tun0"), "unknown command 'OPEN'");
}

#[test]
fn token_limit() {
    let line = format!("write tun0 {}", vec!["00"; 1100].join(" "));
    match parse_line(&line) {
        Line::Command { echo, cmd } => {
            assert_eq!(echo.split(' ').count(), MAX_TOKENS);
            match cmd.unwrap() {
                Command::Write { payload, .. } => assert_eq!(payload.len(), 1022),
                c => panic!("{c:?}"),
            }
        }
        l => panic!("{l:?}"),
    }
}

#[test]
fn line_splitting() {
    assert_eq!(split_lines(""), Vec::<&str>::new());
    assert_eq!(split_lines("a\n\nb"), vec!["a\n", "\n", "b"]);
    let long = format!("{}\nx\n", "y".repeat(MAX_LINE + 5));
    let parts = split_lines(&long);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].len(), MAX_LINE);
    assert_eq!(parts[1], "yyyyy\n");
    assert_eq!(parts[2], "x\n");
    let exact = format!("{}\n", "y".repeat(MAX_LINE));
    assert_eq!(split_lines(&exact), vec![&exact[..MAX_LINE], "\n"]);
}

#[test]
fn unknown_command() {
    assert_eq!(err("bogus 1"), "unknown command 'bogus'");
    assert_eq!(parse_command(&[]), Err("empty command".into()));
}

#[test]
fn open_close() {
    assert_eq!(ok("open tun"), Command::Open { dev: "tun".into() });
    assert_eq!(ok("close tun0"), Command::Close { dev: "tun0".into() });
    assert_eq!(err("open"), "usage: open DEV");
    assert_eq!(err("open tun0 tun1"), "usage: open DEV");
    assert_eq!(err("close"), "usage: close DEV");
    assert_eq!(err("close a b"), "usage: close DEV");
}

#[test]
fn read() {
    assert_eq!(
        ok("read tun0 2000"),
        Command::Read {
            dev: "tun0".into(),
            len: 2000,
            nonblock: false
        }
    );
    assert_eq!(
        ok("read tun0 0x0 nonblock"),
        Command::Read {
            dev: "tun0".into(),
            len: 0,
            nonblock: true
        }
    );
    assert!(matches!(
        ok("read x 1000000"),
        Command::Read { len: 1_000_000, .. }
    ));
    for l in [
        "read",
        "read tun0",
        "read tun0 -1",
        "read tun0 1000001",
        "read tun0 x",
        "read tun0 10 block",
        "read tun0 10 nonblock x",
    ] {
        assert_eq!(err(l), "usage: read DEV LEN [nonblock]", "{l}");
    }
}

#[test]
fn write() {
    assert_eq!(
        ok("write tun0 be32:2 cafe"),
        Command::Write {
            dev: "tun0".into(),
            payload: vec![0, 0, 0, 2, 0xca, 0xfe]
        }
    );
    assert_eq!(
        ok("write tun0"),
        Command::Write {
            dev: "tun0".into(),
            payload: vec![]
        }
    );
    assert_eq!(err("write"), "usage: write DEV PAYLOAD...");
    assert_eq!(err("write tun0 xyz"), "bad payload token 'xyz'");
    assert_eq!(err("write tun0 ip4:1.2.3.4"), "bad ip4 token 'ip4:1.2.3.4'");
}

#[test]
fn ioctl_setters() {
    assert_eq!(
        ioctl("ioctl tun0 TUNSIFHEAD 1"),
        IoctlReq::SetInt {
            ioctl: NamedIoctl::TunSIfHead,
            value: 1
        }
    );
    assert_eq!(
        ioctl("ioctl tun0 FIOSETOWN -100"),
        IoctlReq::SetInt {
            ioctl: NamedIoctl::FioSetOwn,
            value: -100
        }
    );
    // C truncation of long long to int
    assert_eq!(
        ioctl("ioctl tun0 TUNSDEBUG 0x100000005"),
        IoctlReq::SetInt {
            ioctl: NamedIoctl::TunSDebug,
            value: 5
        }
    );
    for name in [
        "TUNSDEBUG",
        "TUNSLMODE",
        "TUNSIFHEAD",
        "FIOASYNC",
        "FIOSETOWN",
        "TIOCSPGRP",
    ] {
        let io = NamedIoctl::from_name(name).unwrap();
        assert_eq!(
            ioctl(&format!("ioctl tun0 {name} 7")),
            IoctlReq::SetInt {
                ioctl: io,
                value: 7
            }
        );
        let msg = format!("{name} needs an integer argument");
        assert_eq!(err(&format!("ioctl tun0 {name}")), msg);
        assert_eq!(err(&format!("ioctl tun0 {name} x")), msg);
        assert_eq!(err(&format!("ioctl tun0 {name} 1 2")), msg);
    }
    assert_eq!(
        ioctl("ioctl tun0 TUNSIFMODE POINTOPOINT|MULTICAST"),
        IoctlReq::TunsIfMode(0x8010)
    );
    assert_eq!(ioctl("ioctl tun0 TUNSIFMODE 0x2"), IoctlReq::TunsIfMode(2));
    for l in [
        "ioctl tun0 TUNSIFMODE",
        "ioctl tun0 TUNSIFMODE up",
        "ioctl tun0 TUNSIFMODE UP|0x1",
        "ioctl tun0 TUNSIFMODE UP UP",
    ] {
        assert_eq!(err(l), "TUNSIFMODE needs flags (e.g. BROADCAST|MULTICAST)");
    }
}

#[test]
fn ioctl_tuninfo() {
    assert_eq!(
        ioctl("ioctl tun0 TUNSIFINFO mtu=1400 type=0x17 baudrate=-1"),
        IoctlReq::TunsIfInfo {
            mtu: 1400,
            typ: 0x17,
            baudrate: -1
        }
    );
    assert_eq!(
        ioctl("ioctl tun0 TUNSIFINFO"),
        IoctlReq::TunsIfInfo {
            mtu: 0,
            typ: 0,
            baudrate: 0
        }
    );
    assert_eq!(
        ioctl("ioctl tun0 TUNSIFINFO type=257 mtu=65537 mtu=70"),
        IoctlReq::TunsIfInfo {
            mtu: 70,
            typ: 1,
            baudrate: 0
        }
    );
    assert_eq!(
        err("ioctl tun0 TUNSIFINFO mtu=1 speed=5"),
        "bad tuninfo field 'speed=5'"
    );
    assert_eq!(
        err("ioctl tun0 TUNSIFINFO mtu="),
        "bad tuninfo field 'mtu='"
    );
    assert_eq!(err("ioctl tun0 TUNSIFINFO 5"), "bad tuninfo field '5'");
}

#[test]
fn ioctl_getters() {
    for name in [
        "TUNGDEBUG",
        "TUNGIFHEAD",
        "FIONREAD",
        "FIOGETOWN",
        "TIOCGPGRP",
    ] {
        let io = NamedIoctl::from_name(name).unwrap();
        assert_eq!(
            ioctl(&format!("ioctl tun0 {name}")),
            IoctlReq::GetInt {
                ioctl: io,
                preset: 0
            }
        );
        // an optional integer pre-fills the buffer
        assert_eq!(
            ioctl(&format!("ioctl tun0 {name} 9")),
            IoctlReq::GetInt {
                ioctl: io,
                preset: 9
            }
        );
        let msg = format!("{name} takes no argument");
        assert_eq!(err(&format!("ioctl tun0 {name} x")), msg);
        assert_eq!(err(&format!("ioctl tun0 {name} 1 2")), msg);
    }
    assert!(ioctl("ioctl tun0 FIONREAD").prints_value());
    assert_eq!(ioctl("ioctl tun0 TUNGIFINFO"), IoctlReq::TungIfInfo);
    assert_eq!(
        err("ioctl tun0 TUNGIFINFO 1"),
        "TUNGIFINFO takes no argument"
    );
    assert_eq!(
        ioctl("ioctl tun0 TUNSIFPID"),
        IoctlReq::NoArg {
            ioctl: NamedIoctl::TunSIfPid
        }
    );
    assert_eq!(ioctl("ioctl tun0 TIOCSIG").cmd(), 0x2000_745f);
    assert_eq!(err("ioctl tun0 TUNSIFPID 1"), "TUNSIFPID takes no argument");
    assert_eq!(err("ioctl tun0 TIOCSIG 1"), "TIOCSIG takes no argument");
}

#[test]
fn ioctl_fionbio() {
    assert_eq!(ioctl("ioctl tun0 FIONBIO 1"), IoctlReq::Fionbio(true));
    assert_eq!(ioctl("ioctl tun0 FIONBIO 0"), IoctlReq::Fionbio(false));
    assert_eq!(ioctl("ioctl tun0 FIONBIO 5"), IoctlReq::Fionbio(true));
    assert_eq!(ioctl("ioctl tun0 FIONBIO 0x"), IoctlReq::Fionbio(false));
    for l in [
        "ioctl tun0 FIONBIO",
        "ioctl tun0 FIONBIO on",
        "ioctl tun0 FIONBIO 1 1",
    ] {
        assert_eq!(err(l), "usage: ioctl DEV FIONBIO 0|1");
    }
}

#[test]
fn ioctl_raw_and_errors() {
    assert_eq!(
        ioctl("ioctl tun0 0x40047459"),
        IoctlReq::Raw {
            cmd: 0x4004_7459,
            arg: None
        }
    );
    assert!(ioctl("ioctl tun0 0x40047459").prints_value());
    assert_eq!(
        ioctl("ioctl tun0 0x1234 -3"),
        IoctlReq::Raw {
            cmd: 0x1234,
            arg: Some(-3)
        }
    );
    assert!(!ioctl("ioctl tun0 0x1234 -3").prints_value());
    assert_eq!(
        ioctl("ioctl tun0 0x180047460 1"),
        IoctlReq::Raw {
            cmd: 0x8004_7460,
            arg: Some(1)
        }
    );
    assert_eq!(
        ioctl("ioctl tun0 0x40047459 4"),
        IoctlReq::Raw {
            cmd: 0x4004_7459,
            arg: Some(4)
        }
    );
    assert_eq!(
        err("ioctl tun0 0x40047459 x"),
        "0x40047459 takes no argument"
    );
    assert_eq!(
        err("ioctl tun0 0x1234 x"),
        "0x1234 needs an integer argument"
    );
    assert_eq!(
        err("ioctl tun0 0x1234 1 2"),
        "0x1234 needs an integer argument"
    );
    assert_eq!(err("ioctl tun0 TUNFOO"), "unknown ioctl 'TUNFOO'");
    assert_eq!(err("ioctl tun0 SIOCGIFMTU"), "unknown ioctl 'SIOCGIFMTU'");
    assert_eq!(err("ioctl tun0"), "usage: ioctl DEV NAME|0xNUMBER [ARG]");
    assert_eq!(err("ioctl"), "usage: ioctl DEV NAME|0xNUMBER [ARG]");
}

#[test]
fn ioctl_numbers_match_oracle() {
    // `tunoracle --constants`
    let expect = [
        ("TUNGDEBUG", 0x40047459),
        ("TUNSDEBUG", 0x8004745a),
        ("TUNSIFINFO", 0x8008745b),
        ("TUNGIFINFO", 0x4008745c),
        ("TUNSLMODE", 0x8004745d),
        ("TUNSIFMODE", 0x8004745e),
        ("TUNSIFPID", 0x2000745f),
        ("TUNSIFHEAD", 0x80047460),
        ("TUNGIFHEAD", 0x40047461),
        ("FIONREAD", 0x4004667f),
        ("FIONBIO", 0x8004667e),
        ("FIOASYNC", 0x8004667d),
        ("FIOSETOWN", 0x8004667c),
        ("FIOGETOWN", 0x4004667b),
        ("TIOCSPGRP", 0x80047476),
        ("TIOCGPGRP", 0x40047477),
        ("TIOCSIG", 0x2000745f),
    ];
    for (name, cmd) in expect {
        assert_eq!(NamedIoctl::from_name(name).unwrap().cmd(), cmd, "{name}");
    }
    assert_eq!(NamedIoctl::ALL.len(), expect.len());
}

#[test]
fn kq() {
    assert_eq!(
        ok("kq add tun0 read"),
        Command::KqAdd {
            dev: "tun0".into(),
            filter: -1
        }
    );
    let filters = [
        "read", "write", "aio", "vnode", "proc", "signal", "timer", "except",
    ];
    for (i, f) in filters.iter().enumerate() {
        assert_eq!(parse_filter(f), Some(-1 - i as i16));
    }
    assert_eq!(parse_filter("7"), Some(7));
    assert_eq!(parse_filter("0x1fffe"), Some(-2));
    assert_eq!(err("kq add tun0 bogus"), "unknown filter 'bogus'");
    assert_eq!(err("kq add tun0 READ"), "unknown filter 'READ'");
    assert_eq!(
        ok("kq check 0x1"),
        Command::KqCheck {
            knote: NumRef {
                text: "0x1".into(),
                id: 1
            }
        }
    );
    assert!(matches!(
        ok("kq del 3"),
        Command::KqDel {
            knote: NumRef { id: 3, .. }
        }
    ));
    assert_eq!(err("kq check 0"), "no knote 0");
    assert_eq!(err("kq check abc"), "no knote abc");
    assert_eq!(err("kq del -1"), "no knote -1");
    let u = "usage: kq add DEV FILTER | kq check K | kq del K";
    for l in [
        "kq",
        "kq check",
        "kq add tun0",
        "kq add tun0 read x",
        "kq del 1 2",
        "kq foo 1",
    ] {
        assert_eq!(err(l), u, "{l}");
    }
}

#[test]
fn if_output_basic() {
    assert_eq!(
        ok("if_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 pat:12"),
        Command::IfOutput {
            ifname: "tun0".into(),
            dst: Dst::Inet([10, 0, 0, 2]),
            payload: crate::scenario::payload::parse_payload(&["ip4:10.0.0.1>10.0.0.2", "pat:12"])
                .unwrap(),
            lead: 0,
            segs: vec![32],
            mcast: false,
        }
    );
    match ok("if_output tun0 inet6 lead=8 pat:100 mcast seg=40,60") {
        Command::IfOutput {
            dst,
            payload,
            lead,
            segs,
            mcast,
            ..
        } => {
            assert_eq!(dst, Dst::Inet6);
            assert_eq!(payload.len(), 100);
            assert_eq!((lead, mcast), (8, true));
            assert_eq!(segs, vec![40, 60]);
        }
        c => panic!("{c:?}"),
    }
    // default split: 56 - lead, then 120s; empty payload = one empty mbuf
    let segs = |l: &str| match ok(l) {
        Command::IfOutput { segs, .. } => segs,
        c => panic!("{c:?}"),
    };
    assert_eq!(segs("if_output tun0 unspec"), vec![0]);
    assert_eq!(segs("if_output tun0 unspec pat:56"), vec![56]);
    assert_eq!(segs("if_output tun0 unspec pat:300"), vec![56, 120, 120, 4]);
    assert_eq!(segs("if_output tun0 unspec pat:10 lead=56"), vec![0, 10]);
    assert_eq!(
        segs("if_output tun0 unspec pat:5 seg=0,,5, seg=0"),
        vec![0, 5, 0]
    );
    // an empty seg list means the default split
    assert_eq!(segs("if_output tun0 unspec pat:5 seg="), vec![5]);
    // the last lead= wins; ip4 length counts only payload tokens
    match ok("if_output tun0 sa:2:16 lead=3 ip4:1.2.3.4>5.6.7.8 lead=4 mcast cafe") {
        Command::IfOutput {
            dst, payload, lead, ..
        } => {
            assert_eq!(dst, Dst::Sa { family: 2, len: 16 });
            assert_eq!(lead, 4);
            assert_eq!(&payload[2..4], &[0, 22]);
        }
        c => panic!("{c:?}"),
    }
}

#[test]
fn if_output_dst() {
    let dst = |l: &str| match ok(l) {
        Command::IfOutput { dst, .. } => dst,
        c => panic!("{c:?}"),
    };
    assert_eq!(dst("if_output tun0 unspec"), Dst::Unspec);
    assert_eq!(
        dst("if_output tun0 sa:255:0"),
        Dst::Sa {
            family: 255,
            len: 0
        }
    );
    let b = Dst::Inet([10, 0, 0, 2]).sockaddr_buf();
    assert_eq!(&b[..8], &[16, 2, 0, 0, 10, 0, 0, 2]);
    assert_eq!(&Dst::Inet6.sockaddr_buf()[..2], &[28, 28]);
    assert_eq!(&Dst::Unspec.sockaddr_buf()[..2], &[16, 0]);
    assert_eq!(err("if_output tun0 inet:1.2.3"), "bad address 'inet:1.2.3'");
    assert_eq!(err("if_output tun0 inet:"), "bad address 'inet:'");
    assert_eq!(err("if_output tun0 sa:256:1"), "bad sockaddr 'sa:256:1'");
    assert_eq!(err("if_output tun0 sa:2"), "bad sockaddr 'sa:2'");
    assert_eq!(err("if_output tun0 inet"), "bad destination 'inet'");
    assert_eq!(err("if_output tun0 INET6"), "bad destination 'INET6'");
    let u = "usage: if_output IF DST PAYLOAD... [lead=N] [seg=A,B,..] [mcast]";
    assert_eq!(err("if_output"), u);
    assert_eq!(err("if_output tun0"), u);
}

#[test]
fn if_output_errors_and_order() {
    assert_eq!(err("if_output tun0 unspec lead=57"), "lead must be 0..56");
    assert_eq!(err("if_output tun0 unspec lead=-1"), "lead must be 0..56");
    assert_eq!(err("if_output tun0 unspec lead="), "lead must be 0..56");
    assert_eq!(err("if_output tun0 unspec seg=121"), "bad seg list");
    assert_eq!(err("if_output tun0 unspec seg=1,x"), "bad seg list");
    assert_eq!(err("if_output tun0 unspec seg=-1"), "bad seg list");
    // at most 512 segments in all (one list is cut at 1023 bytes, so
    // the 513th must come from a second seg= token)
    let many = vec!["1"; 512].join(",");
    assert_eq!(
        err(&format!("if_output tun0 unspec seg={many} seg=1")),
        "bad seg list"
    );
    // options are checked in line order, before the payload
    assert_eq!(err("if_output tun0 unspec seg=999 lead=99"), "bad seg list");
    assert_eq!(
        err("if_output tun0 unspec lead=99 seg=999"),
        "lead must be 0..56"
    );
    assert_eq!(
        err("if_output tun0 unspec zz lead=99"),
        "lead must be 0..56"
    );
    assert_eq!(err("if_output tun0 unspec zz"), "bad payload token 'zz'");
    // the destination comes first
    assert_eq!(
        err("if_output tun0 bogus lead=99"),
        "bad destination 'bogus'"
    );
}

#[test]
fn if_output_deferred_layout_errors() {
    assert_eq!(
        deferred("if_output tun0 unspec pat:60 seg=57,3"),
        "segment 1 (57 bytes) exceeds its 56-byte mbuf"
    );
    assert_eq!(
        deferred("if_output tun0 unspec pat:60 lead=10 seg=50,10"),
        "segment 1 (50 bytes) exceeds its 46-byte mbuf"
    );
    // all caps are checked before the sum
    assert_eq!(
        deferred("if_output tun0 unspec pat:2 seg=1,120,1 seg=100 lead=56"),
        "segment 1 (1 bytes) exceeds its 0-byte mbuf"
    );
    assert_eq!(
        deferred("if_output tun0 unspec pat:10 seg=4,5"),
        "seg sizes add up to 9, payload has 10 bytes"
    );
    // 56 + 511 * 120 bytes fit in 512 mbufs; one more does not
    let fits = 56 + 511 * 120;
    match ok(&format!("if_output tun0 unspec zeros:{fits}")) {
        Command::IfOutput { segs, .. } => assert_eq!(segs.len(), MAX_SEGS),
        c => panic!("{c:?}"),
    }
    assert_eq!(
        deferred(&format!("if_output tun0 unspec zeros:{}", fits + 1)),
        "payload too long"
    );
    match ok("if_output tun9 unspec pat:10 seg=4,5") {
        Command::Deferred { precheck, .. } => {
            assert_eq!(precheck, Precheck::Interface("tun9".into()))
        }
        c => panic!("{c:?}"),
    }
}

#[test]
fn if_output_token_limits() {
    // payload tokens beyond 512 are ignored without being checked
    let line = format!(
        "if_output tun0 unspec {} zz mcast",
        vec!["ab"; 512].join(" ")
    );
    match ok(&line) {
        Command::IfOutput { payload, mcast, .. } => {
            assert_eq!(payload.len(), 512);
            assert!(mcast);
        }
        c => panic!("{c:?}"),
    }
    // a seg= list is cut at 1023 bytes ("1," * 511 + "1" is 1023 bytes)
    let list = format!("{}1", "1,".repeat(511));
    assert_eq!(list.len(), 1023);
    match ok(&format!("if_output tun0 unspec zeros:512 seg={list}99")) {
        Command::IfOutput { segs, .. } => assert_eq!(segs, vec![1; 512]),
        c => panic!("{c:?}"),
    }
}

#[test]
fn ifioctl_requests() {
    assert_eq!(
        ifioctl("ifioctl tun0 SIOCSIFADDR 10.0.0.1"),
        IfIoctlReq::SetAddr([10, 0, 0, 1])
    );
    assert_eq!(
        ifioctl("ifioctl tun0 SIOCSIFDSTADDR 10.0.0.2"),
        IfIoctlReq::SetDstAddr([10, 0, 0, 2])
    );
    assert_eq!(
        ifioctl("ifioctl tun0 SIOCSIFFLAGS UP|POINTOPOINT"),
        IfIoctlReq::SetFlags(0x11)
    );
    assert_eq!(
        ifioctl("ifioctl tun0 SIOCSIFMTU 71"),
        IfIoctlReq::SetMtu(71)
    );
    assert_eq!(
        ifioctl("ifioctl tun0 SIOCSIFMTU 0x100000048"),
        IfIoctlReq::SetMtu(72)
    );
    assert_eq!(ifioctl("ifioctl tun0 SIOCADDMULTI"), IfIoctlReq::AddMulti);
    assert_eq!(ifioctl("ifioctl tun0 SIOCDELMULTI"), IfIoctlReq::DelMulti);
    assert_eq!(ifioctl("ifioctl tun0 SIOCGIFSTATUS"), IfIoctlReq::GetStatus);
    assert_eq!(
        ifioctl("ifioctl tun0 SIOCGIFMTU"),
        IfIoctlReq::Raw {
            cmd: 0xc020_6933,
            arg: 0
        }
    );
    assert_eq!(
        ifioctl("ifioctl tun0 0x80206934 1400"),
        IfIoctlReq::Raw {
            cmd: 0x8020_6934,
            arg: 1400
        }
    );
    // with two or more arguments the oracle ignores them
    assert_eq!(
        ifioctl("ifioctl tun0 0x1 x y"),
        IfIoctlReq::Raw { cmd: 1, arg: 0 }
    );
    assert_eq!(err("ifioctl tun0"), "usage: ifioctl IF CMD [ARG]");
    assert_eq!(err("ifioctl"), "usage: ifioctl IF CMD [ARG]");
}

#[test]
fn ifioctl_deferred_errors() {
    let cases = [
        ("SIOCSIFADDR", "usage: ifioctl IF SIOCSIFADDR A.B.C.D"),
        ("SIOCSIFADDR 1.2.3", "usage: ifioctl IF SIOCSIFADDR A.B.C.D"),
        (
            "SIOCSIFDSTADDR 1.2.3.4 5",
            "usage: ifioctl IF SIOCSIFDSTADDR A.B.C.D",
        ),
        ("SIOCSIFFLAGS", "usage: ifioctl IF SIOCSIFFLAGS FLAGS"),
        ("SIOCSIFFLAGS up", "usage: ifioctl IF SIOCSIFFLAGS FLAGS"),
        ("SIOCSIFMTU", "usage: ifioctl IF SIOCSIFMTU N"),
        ("SIOCSIFMTU big", "usage: ifioctl IF SIOCSIFMTU N"),
        ("SIOCADDMULTI 1", "SIOCADDMULTI takes no argument"),
        ("SIOCDELMULTI 1", "SIOCDELMULTI takes no argument"),
        ("SIOCGIFSTATUS x", "SIOCGIFSTATUS takes no argument"),
        ("0x1234 x", "bad argument 'x'"),
        ("SIOCGIFMTU x", "bad argument 'x'"),
        ("SIOCFOO", "unknown interface ioctl 'SIOCFOO'"),
        ("TUNSIFHEAD 1", "unknown interface ioctl 'TUNSIFHEAD'"),
    ];
    for (args, msg) in cases {
        assert_eq!(deferred(&format!("ifioctl tun0 {args}")), msg, "{args}");
    }
}

#[test]
fn interface_commands() {
    assert_eq!(
        ok("if_start tun0"),
        Command::IfStart {
            ifname: "tun0".into()
        }
    );
    assert_eq!(err("if_start"), "usage: if_start IF");
    assert_eq!(err("if_start tun0 x"), "usage: if_start IF");
    assert_eq!(
        ok("ifaddr tun0 inet 10.0.0.9"),
        Command::IfAddr {
            ifname: "tun0".into(),
            addr: IfAddrSpec::Inet([10, 0, 0, 9])
        }
    );
    assert!(matches!(
        ok("ifaddr tun0 inet6"),
        Command::IfAddr {
            addr: IfAddrSpec::Inet6,
            ..
        }
    ));
    assert!(matches!(
        ok("ifaddr tun0 null"),
        Command::IfAddr {
            addr: IfAddrSpec::Null,
            ..
        }
    ));
    let u = "usage: ifaddr IF inet A.B.C.D | inet6 | null";
    for l in [
        "ifaddr",
        "ifaddr tun0",
        "ifaddr tun0 inet",
        "ifaddr tun0 inet 1.2.3",
        "ifaddr tun0 inet 1.2.3.4 x",
        "ifaddr tun0 inet6 x",
        "ifaddr tun0 null x",
        "ifaddr tun0 link",
    ] {
        assert_eq!(err(l), u, "{l}");
    }
    assert_eq!(
        ok("bpf attach tun0"),
        Command::BpfAttach {
            ifname: "tun0".into()
        }
    );
    assert_eq!(
        ok("bpf detach tun0"),
        Command::BpfDetach {
            ifname: "tun0".into()
        }
    );
    for l in ["bpf", "bpf attach", "bpf tun0 attach", "bpf attach tun0 x"] {
        assert_eq!(err(l), "usage: bpf attach|detach IF", "{l}");
    }
    assert_eq!(
        ok("altq tun0 on"),
        Command::Altq {
            ifname: "tun0".into(),
            on: true
        }
    );
    assert_eq!(
        ok("altq tun0 off"),
        Command::Altq {
            ifname: "tun0".into(),
            on: false
        }
    );
    for l in ["altq", "altq tun0", "altq tun0 ON", "altq tun0 on x"] {
        assert_eq!(err(l), "usage: altq IF on|off", "{l}");
    }
}

#[test]
fn proc_and_as() {
    assert_eq!(
        ok("proc 200"),
        Command::Proc {
            pid: 200,
            pgrp: None,
            sess: None,
            uid: None
        }
    );
    assert_eq!(
        ok("proc 99999 uid=4294967295 sess=3 pgrp=7 pgrp=8"),
        Command::Proc {
            pid: 99999,
            pgrp: Some(8),
            sess: Some(3),
            uid: Some(u32::MAX)
        }
    );
    let u = "usage: proc PID [pgrp=G] [sess=S] [uid=U]";
    for l in ["proc", "proc 0", "proc -5", "proc 100000", "proc x"] {
        assert_eq!(err(l), u, "{l}");
    }
    for opt in ["pgrp=-1", "foo=1", "pgrp", "uid=x", "uid=", "pgrp:5"] {
        assert_eq!(
            err(&format!("proc 5 {opt}")),
            format!("bad proc option '{opt}'")
        );
    }
    assert_eq!(
        ok("as 4294967396"),
        Command::As {
            pid: 100,
            text: "4294967396".into()
        }
    );
    assert_eq!(
        ok("as 0x65"),
        Command::As {
            pid: 101,
            text: "0x65".into()
        }
    );
    for l in ["as", "as x", "as 1 2"] {
        assert_eq!(err(l), "usage: as PID", "{l}");
    }
}

#[test]
fn jobs() {
    assert_eq!(
        ok("interrupt 1"),
        Command::Interrupt {
            job: NumRef {
                text: "1".into(),
                id: 1
            },
            restart: false
        }
    );
    assert!(matches!(
        ok("interrupt 2 restart"),
        Command::Interrupt {
            restart: true,
            job: NumRef { id: 2, .. }
        }
    ));
    let u = "usage: interrupt JOB [restart]";
    for l in [
        "interrupt",
        "interrupt 1 foo",
        "interrupt 1 restart x",
        "interrupt x foo",
    ] {
        assert_eq!(err(l), u, "{l}");
    }
    assert_eq!(err("interrupt 0 restart"), "no job 0");
    assert_eq!(err("interrupt x"), "no job x");
    assert!(matches!(
        ok("wait 0x3"),
        Command::Wait {
            job: NumRef { id: 3, .. }
        }
    ));
    assert_eq!(err("wait 0"), "no job 0");
    assert_eq!(err("wait x"), "no job x");
    assert_eq!(err("wait"), "usage: wait JOB");
    assert_eq!(err("wait 1 2"), "usage: wait JOB");
}

#[test]
fn environment_commands() {
    assert_eq!(ok("failalloc 1"), Command::FailAlloc(Some(1)));
    assert_eq!(ok("failalloc 1000000"), Command::FailAlloc(Some(1_000_000)));
    assert_eq!(ok("failalloc off"), Command::FailAlloc(None));
    for l in [
        "failalloc",
        "failalloc 0",
        "failalloc 1000001",
        "failalloc on",
        "failalloc 1 2",
        "failalloc off 1",
    ] {
        assert_eq!(err(l), "usage: failalloc N|off", "{l}");
    }
    assert_eq!(
        ok("show tun0"),
        Command::Show {
            name: "tun0".into()
        }
    );
    assert_eq!(err("show"), "usage: show IF");
    assert_eq!(err("show tun0 tun1"), "usage: show IF");
    assert_eq!(ok("mbufs"), Command::Mbufs);
    assert_eq!(err("mbufs x"), "usage: mbufs");
}

#[test]
fn example_scenarios_parse() {
    // The echo of every command of the shipped examples matches the
    // transcript, and every error decided here is the one it shows.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/scenarios");
    let entries = std::fs::read_dir(dir).expect("tests/scenarios is part of the repository");
    let mut checked = 0;
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("tun") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let out = std::fs::read_to_string(path.with_extension("out")).unwrap();
        let out: Vec<&str> = out.lines().collect();
        let mut at = 0;
        for line in split_lines(&text) {
            match parse_line(line) {
                Line::Blank => {}
                Line::Comment(c) => {
                    while out[at].starts_with("  ") {
                        at += 1;
                    }
                    assert_eq!(out[at], c);
                    at += 1;
                }
                Line::Command { echo, cmd } => {
                    while !out[at].starts_with('>') {
                        at += 1;
                    }
                    assert_eq!(out[at], format!("> {echo}"), "{}", path.display());
                    if let Err(e) = cmd {
                        assert_eq!(out[at + 1], format!("  ! error: {e}"));
                    }
                    at += 1;
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 0);
}
