// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim repl`: type scenario commands and see each result as it goes.
//!
//! On a terminal the line is edited with rustyline (arrows, Ctrl-R, history kept in
//! `$HOME/.tunsim_history`, or in memory only without `HOME` or when the file cannot be
//! written); from a pipe lines are read plainly, with the same prompts and output, so a
//! session can be piped in. Besides the scenario language the REPL knows `help` and
//! `help COMMAND` ([`scenario::help`](crate::scenario::help)), and under a syntax error it shows the
//! line with a caret under the token at fault ([`caret`]).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use crate::scenario::help;
use crate::scenario::lexer::is_c_space;
use crate::scenario::parser::{locate_error, ErrorAt};
use crate::scenario::Sim;

/// The prompt.
pub const PROMPT: &str = "tun> ";

/// A REPL session: the scenario so far.
pub struct Session {
    sim: Sim,
}

impl Session {
    /// A fresh world (scenario-language.md §1).
    pub fn new(trace: bool) -> Session {
        Session {
            sim: Sim::new(trace),
        }
    }

    /// Runs one typed line and returns what to print: the transcript lines without the
    /// command's echo, with a caret under the token a syntax error is about; or `help`.
    pub fn respond(&mut self, line: &str) -> String {
        let (shown, spans) = token_spans(line);
        let tokens: Vec<&str> = spans.iter().map(|&(a, b)| &shown[a..b]).collect();
        if tokens.first() == Some(&"help") {
            return match tokens.len() {
                1 => help::list(),
                2 => match help::topic(tokens[1]) {
                    Ok(t) => t,
                    Err(m) => {
                        format!(
                            "  ! error: {m}\n{}",
                            caret(&shown, &spans, ErrorAt::Token(1))
                        )
                    }
                },
                _ => format!(
                    "  ! error: usage: help [COMMAND]\n{}",
                    caret(&shown, &spans, ErrorAt::Token(2))
                ),
            };
        }
        self.sim.exec_line(line);
        let text = self.sim.take_output();
        let located = if tokens.is_empty() || shown.starts_with('#') {
            None
        } else {
            locate_error(&tokens)
        };
        let mut out = String::new();
        let mut pointed = false;
        for l in text.lines().filter(|l| !l.starts_with("> ")) {
            out.push_str(l);
            out.push('\n');
            if let Some(e) = &located {
                if !pointed && l.strip_prefix("  ! error: ") == Some(e.message.as_str()) {
                    out.push_str(&caret(&shown, &spans, e.at));
                    pointed = true;
                }
            }
        }
        out
    }

    /// The `end:` lines (§3), after the last command.
    pub fn finish(&mut self) -> String {
        self.sim.finish();
        self.sim.take_output()
    }
}

/// The line as the user sees it (cut at a NUL, trimmed, tabs shown as spaces) and the
/// byte spans of its tokens, as the lexer splits them.
fn token_spans(raw: &str) -> (String, Vec<(usize, usize)>) {
    let raw = raw.split('\0').next().unwrap_or_default();
    let shown = raw.trim_matches(is_c_space).replace('\t', " ");
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in shown.char_indices() {
        match (c == ' ', start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, shown.len()));
    }
    spans.truncate(crate::scenario::lexer::MAX_TOKENS);
    (shown, spans)
}

/// Two lines: `shown` and, under it, `^` under the token `at` (or one `^` past the end of
/// the line, where an argument is missing). Columns count characters.
pub fn caret(shown: &str, spans: &[(usize, usize)], at: ErrorAt) -> String {
    let col = |byte: usize| shown[..byte].chars().count();
    let (from, width) = match at {
        ErrorAt::Token(i) if i < spans.len() => {
            let (a, b) = spans[i];
            (col(a), shown[a..b].chars().count().max(1))
        }
        _ => (shown.chars().count() + 1, 1),
    };
    format!(
        "    {shown}\n    {}{}\n",
        " ".repeat(from),
        "^".repeat(width)
    )
}

/// The history file: `$HOME/.tunsim_history`, or none without `HOME`.
fn history_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".tunsim_history"))
}

/// Runs the REPL on standard input and output until end of input.
pub fn run(trace: bool) {
    let mut session = Session::new(trace);
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    if stdin.is_terminal() {
        if let Ok(mut ed) = rustyline::DefaultEditor::new() {
            let hist = history_path();
            if let Some(h) = &hist {
                let _ = ed.load_history(h);
            }
            let _ = writeln!(
                out,
                "tunsim repl: the tun scenario language; `help` lists the commands, Ctrl-D ends"
            );
            loop {
                match ed.readline(PROMPT) {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = ed.add_history_entry(line.as_str());
                        }
                        let _ = write!(out, "{}", session.respond(&line));
                        let _ = out.flush();
                    }
                    // Ctrl-C abandons the line being typed.
                    Err(rustyline::error::ReadlineError::Interrupted) => continue,
                    Err(_) => break,
                }
            }
            if let Some(h) = &hist {
                let _ = ed.save_history(h);
            }
            let _ = write!(out, "\n{}", session.finish());
            let _ = out.flush();
            return;
        }
    }
    // Not a terminal (a pipe, a file): plain lines, the same prompts and output.
    let _ = write!(out, "{PROMPT}");
    let _ = out.flush();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let _ = write!(out, "{}{PROMPT}", session.respond(&line));
        let _ = out.flush();
    }
    let _ = write!(out, "\n{}", session.finish());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_follow_the_lexer() {
        let (shown, spans) = token_spans("  open\t tun0  x\r\n");
        assert_eq!(shown, "open  tun0  x");
        let toks: Vec<&str> = spans.iter().map(|&(a, b)| &shown[a..b]).collect();
        assert_eq!(toks, ["open", "tun0", "x"]);
        assert_eq!(
            crate::scenario::lexer::tokenize("  open\t tun0  x".trim()),
            toks
        );
    }

    #[test]
    fn carets() {
        let (shown, spans) = token_spans("read tun0 abc");
        assert_eq!(
            caret(&shown, &spans, ErrorAt::Token(2)),
            "    read tun0 abc\n              ^^^\n"
        );
        assert_eq!(
            caret(&shown, &spans, ErrorAt::End),
            "    read tun0 abc\n                  ^\n"
        );
        // Characters, not bytes.
        let (shown, spans) = token_spans("é x");
        assert_eq!(
            caret(&shown, &spans, ErrorAt::Token(1)),
            "    é x\n      ^\n"
        );
    }
}
