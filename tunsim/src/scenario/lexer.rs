// SPDX-License-Identifier: BSD-2-Clause
//! Lexing of the tun scenario language (`shared/reference/scenario-language.md` §2): the
//! lines the oracle reads, their trimming, and their tokens.
//!
//! # Lexical details reproduced from the oracle
//!
//! * The oracle reads lines with `fgets` into a 65536-byte buffer: longer
//!   lines are processed as several lines ([`split_lines`]); a NUL byte
//!   ends the line.
//! * Leading and trailing C white space (space, `\t`, `\n`, `\v`, `\f`,
//!   `\r`) is trimmed; tokens are separated by runs of spaces and tabs
//!   only; at most [`MAX_TOKENS`] tokens are kept (the rest are dropped,

/// Longest line the oracle reads at once (`fgets` buffer of 65536 bytes).
pub const MAX_LINE: usize = 65535;
/// Most tokens the oracle keeps from one line.
pub const MAX_TOKENS: usize = 1024;

pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Splits input text into the lines the oracle's `fgets` loop sees: each
/// ends after a `\n`, or after [`MAX_LINE`] bytes (moved back to a UTF-8
/// boundary if needed).  The `\n` is kept; [`parse_line`](super::parser::parse_line) trims it.
pub fn split_lines(input: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let window = &rest.as_bytes()[..rest.len().min(MAX_LINE)];
        let mut end = match window.iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => window.len(),
        };
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// Splits a trimmed command line into its tokens (at most [`MAX_TOKENS`]).
pub fn tokenize(line: &str) -> Vec<&str> {
    line.split([' ', '\t'])
        .filter(|t| !t.is_empty())
        .take(MAX_TOKENS)
        .collect()
}
