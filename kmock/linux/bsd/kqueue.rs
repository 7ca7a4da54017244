// SPDX-License-Identifier: BSD-2-Clause
//! kqueue on Linux: knotes are the driver's readiness filters, evaluated by `poll(2)`.
//! A [`KList`]'s address is a wait channel: `KNOTE` wakes the tasks polling it.

use core::any::Any;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::alloc::{flags::GFP_KERNEL, AllocError};
use crate::sync::{downcast_arc, Arc, Spin};

/// `EVFILT_READ`.
pub const EVFILT_READ: i16 = -1;
/// `EVFILT_WRITE`.
pub const EVFILT_WRITE: i16 = -2;
/// `FILTEROP_ISFD`.
pub const FILTEROP_ISFD: u32 = 1;

/// `struct filterops`.
pub struct FilterOps {
    /// `f_flags`.
    pub f_flags: u32,
    /// `f_attach`.
    pub f_attach: Option<fn(&Knote) -> i32>,
    /// `f_detach`.
    pub f_detach: fn(&Knote),
    /// `f_event`.
    pub f_event: fn(&Knote, i64) -> bool,
}

/// `struct knote`.
pub struct Knote {
    id: u64,
    kn_filter: i16,
    fop: Spin<Option<&'static FilterOps>>,
    hook: Spin<Option<Arc<dyn Any + Send + Sync>>>,
    /// The wait channel of the list it was inserted in (0 until then).
    chan: AtomicUsize,
}

impl Knote {
    /// A knote for `filter` (`kevent(EV_ADD)`; here: the first `poll`).
    pub fn new(id: u64, filter: i16) -> Result<Arc<Knote>, AllocError> {
        Arc::new(
            Knote {
                id,
                kn_filter: filter,
                fop: Spin::new(None),
                hook: Spin::new(None),
                chan: AtomicUsize::new(0),
            },
            GFP_KERNEL,
        )
    }

    /// The knote's identifier.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// `kn->kn_filter`.
    pub fn kn_filter(&self) -> i16 {
        self.kn_filter
    }

    /// `kn->kn_fop = fop`.
    pub fn set_fop(&self, fop: &'static FilterOps) {
        *self.fop.lock() = Some(fop);
    }

    /// `kn->kn_hook = hook`.
    pub fn set_hook<T: Any + Send + Sync>(&self, hook: Arc<T>) {
        let any: Arc<dyn Any + Send + Sync> = hook;
        *self.hook.lock() = Some(any);
    }

    /// `kn->kn_hook`, if it is a `T`.
    pub fn hook<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let h = self.hook.lock().clone()?;
        downcast_arc::<T>(h).ok()
    }

    /// Runs the filter: ready or not.
    pub fn check(&self, hint: i64) -> bool {
        let fop = *self.fop.lock();
        fop.is_some_and(|f| (f.f_event)(self, hint))
    }

    /// Runs `f_detach`, then forgets the hook.
    pub fn detach(&self) {
        let fop = *self.fop.lock();
        if let Some(f) = fop {
            (f.f_detach)(self);
        }
        self.hook.lock().take();
    }

    /// The wait channel `poll` sleeps on for this knote.
    pub fn chan(&self) -> usize {
        self.chan.load(Ordering::Acquire)
    }
}

/// `struct klist` (`SLIST` of knotes); at most 8 (one open file attaches two).
#[derive(Default)]
pub struct KList {
    list: Spin<[Option<Arc<Knote>>; 8]>,
}

impl KList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The knotes, in list order (for tools).
    pub fn len(&self) -> usize {
        self.list.lock().iter().flatten().count()
    }
}

/// `knote_insert(list, kn)`: at the head, as `SLIST_INSERT_HEAD`. A full list (more than
/// 8 knotes) drops the knote, which then never reports.
pub fn knote_insert(list: &KList, kn: &Arc<Knote>) {
    kn.chan.store(crate::bsd::sleep::chan(list), Ordering::Release);
    let mut l = list.list.lock();
    let mut out: [Option<Arc<Knote>>; 8] = [const { None }; 8];
    out[0] = Some(kn.clone());
    let mut i = 1;
    for s in l.iter_mut() {
        if let Some(k) = s.take() {
            if i < out.len() {
                out[i] = Some(k);
                i += 1;
            }
        }
    }
    *l = out;
}

/// `knote_remove(list, kn)`.
pub fn knote_remove(list: &KList, kn: &Knote) {
    let mut l = list.list.lock();
    for s in l.iter_mut() {
        if s.as_ref().is_some_and(|k| core::ptr::eq(&**k, kn)) {
            *s = None;
        }
    }
}

/// `KNOTE(list, hint)`: wakes the tasks polling the list (they re-run the filters).
pub fn knote(list: &KList, _hint: i64) {
    crate::ffi::wakeup(crate::bsd::sleep::chan(list));
}
