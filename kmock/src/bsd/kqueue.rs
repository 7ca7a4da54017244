// SPDX-License-Identifier: BSD-2-Clause
//! kqueue notes (`sys/event.h`, `kern_event.c`): the driver side of `kevent(2)`.
//!
//! BSD semantics mirrored:
//! - A [`Knote`] has a filter (`EVFILT_READ`, `EVFILT_WRITE`, …); a driver's `d_kqfilter`
//!   chooses its filter operations ([`FilterOps`]: detach and event routines) and hook
//!   (`kn_hook`, typically the softc) and inserts it on one of its [`KList`]s.
//! - `KNOTE(list, hint)` ([`knote`]) calls each knote's event routine and activates the
//!   knote when it answers nonzero; knotes are visited most-recently-inserted first
//!   (`SLIST_INSERT_HEAD`).
//! - `kqueue_register` checks a new knote once ([`Knote::check`]); a caller sees a knote
//!   fire through [`Knote::activations`].

use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc as StdArc;
use std::vec::Vec;

use crate::door::{self, Event};
use crate::sync::{Arc, Mutex};

/// `EVFILT_READ`.
pub const EVFILT_READ: i16 = -1;
/// `EVFILT_WRITE`.
pub const EVFILT_WRITE: i16 = -2;
/// `EVFILT_AIO`.
pub const EVFILT_AIO: i16 = -3;
/// `EVFILT_VNODE`.
pub const EVFILT_VNODE: i16 = -4;
/// `EVFILT_PROC`.
pub const EVFILT_PROC: i16 = -5;
/// `EVFILT_SIGNAL`.
pub const EVFILT_SIGNAL: i16 = -6;
/// `EVFILT_TIMER`.
pub const EVFILT_TIMER: i16 = -7;
/// `EVFILT_EXCEPT`.
pub const EVFILT_EXCEPT: i16 = -8;
/// `FILTEROP_ISFD`: the filter's ident is a descriptor.
pub const FILTEROP_ISFD: u32 = 1;

/// `struct filterops`.
pub struct FilterOps {
    /// `f_flags`.
    pub f_flags: u32,
    /// `f_attach` (unused by device filters: `NULL`).
    pub f_attach: Option<fn(&Knote) -> i32>,
    /// `f_detach`.
    pub f_detach: fn(&Knote),
    /// `f_event(kn, hint)`: nonzero (true) when the event is ready.
    pub f_event: fn(&Knote, i64) -> bool,
}

struct KnoteState {
    fop: Option<&'static FilterOps>,
    hook: Option<Arc<dyn Any + Send + Sync>>,
}

/// `struct knote`.
pub struct Knote {
    id: u64,
    kn_filter: i16,
    st: Mutex<KnoteState>,
    activations: AtomicU64,
}

impl core::fmt::Debug for Knote {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Knote")
            .field("id", &self.id)
            .field("filter", &self.kn_filter)
            .finish()
    }
}

impl Knote {
    /// A new knote with identifier `id` (chosen by the registrant) and filter `filter`.
    pub fn new(id: u64, filter: i16) -> Arc<Knote> {
        Arc::from_std(StdArc::new(Knote {
            id,
            kn_filter: filter,
            st: Mutex::new(KnoteState {
                fop: None,
                hook: None,
            }),
            activations: AtomicU64::new(0),
        }))
    }

    /// The registrant's identifier.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// `kn_filter`.
    pub fn kn_filter(&self) -> i16 {
        self.kn_filter
    }

    /// Sets `kn_fop`.
    pub fn set_fop(&self, fop: &'static FilterOps) {
        self.st.lock().fop = Some(fop);
    }

    /// Sets `kn_hook`.
    pub fn set_hook<T: Any + Send + Sync>(&self, hook: Arc<T>) {
        self.st.lock().hook = Some(hook.into_any());
    }

    /// `kn_hook`, downcast to the driver's type.
    pub fn hook<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let h = self.st.lock().hook.clone()?;
        h.downcast::<T>().ok()
    }

    /// Evaluates the filter (`f_event(kn, hint)`), as `kqueue_register` and `kevent`
    /// scans do; `false` if no filter operations are set.
    pub fn check(&self, hint: i64) -> bool {
        let fop = self.st.lock().fop;
        fop.is_some_and(|f| (f.f_event)(self, hint))
    }

    /// Calls `f_detach`, if filter operations are set.
    pub fn detach(&self) {
        let fop = self.st.lock().fop;
        if let Some(f) = fop {
            (f.f_detach)(self);
        }
    }

    /// How many times `KNOTE` activated this knote.
    pub fn activations(&self) -> u64 {
        self.activations.load(Ordering::SeqCst)
    }
}

/// `struct klist` (inside `struct kqinfo`): the knotes attached to an object.
#[derive(Default)]
pub struct KList {
    list: Mutex<Vec<Arc<Knote>>>,
}

impl KList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The attached knotes, in list order (most recently inserted first).
    pub fn snapshot(&self) -> Vec<Arc<Knote>> {
        self.list.lock().clone()
    }
}

/// `knote_insert(list, kn)`: attaches at the head.
pub fn knote_insert(list: &KList, kn: &Arc<Knote>) {
    list.list.lock().insert(0, kn.clone());
}

/// `knote_remove(list, kn)`: unlinks.
pub fn knote_remove(list: &KList, kn: &Knote) {
    let mut l = list.list.lock();
    if let Some(p) = l.iter().position(|k| core::ptr::eq(&**k, kn)) {
        l.remove(p);
    }
}

/// `KNOTE(list, hint)`: evaluates every knote on the list, activating the ready ones. The
/// list lock is not held while filters run (they may take other locks).
#[doc(alias = "KNOTE")]
pub fn knote(list: &KList, hint: i64) {
    let snapshot = list.snapshot();
    for kn in snapshot {
        let ready = kn.check(hint);
        if ready {
            kn.activations.fetch_add(1, Ordering::SeqCst);
        }
        door::emit(|| Event::Knote {
            id: kn.id,
            filter: kn.kn_filter,
            ready,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detach(kn: &Knote) {
        let l = kn.hook::<KList>().unwrap();
        knote_remove(&l, kn);
    }
    fn always(_: &Knote, _: i64) -> bool {
        true
    }
    static OPS: FilterOps = FilterOps {
        f_flags: FILTEROP_ISFD,
        f_attach: None,
        f_detach: detach,
        f_event: always,
    };

    #[test]
    fn insert_knote_detach() {
        let l = Arc::new(KList::new(), crate::alloc::flags::GFP_KERNEL).unwrap();
        let a = Knote::new(1, EVFILT_READ);
        let b = Knote::new(2, EVFILT_WRITE);
        for kn in [&a, &b] {
            kn.set_fop(&OPS);
            kn.set_hook(l.clone());
            knote_insert(&l, kn);
        }
        assert_eq!(
            l.snapshot().iter().map(|k| k.id()).collect::<Vec<_>>(),
            vec![2, 1]
        );
        knote(&l, 0);
        assert_eq!((a.activations(), b.activations()), (1, 1));
        b.detach();
        knote(&l, 0);
        assert_eq!((a.activations(), b.activations()), (2, 1));
        assert!(a.check(0));
        assert!(!Knote::new(3, EVFILT_READ).check(0));
    }
}
