// SPDX-License-Identifier: BSD-2-Clause
//! The REPL's `help` (scenario-language.md §4–§6 in short): each command's syntax — the
//! same forms as the harness's `usage:` messages — and what it does.

/// One command's help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Help {
    /// The command name (`read`).
    pub name: &'static str,
    /// Its syntax, as in the harness's `usage:` message (`read DEV LEN [nonblock]`).
    pub syntax: &'static str,
    /// What it does, one line (for `help`).
    pub summary: &'static str,
    /// More lines for `help COMMAND`.
    pub details: &'static [&'static str],
}

/// Every command of the language, in the order of scenario-language.md, then the REPL's
/// own `help`.
pub const COMMANDS: &[Help] = &[
    Help {
        name: "open",
        syntax: "open DEV",
        summary: "open(\"/dev/DEV\"): DEV is tun0..tun3, or tun to clone a new unit",
        details: &[
            "The first open of a unit attaches its interface (if_attach). The devfs check",
            "refuses a process whose uid is neither 0 nor 66 (EACCES); then tunopen runs.",
            "A unit has at most one descriptor (EBUSY).",
        ],
    },
    Help {
        name: "close",
        syntax: "close DEV",
        summary: "last close of the descriptor: its knotes detached, then tunclose",
        details: &[
            "tunclose marks the interface down and removes its addresses. Refused while a",
            "job is blocked reading DEV: interrupt it first.",
        ],
    },
    Help {
        name: "read",
        syntax: "read DEV LEN [nonblock]",
        summary: "read() with a LEN-byte buffer (0..1000000); if it sleeps, it is job J",
        details: &[
            "IO_NDELAY is passed with nonblock or after `ioctl DEV FIONBIO 1` (EWOULDBLOCK",
            "when nothing is queued). Otherwise tunread sets TUN_RWAIT and sleeps in",
            "tsleep(\"tunread\"): the result is `= blocked (job J)`, and the job's result",
            "(`job J = ...`) is printed after the command that wakes it (an if_output).",
        ],
    },
    Help {
        name: "write",
        syntax: "write DEV PAYLOAD...",
        summary: "write() of the payload bytes: tunwrite hands the packet to netisr",
        details: &["PAYLOAD tokens: see `help payload`."],
    },
    Help {
        name: "ioctl",
        syntax: "ioctl DEV NAME|0xNUMBER [ARG]",
        summary: "ioctl() on the descriptor (tunioctl), by name or raw number",
        details: &[
            "integer in:  TUNSDEBUG TUNSLMODE TUNSIFHEAD FIOASYNC FIOSETOWN TIOCSPGRP",
            "flags in:    TUNSIFMODE POINTOPOINT|MULTICAST",
            "info in:     TUNSIFINFO mtu=N type=N baudrate=N (any subset)",
            "value out:   TUNGDEBUG TUNGIFHEAD FIONREAD FIOGETOWN TIOCGPGRP (= ok value=V)",
            "info out:    TUNGIFINFO (= ok baudrate=B mtu=M type=T)",
            "no argument: TUNSIFPID, TIOCSIG (the same number)",
            "FIONBIO 0|1: the generic layer's non-blocking flag; the driver is not called",
            "0xNUMBER [INT]: straight to tunioctl, INT in the first 4 bytes of the buffer",
        ],
    },
    Help {
        name: "kq",
        syntax: "kq add DEV FILTER | kq check K | kq del K",
        summary: "kqueue: register knote K through the descriptor, evaluate it, detach it",
        details: &[
            "FILTER: read write aio vnode proc signal timer except, or a number.",
            "`kq add` calls tunkqfilter and checks the new knote once.",
        ],
    },
    Help {
        name: "if_output",
        syntax: "if_output IF DST PAYLOAD... [lead=N] [seg=A,B,..] [mcast]",
        summary: "the stack sends a packet out of IF: ifp->if_output (tunoutput)",
        details: &[
            "DST: inet:A.B.C.D, inet6, unspec (a bpf write), sa:FAMILY:LEN.",
            "lead=N leaves N bytes (0..56) before the data; seg= gives each mbuf's length;",
            "mcast sets M_MCAST. The packet is queued on if_snd and wakes a sleeping read.",
        ],
    },
    Help {
        name: "ifioctl",
        syntax: "ifioctl IF CMD [ARG]",
        summary: "the generic ifioctl layer, then tunifioctl",
        details: &[
            "SIOCSIFADDR A.B.C.D, SIOCSIFDSTADDR A.B.C.D, SIOCSIFFLAGS FLAGS, SIOCSIFMTU N,",
            "SIOCADDMULTI, SIOCDELMULTI, SIOCGIFSTATUS; 0xNUMBER [INT] and SIOCGIFMTU go to",
            "the driver directly. SIOCSIFADDR marks the interface UP|RUNNING (tuninit).",
        ],
    },
    Help {
        name: "if_start",
        syntax: "if_start IF",
        summary: "ifp->if_start (tunstart): does something only with `altq IF on`",
        details: &[],
    },
    Help {
        name: "ifaddr",
        syntax: "ifaddr IF inet A.B.C.D | inet6 | null",
        summary: "append an address to IF's list without telling the driver",
        details: &["null: an ifaddr without a sockaddr (tuninit's EFAULT branch)."],
    },
    Help {
        name: "bpf",
        syntax: "bpf attach|detach IF",
        summary: "add or remove a bpf listener (then every tap prints `bpf IF: ...`)",
        details: &[],
    },
    Help {
        name: "altq",
        syntax: "altq IF on|off",
        summary: "set or clear ALTQF_ENABLED on if_snd (tunstart acts only when on)",
        details: &[],
    },
    Help {
        name: "proc",
        syntax: "proc PID [pgrp=G] [sess=S] [uid=U]",
        summary: "create or change process PID (defaults: pgrp=PID sess=1 uid=0)",
        details: &[],
    },
    Help {
        name: "as",
        syntax: "as PID",
        summary: "make PID the current process (its credentials, pid and session)",
        details: &[],
    },
    Help {
        name: "failalloc",
        syntax: "failalloc N|off",
        summary: "make the driver's N-th next mbuf allocation fail (once)",
        details: &[],
    },
    Help {
        name: "interrupt",
        syntax: "interrupt JOB [restart]",
        summary: "signal a sleeping job: its tsleep returns EINTR (ERESTART with restart)",
        details: &["The job then finishes, printing `job J = EINTR`."],
    },
    Help {
        name: "wait",
        syntax: "wait JOB",
        summary: "say whether job JOB has finished (= done / = still blocked)",
        details: &[],
    },
    Help {
        name: "show",
        syntax: "show IF",
        summary: "print the softc and interface state, and the queued packets",
        details: &[],
    },
    Help {
        name: "mbufs",
        syntax: "mbufs",
        summary: "mbuf accounting: live, queued, leaked, allocated",
        details: &[],
    },
    Help {
        name: "help",
        syntax: "help [COMMAND]",
        summary: "this list, or one command's syntax and description (the REPL only)",
        details: &["`help payload` lists the payload tokens."],
    },
];

/// `help payload`.
pub const PAYLOAD_HELP: &[&str] = &[
    "PAYLOAD... is any sequence of these tokens, concatenated:",
    "  45000014, dead beef   hex digits, an even number per token",
    "  be32:N                N as 4 bytes, network order (the TUNSIFHEAD family word)",
    "  le32:N                N as 4 bytes, host order",
    "  zeros:N  pat:N        N zero bytes; N bytes 00 01 02 ...",
    "  ip4:SRC>DST           a 20-byte IPv4 header for what follows (once per line)",
];

/// Looks a command's help up.
pub fn lookup(name: &str) -> Option<&'static Help> {
    COMMANDS.iter().find(|h| h.name == name)
}

/// `help`: every command's syntax, each with its summary on the next line (indented), so
/// that the list fits an 80-column terminal.
pub fn list() -> String {
    let mut s = String::from("commands (`help COMMAND` for one; `help payload` for payloads):\n");
    for h in COMMANDS {
        s.push_str(&format!("  {}\n      {}\n", h.syntax, h.summary));
    }
    s
}

/// `help NAME`: the syntax and description of a command (or the payload tokens), or the
/// error to print.
pub fn topic(name: &str) -> Result<String, String> {
    if name == "payload" {
        return Ok(PAYLOAD_HELP.iter().map(|l| format!("{l}\n")).collect());
    }
    let h = lookup(name).ok_or_else(|| format!("no command '{name}' (`help` lists them)"))?;
    let mut s = format!("usage: {}\n  {}\n", h.syntax, h.summary);
    for l in h.details {
        s.push_str(&format!("  {l}\n"));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parser::parse_command;

    #[test]
    fn each_syntax_is_the_harness_usage() {
        for h in COMMANDS
            .iter()
            .filter(|h| !matches!(h.name, "help" | "mbufs"))
        {
            assert_eq!(
                parse_command(&[h.name]),
                Err(format!("usage: {}", h.syntax)),
                "{}",
                h.name
            );
        }
        assert_eq!(parse_command(&["mbufs", "x"]), Err("usage: mbufs".into()));
    }

    #[test]
    fn every_command_has_help() {
        for name in [
            "open",
            "close",
            "read",
            "write",
            "ioctl",
            "kq",
            "if_output",
            "ifioctl",
            "if_start",
            "ifaddr",
            "bpf",
            "altq",
            "proc",
            "as",
            "failalloc",
            "interrupt",
            "wait",
            "show",
            "mbufs",
        ] {
            assert!(lookup(name).is_some(), "{name}");
            // And the parser knows it.
            assert!(
                !matches!(parse_command(&[name]), Err(m) if m.starts_with("unknown command")),
                "{name}"
            );
        }
        assert!(topic("nosuch").is_err());
    }
}
