// SPDX-License-Identifier: BSD-2-Clause
//! Jobs (scenario-language.md §6): reads that sleep in `tsleep` are kernel threads in
//! kmock's turn-taking mode; woken ones run after each command, in job order. `interrupt`
//! and `wait` act on them.
//!
//! The runner looks at no job it does not run: the kernel keeps the woken (and signalled)
//! sleepers in thread-id order, and job numbers follow thread ids (each read is a new
//! kernel thread, and jobs are numbered as their reads block), so the lowest runnable
//! thread is the woken job with the smallest number.

use kmock::sched::{Kthread, KthreadState};

use super::{Res, Sim};
use crate::scenario::command::NumRef;
use crate::scenario::transcript::{read_result, ReadOutcome};

/// A read that slept.
pub(super) struct Job {
    pub(super) dev: String,
    pub(super) th: Kthread<ReadOutcome>,
    pub(super) done: bool,
}

impl Sim {
    pub(super) fn run_woken_jobs(&mut self) {
        let mut from = 0;
        while let Some(tid) = self.k.kthread_next_runnable(from) {
            self.work.jobs_examined += 1;
            // Jobs are in thread-id order; a runnable thread that is no job is passed over.
            let Ok(i) = self.jobs.binary_search_by_key(&tid, |j| j.th.tid()) else {
                from = tid + 1;
                continue;
            };
            from = 0;
            self.work.jobs_resumed += 1;
            let st = self.k.kthread_resume(&mut self.jobs[i].th);
            self.flush_events();
            match st {
                Ok(KthreadState::Done(o)) => {
                    let r = read_result(&o);
                    self.line(format!("  job {} = {r}", i + 1));
                    self.job_done(i);
                }
                Ok(KthreadState::Sleeping) => {
                    self.line(format!("  job {}: woke up and sleeps again", i + 1))
                }
                Err(_) => break,
            }
        }
    }

    /// Job `i` has finished.
    pub(super) fn job_done(&mut self, i: usize) {
        let j = &mut self.jobs[i];
        j.done = true;
        if let Some(set) = self.blocked.get_mut(&j.dev) {
            set.remove(&i);
            if set.is_empty() {
                self.blocked.remove(&j.dev);
            }
        }
    }

    /// `interrupt J [restart]`.
    pub(super) fn interrupt(&mut self, job: NumRef, restart: bool) -> Result<Res, String> {
        let i = self.job_index(&job)?;
        let tid = self.jobs[i].th.tid();
        self.work.jobs_examined += 1;
        if self.jobs[i].done || self.k.kthread_runnable(tid) {
            return Err(format!("job {} is not sleeping", i + 1));
        }
        self.k
            .kthread_interrupt(tid, restart)
            .map_err(|_| format!("job {} is not sleeping", i + 1))?;
        Ok(Res::new("ok".into()))
    }

    /// `wait J`.
    pub(super) fn wait(&mut self, job: NumRef) -> Result<Res, String> {
        let i = self.job_index(&job)?;
        Ok(Res::new(
            if self.jobs[i].done {
                "done"
            } else {
                "still blocked"
            }
            .into(),
        ))
    }

    pub(super) fn job_index(&self, j: &NumRef) -> Result<usize, String> {
        let id = j.id;
        if id < 1 || id as usize > self.jobs.len() {
            return Err(format!("no job {}", j.text));
        }
        Ok(id as usize - 1)
    }
}
