// SPDX-License-Identifier: BSD-2-Clause
//! Jobs (scenario-language.md §6): reads that sleep in `tsleep` are kernel threads in
//! kmock's turn-taking mode; woken ones run after each command, in job order. `interrupt`
//! and `wait` act on them.

use kmock::sched::{Kthread, KthreadState};

use super::{Res, Sim};
use crate::scenario::command::NumRef;
use crate::scenario::transcript::{read_result, ReadOutcome};

/// A read that slept.
pub(super) struct Job {
    pub(super) dev: String,
    pub(super) th: Kthread<ReadOutcome>,
    pub(super) done: Option<String>,
}

impl Sim {
    pub(super) fn run_woken_jobs(&mut self) {
        loop {
            let next = self
                .jobs
                .iter()
                .position(|j| j.done.is_none() && self.k.kthread_runnable(j.th.tid()));
            let Some(i) = next else { break };
            let st = self.k.kthread_resume(&mut self.jobs[i].th);
            self.flush_events();
            match st {
                Ok(KthreadState::Done(o)) => {
                    let r = read_result(&o);
                    self.line(format!("  job {} = {r}", i + 1));
                    self.jobs[i].done = Some(r);
                }
                Ok(KthreadState::Sleeping) => {
                    self.line(format!("  job {}: woke up and sleeps again", i + 1))
                }
                Err(_) => break,
            }
        }
    }

    /// `interrupt J [restart]`.
    pub(super) fn interrupt(&mut self, job: NumRef, restart: bool) -> Result<Res, String> {
        let i = self.job_index(&job)?;
        let tid = self.jobs[i].th.tid();
        if self.jobs[i].done.is_some() || self.k.kthread_runnable(tid) {
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
            if self.jobs[i].done.is_some() {
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
