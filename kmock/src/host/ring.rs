// SPDX-License-Identifier: BSD-2-Clause
//! A bounded log: the newest entries, up to a limit, and a count of the older ones it let
//! go (the console's `msgbuf`, which overwrites its oldest bytes, in lines). The console
//! and the per-process record of received signals are kept this way, so a long run with
//! `TUNSDEBUG` on, or a flood of `SIGIO`, costs a bounded amount of memory.

use std::collections::VecDeque;
use std::vec::Vec;

/// The newest entries of a log, at most [`Ring::limit`] of them, oldest first.
#[derive(Clone, Debug)]
pub struct Ring<T> {
    buf: VecDeque<T>,
    limit: usize,
    dropped: u64,
}

impl<T> Ring<T> {
    /// An empty log keeping at most `limit` entries.
    pub(crate) fn new(limit: usize) -> Self {
        Ring {
            buf: VecDeque::new(),
            limit,
            dropped: 0,
        }
    }

    /// Appends `x`, letting the oldest entry go (and counting it) when the log is full.
    pub(crate) fn push(&mut self, x: T) {
        if self.limit == 0 {
            self.dropped += 1;
            return;
        }
        if self.buf.len() == self.limit {
            self.buf.pop_front();
            self.dropped += 1;
        }
        self.buf.push_back(x);
    }

    /// Takes every entry kept, oldest first; the log is then empty (the count of dropped
    /// entries stays).
    pub(crate) fn take(&mut self) -> Vec<T> {
        self.buf.drain(..).collect()
    }

    /// Changes the limit; the oldest entries beyond it go now (and are counted).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        while self.buf.len() > limit {
            self.buf.pop_front();
            self.dropped += 1;
        }
    }

    /// The most entries kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many entries were let go since the log began (never reset by a take).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many entries are kept now.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

impl<T: Clone> Ring<T> {
    /// A copy of the entries kept, oldest first.
    pub fn to_vec(&self) -> Vec<T> {
        self.buf.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_counts_the_rest() {
        let mut r = Ring::new(3);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!((r.to_vec(), r.dropped(), r.len()), (vec![2, 3, 4], 2, 3));
        assert_eq!(r.take(), vec![2, 3, 4]);
        assert!(r.is_empty());
        assert_eq!(r.dropped(), 2);
        r.push(5);
        r.push(6);
        r.set_limit(1);
        assert_eq!((r.to_vec(), r.dropped(), r.limit()), (vec![6], 3, 1));
        r.set_limit(0);
        r.push(7);
        assert!(r.is_empty());
        assert_eq!(r.dropped(), 5);
    }
}
