// SPDX-License-Identifier: BSD-2-Clause
//! Scenarios stream (issue 11 §6): the input is read line by line into the same pieces the
//! whole text is cut into, and each line's transcript is written before the next line is
//! read, so a run holds neither its input nor its transcript.

use std::cell::RefCell;
use std::io::{BufReader, Read, Write};
use std::rc::Rc;

use tunsim::scenario::lexer::{split_lines, LineReader, MAX_LINE};

fn pieces(text: &[u8], cap: usize) -> std::io::Result<Vec<String>> {
    let mut r = LineReader::new(BufReader::with_capacity(cap, text));
    let mut v = Vec::new();
    while let Some(l) = r.next_line()? {
        v.push(l.to_string());
    }
    Ok(v)
}

#[test]
fn the_line_reader_cuts_as_split_lines_does() {
    let long = "x".repeat(MAX_LINE * 2 + 10);
    let mut texts = vec![
        String::new(),
        "a\n\nb".into(),
        "open tun0\r\nshow tun0\n".into(),
        format!("{long}\nshort\n"),
        format!("{}\n", "y".repeat(MAX_LINE)),
        "z".repeat(MAX_LINE),
        "w".repeat(MAX_LINE + 1),
    ];
    // A multi-byte character across the cut, at each of its offsets.
    for k in 0..4 {
        texts.push(format!(
            "{}é€😀{}\nnext",
            "q".repeat(MAX_LINE - k),
            "r".repeat(10)
        ));
    }
    for t in &texts {
        let want: Vec<String> = split_lines(t).into_iter().map(String::from).collect();
        for cap in [1, 3, 7, 4096, 1 << 20] {
            assert_eq!(pieces(t.as_bytes(), cap).unwrap(), want, "capacity {cap}");
        }
    }
}

#[test]
fn input_that_is_not_utf8_fails_as_reading_it_whole_would() {
    let mut bad = b"open tun0\n".to_vec();
    bad.extend_from_slice(&[0xff, b'\n']);
    let e = pieces(&bad, 4).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    let mut out = Vec::new();
    let e = tunsim::scenario::run_scenario_stream(&bad[..], &mut out, false).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    // What came before the bad line was run and written.
    assert!(String::from_utf8(out).unwrap().starts_with("> open tun0\n"));
}

#[test]
fn streamed_transcripts_equal_the_golden_ones() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/scenarios");
    let files = tunsim::scenario::check::scenarios(std::path::Path::new(dir)).unwrap();
    assert!(files.len() >= 37);
    for f in files {
        let golden = std::fs::read_to_string(f.with_extension("out")).unwrap();
        let input = std::fs::File::open(&f).unwrap();
        let mut out = Vec::new();
        // A tiny read buffer: lines arrive in pieces.
        tunsim::scenario::run_scenario_stream(BufReader::with_capacity(5, input), &mut out, false)
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), golden, "{}", f.display());
    }
}

/// Input served one line per read, noting how much transcript had been written by then.
struct Lines {
    lines: Vec<&'static str>,
    next: usize,
    written: Rc<RefCell<Vec<u8>>>,
    seen: Vec<usize>,
}

impl Read for Lines {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.seen.push(self.written.borrow().len());
        let Some(l) = self.lines.get(self.next) else {
            return Ok(0);
        };
        self.next += 1;
        buf[..l.len()].copy_from_slice(l.as_bytes());
        Ok(l.len())
    }
}

struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn each_line_is_answered_before_the_next_is_read() {
    let written = Rc::new(RefCell::new(Vec::new()));
    let mut input = Lines {
        lines: vec![
            "open tun0\n",
            "read tun0 100\n",
            "show tun0\n",
            "close tun0\n",
        ],
        next: 0,
        written: written.clone(),
        seen: Vec::new(),
    };
    let mut sink = Sink(written.clone());
    tunsim::scenario::run_scenario_stream(
        BufReader::with_capacity(64, &mut input),
        &mut sink,
        false,
    )
    .unwrap();
    // Every read after the first found more transcript than the one before it.
    let seen = &input.seen;
    assert_eq!(seen[0], 0);
    for w in seen.windows(2).take(input.lines.len()) {
        assert!(
            w[1] > w[0],
            "no transcript written between two reads: {seen:?}"
        );
    }
    let text = String::from_utf8(written.borrow().clone()).unwrap();
    assert!(text.contains("> read tun0 100\n  = blocked (job 1)\n"));
    assert!(text.ends_with("end: mbufs live=0 queued=0 leaked=0\n"));
}
