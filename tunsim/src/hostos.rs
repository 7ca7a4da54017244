// SPDX-License-Identifier: BSD-2-Clause
//! What the runner asks of the host operating system (Linux only; a no-op elsewhere).
//!
//! A scenario's blocked reads are real threads, each waiting on its own condition variable
//! (a futex). Linux 6.17 gave every process a *private* futex hash sized by its CPUs, not
//! by its threads: 16 buckets on this 2-CPU machine, so with 10,000 sleeping jobs each
//! futex wake walks ~600 waiters, and a runner's handoff cost grows with the number of
//! jobs (measured with plain `std` threads: 26 µs per handoff at 1,000 sleepers, 182 µs at
//! 16,000; docs/performance.md). [`use_global_futex_hash`] puts the process back on the
//! system-wide hash (256 buckets per CPU, what every kernel before 6.17 used), where the
//! handoff stays at 26 µs up to 16,000 sleepers.

/// Moves this process's futexes to the kernel's global hash (`prctl(PR_FUTEX_HASH,
/// PR_FUTEX_HASH_SET_SLOTS, 0)`), once. Returns whether the kernel took it: kernels before
/// 6.17 refuse with `EINVAL` and already use the global hash, so a refusal changes nothing.
pub fn use_global_futex_hash() -> bool {
    static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DONE.get_or_init(set_global_hash)
}

#[cfg(target_os = "linux")]
fn set_global_hash() -> bool {
    const PR_FUTEX_HASH: i32 = 78;
    const PR_FUTEX_HASH_SET_SLOTS: u64 = 1;
    extern "C" {
        fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    }
    // SAFETY: PR_FUTEX_HASH takes only integers (the number of slots, 0 for the global
    // hash, and flags); it touches no memory of ours, and the call is made with every
    // argument a `long` as prctl(2) reads them.
    unsafe { prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, 0, 0, 0) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn set_global_hash() -> bool {
    false
}
