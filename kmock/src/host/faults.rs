// SPDX-License-Identifier: BSD-2-Clause
//! Deterministic allocation failure, per kernel instance.
//!
//! Every allocation made through the RfL face (`KBox`, `KVec`, `Arc`) and every mbuf asks
//! the door whether to fail. A kernel can fail the *n*-th allocation from now (once), or
//! every allocation at a call site. The plan costs one relaxed load per allocation when
//! nothing is armed and no trace is taken.

use crate::platform::Mutex;
use core::panic::Location;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::string::{String, ToString};
use std::vec::Vec;

use super::event::{Event, EventSink};
use super::sync::lock;

#[derive(Default)]
struct Plan {
    /// The allocation number that fails, if any.
    nth: Option<u64>,
    /// Call-site suffixes that fail.
    sites: Vec<String>,
    /// Recorded call sites, while tracing.
    trace: Option<Vec<String>>,
}

pub(crate) struct AllocFaults {
    count: AtomicU64,
    fired: AtomicU64,
    /// Whether anything is armed or traced (the fast path's one load).
    active: AtomicBool,
    plan: Mutex<Plan>,
}

/// A call site as events name it: `file:line:column`.
pub(crate) fn site_name(site: &Location<'_>) -> String {
    std::format!("{}:{}:{}", site.file(), site.line(), site.column())
}

impl AllocFaults {
    pub(crate) fn new() -> Self {
        AllocFaults {
            count: AtomicU64::new(0),
            fired: AtomicU64::new(0),
            active: AtomicBool::new(false),
            plan: Mutex::new(Plan::default()),
        }
    }

    fn refresh(&self, p: &Plan) {
        let on = p.nth.is_some() || !p.sites.is_empty() || p.trace.is_some();
        self.active.store(on, Ordering::Release);
    }

    pub(crate) fn arm_nth(&self, n: u64) {
        let mut p = lock(&self.plan);
        p.nth = (n > 0).then(|| self.count.load(Ordering::SeqCst) + n);
        self.refresh(&p);
    }

    pub(crate) fn arm_site(&self, site: &str) {
        let mut p = lock(&self.plan);
        p.sites.push(site.to_string());
        self.refresh(&p);
    }

    pub(crate) fn clear(&self) {
        let mut p = lock(&self.plan);
        p.nth = None;
        p.sites.clear();
        self.refresh(&p);
    }

    pub(crate) fn trace(&self, on: bool) {
        let mut p = lock(&self.plan);
        p.trace = on.then(Vec::new);
        self.refresh(&p);
    }

    pub(crate) fn take_trace(&self) -> Vec<String> {
        let mut p = lock(&self.plan);
        match &mut p.trace {
            Some(t) => core::mem::take(t),
            None => Vec::new(),
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    pub(crate) fn fired(&self) -> u64 {
        self.fired.load(Ordering::SeqCst)
    }

    /// Counts an allocation at `site`; `Some(its number)` if it must fail.
    pub(crate) fn check(&self, site: &Location<'_>) -> Option<u64> {
        let nth = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let mut p = lock(&self.plan);
        let name = site_name(site);
        if let Some(t) = &mut p.trace {
            t.push(name.clone());
        }
        let fail = if p.nth == Some(nth) {
            p.nth = None;
            true
        } else {
            let line = std::format!("{}:{}", site.file(), site.line());
            p.sites.iter().any(|s| {
                name.ends_with(s.as_str())
                    || line.ends_with(s.as_str())
                    || site.file().ends_with(s.as_str())
            })
        };
        self.refresh(&p);
        if fail {
            self.fired.fetch_add(1, Ordering::SeqCst);
            Some(nth)
        } else {
            None
        }
    }
}

impl AllocFaults {
    /// Counts an allocation at `site` and reports (as `InjectedFail`) one that must fail.
    pub(crate) fn fails(&self, site: &Location<'_>, events: &EventSink) -> bool {
        match self.check(site) {
            Some(nth) => {
                events.emit(|| Event::InjectedFail {
                    nth,
                    site: site_name(site),
                });
                true
            }
            None => false,
        }
    }
}
