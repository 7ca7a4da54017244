// SPDX-License-Identifier: BSD-2-Clause
//! Leak accounting (scenario-language.md §7): after every command, every live mbuf must
//! belong to a packet on some interface's send queue; the others are reported once, then
//! counted as leaked.

use std::collections::BTreeSet;

use kmock::Kernel;

/// The mbufs reported as leaked so far.
#[derive(Debug, Default)]
pub struct Leaks {
    reported: BTreeSet<u64>,
}

/// The mbuf counts the `mbufs` command and the `end:` line print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accounting {
    /// Allocated and not freed, leaked ones included.
    pub live: usize,
    /// On send queues.
    pub queued: usize,
    /// Reported as leaked and still live.
    pub leaked: usize,
}

/// The ids of the mbufs on every interface's send queue.
fn queued_ids(k: &Kernel) -> BTreeSet<u64> {
    let mut ids = BTreeSet::new();
    for ifp in k.ifnets() {
        ifp.with_snd(&mut |q| {
            for p in q.iter() {
                for m in p.iter() {
                    ids.insert(m.id());
                }
            }
        });
    }
    ids
}

impl Leaks {
    /// The counts now.
    pub fn accounting(&self, k: &Kernel) -> Accounting {
        let live: BTreeSet<u64> = k.mbufs().live_ids().into_iter().collect();
        let queued = queued_ids(k);
        let leaked = self.reported.intersection(&live).count();
        Accounting {
            live: k.mbufs().live(),
            queued: queued.len(),
            leaked,
        }
    }

    /// Finds the live mbufs that are on no send queue and were not reported before; returns
    /// the `leak:` line for them (and remembers them), or `None` when there are none.
    pub fn check(&mut self, k: &Kernel) -> Option<String> {
        let queued = queued_ids(k);
        let new: Vec<u64> = k
            .mbufs()
            .live_ids()
            .into_iter()
            .filter(|id| !queued.contains(id) && !self.reported.contains(id))
            .collect();
        if new.is_empty() {
            return None;
        }
        let ids: Vec<String> = new.iter().map(|i| format!("#{i}")).collect();
        let line = format!(
            "  leak: {} mbuf(s) no longer reachable: {}",
            new.len(),
            ids.join(" ")
        );
        self.reported.extend(new);
        Some(line)
    }
}
