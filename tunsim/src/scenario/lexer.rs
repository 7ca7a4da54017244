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

/// C `isspace` (what the oracle trims).
pub fn is_c_space(c: char) -> bool {
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

/// Reads scenario input line by line, cutting it into exactly the pieces
/// [`split_lines`] makes of the whole text (a piece ends after a `\n`, or after
/// [`MAX_LINE`] bytes moved back to a UTF-8 boundary), while holding no more than one
/// piece and one read-ahead of the input.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    start: usize,
    /// How much of the unread part is known to hold no `\n`.
    scanned: usize,
    eof: bool,
}

impl<R: std::io::BufRead> LineReader<R> {
    /// Reads from `inner`.
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            eof: false,
        }
    }

    /// The next piece, `None` at the end of the input. Input that is not UTF-8 fails with
    /// `InvalidData` (as reading the whole text into a `String` would).
    pub fn next_line(&mut self) -> std::io::Result<Option<&str>> {
        let end = loop {
            let avail = &self.buf[self.start..];
            let window = &avail[..avail.len().min(MAX_LINE)];
            if let Some(i) = window[self.scanned..].iter().position(|&b| b == b'\n') {
                break self.scanned + i + 1;
            }
            self.scanned = window.len();
            // No `\n` in the first MAX_LINE bytes: cut there once the byte after the cut is
            // known (it may continue a character).
            if avail.len() > MAX_LINE || (self.eof && avail.len() == MAX_LINE) {
                let mut end = MAX_LINE;
                while end > 0 && end < avail.len() && avail[end] & 0xc0 == 0x80 {
                    end -= 1;
                }
                break end;
            }
            if self.eof {
                if avail.is_empty() {
                    return Ok(None);
                }
                break avail.len();
            }
            self.buf.drain(..self.start);
            self.start = 0;
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                self.eof = true;
            } else {
                let n = chunk.len();
                self.buf.extend_from_slice(chunk);
                self.inner.consume(n);
            }
        };
        let s = self.start;
        self.start += end;
        self.scanned = 0;
        let piece = &self.buf[s..s + end];
        if end == 0 {
            return Err(not_utf8());
        }
        std::str::from_utf8(piece).map(Some).map_err(|_| not_utf8())
    }
}

fn not_utf8() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "stream did not contain valid UTF-8",
    )
}
