// SPDX-License-Identifier: BSD-2-Clause
//! Module loading: a module's init runs inside the loading kernel as the kernel itself
//! (pid 0), the way a kernel runs a pseudo-device's attach routine at boot.

use super::kernel::Kernel;

/// Runs `init` inside `kernel` as pid 0.
pub fn run_init<R>(kernel: &Kernel, init: impl FnOnce() -> R) -> R {
    let _ctx = kernel.enter(0);
    init()
}
