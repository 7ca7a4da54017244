// SPDX-License-Identifier: BSD-2-Clause
//! `docs/tutorial.md` runs as shown (issue 12 §5). In an empty temporary folder, this test
//! writes each ```` ```text file=NAME ```` block to NAME, runs each `$ tunsim ARGS [< FILE]`
//! line of each ```` ```console ```` block with the built `tunsim` and compares its standard
//! output with the lines under it — exactly, but for blanks at the ends of lines; in a block
//! marked `normalize=numbers` (the demo's, whose timings and packet counts vary) every run
//! of digits (with its decimal point) is replaced by `N` on both sides first, and each run
//! of indented lines (the demo's narration of kmock events, which the stack's and the
//! daemon's threads interleave differently from run to run) is compared in any order —
//! compares
//! each embedded `tutorial/NAME.svg` with the NAME.svg the commands drew, and checks that
//! each ```` ```rust file=PATH lines=A-B ```` excerpt is still lines A–B of PATH.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Block {
    info: String,
    body: Vec<String>,
    line: usize,
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut cur: Option<Block> = None;
    for (i, l) in md.lines().enumerate() {
        match cur.take() {
            None => {
                if let Some(info) = l.strip_prefix("```") {
                    cur = Some(Block {
                        info: info.trim().to_string(),
                        body: Vec::new(),
                        line: i + 1,
                    });
                }
            }
            Some(mut b) => {
                if l == "```" {
                    out.push(b);
                } else {
                    b.body.push(l.to_string());
                    cur = Some(b);
                }
            }
        }
    }
    assert!(cur.is_none(), "an unclosed code block");
    out
}

fn attr<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// Every number (digits, with a decimal point between digits) as `N`.
fn normalize_numbers(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut o = String::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_ascii_digit() {
            while i < c.len()
                && (c[i].is_ascii_digit()
                    || (c[i] == '.' && i + 1 < c.len() && c[i + 1].is_ascii_digit()))
            {
                i += 1;
            }
            o.push('N');
        } else {
            o.push(c[i]);
            i += 1;
        }
    }
    o
}

/// Each run of consecutive lines that begin with two spaces, sorted.
fn sort_indented_runs(lines: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for l in lines {
        if l.starts_with("  ") {
            run.push(l);
        } else {
            run.sort();
            out.append(&mut run);
            out.push(l);
        }
    }
    run.sort();
    out.append(&mut run);
    out
}

fn tidy(s: &str, numbers: bool) -> String {
    let s = if numbers {
        normalize_numbers(s)
    } else {
        s.to_string()
    };
    let mut lines: Vec<String> = s.lines().map(|l| l.trim_end().to_string()).collect();
    if numbers {
        lines = sort_indented_runs(lines);
    }
    lines.join("\n").trim_end().to_string()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_tutorial_runs_as_shown() {
    let md_path = root().join("docs/tutorial.md");
    let md = fs::read_to_string(&md_path).unwrap();
    let dir = std::env::temp_dir().join(format!("tunsim-tutorial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let (mut files, mut commands, mut excerpts) = (0, 0, 0);
    for b in blocks(&md) {
        let lang = b.info.split_whitespace().next().unwrap_or("");
        let at = format!("docs/tutorial.md:{}", b.line);
        match lang {
            "text" if attr(&b.info, "file").is_some() => {
                let name = attr(&b.info, "file").unwrap();
                let mut text = b.body.join("\n");
                text.push('\n');
                fs::write(dir.join(name), text).unwrap();
                files += 1;
            }
            "console" => {
                let numbers = attr(&b.info, "normalize") == Some("numbers");
                let mut i = 0;
                while i < b.body.len() {
                    let cmd = b.body[i].strip_prefix("$ ").unwrap_or_else(|| {
                        panic!("{at}: expected a `$ ` line, got {:?}", b.body[i])
                    });
                    let mut j = i + 1;
                    while j < b.body.len() && !b.body[j].starts_with("$ ") {
                        j += 1;
                    }
                    let want = b.body[i + 1..j].join("\n");
                    let mut words: Vec<&str> = cmd.split_whitespace().collect();
                    assert_eq!(words.first(), Some(&"tunsim"), "{at}: {cmd}");
                    let mut c = Command::new(env!("CARGO_BIN_EXE_tunsim"));
                    c.current_dir(&dir).env_remove("HOME").stdin(Stdio::null());
                    if let Some(k) = words.iter().position(|w| *w == "<") {
                        let f = words
                            .get(k + 1)
                            .unwrap_or_else(|| panic!("{at}: `<` needs a file"));
                        c.stdin(fs::File::open(dir.join(f)).unwrap());
                        words.truncate(k);
                    }
                    let out = c.args(&words[1..]).output().unwrap();
                    assert!(
                        out.status.success(),
                        "{at}: `{cmd}` failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    let got = String::from_utf8(out.stdout).unwrap();
                    let (g, w) = (tidy(&got, numbers), tidy(&want, numbers));
                    if g != w {
                        let first = g
                            .lines()
                            .zip(w.lines())
                            .position(|(a, b)| a != b)
                            .unwrap_or(g.lines().count().min(w.lines().count()));
                        panic!(
                            "{at}: `{cmd}` prints something else than the tutorial shows \
                             (first difference at output line {}):\n--- shown\n{w}\n--- printed\n{g}",
                            first + 1
                        );
                    }
                    commands += 1;
                    i = j;
                }
            }
            "rust" if attr(&b.info, "file").is_some() => {
                let path = attr(&b.info, "file").unwrap();
                let lines = attr(&b.info, "lines").unwrap_or_else(|| panic!("{at}: lines=A-B"));
                let (a, z) = lines.split_once('-').unwrap();
                let (a, z): (usize, usize) = (a.parse().unwrap(), z.parse().unwrap());
                let src = fs::read_to_string(root().join(path)).unwrap();
                let have: Vec<&str> = src.lines().skip(a - 1).take(z + 1 - a).collect();
                assert_eq!(
                    have.join("\n"),
                    b.body.join("\n"),
                    "{at}: the excerpt is no longer lines {lines} of {path}"
                );
                excerpts += 1;
            }
            _ => {}
        }
    }
    // The charts embedded in the page are the ones its commands draw.
    let mut charts = 0;
    for (k, _) in md.match_indices("](tutorial/") {
        let rest = &md[k + "](tutorial/".len()..];
        let name = &rest[..rest.find(')').unwrap()];
        let committed = fs::read(root().join("docs/tutorial").join(name)).unwrap();
        let drawn = fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("the tutorial's commands drew no {name}: {e}"));
        assert!(
            committed == drawn,
            "docs/tutorial/{name} is not what `tunsim run --diagram` draws now"
        );
        charts += 1;
    }
    let _ = fs::remove_dir_all(&dir);
    assert!(
        files >= 2 && commands >= 5 && excerpts >= 3 && charts >= 1,
        "files {files}, commands {commands}, excerpts {excerpts}, charts {charts}"
    );
}

#[test]
fn indented_runs_compare_in_any_order() {
    let a = tidy("x\n  b\n  a\ny\n  d\n  c", true);
    assert_eq!(a, tidy("x\n  a\n  b\ny\n  c\n  d", true));
    assert_ne!(tidy("x\n  b\n  a", false), tidy("x\n  a\n  b", false));
}

#[test]
fn numbers_are_normalized() {
    assert_eq!(
        normalize_numbers("time=0.251 ms, 64 packets, seq=1/256"),
        "time=N ms, N packets, seq=N/N"
    );
    assert_eq!(normalize_numbers("v1. x"), "vN. x");
}
