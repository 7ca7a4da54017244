// SPDX-License-Identifier: BSD-2-Clause
//! The root crate of `if_tun.ko`: Linux's real `module!`, and the load and unload of the
//! driver (crate `if_tun`, compiled from `driver/src` against `kshim`). It keeps the
//! driver free of `unsafe` and of Linux-only code.

use kernel::prelude::*;

module! {
    type: IfTunLinux,
    name: "if_tun",
    author: "Julian Onions (original); the if_tun Rust port authors",
    description: "DragonFly BSD's tun driver (Rust port), on Linux",
    // Every Rust symbol of Linux is GPL-only: "BSD-2-Clause" would fail modpost. The
    // source is BSD-2-Clause; "Dual BSD/GPL" says the module may be used under either.
    license: "Dual BSD/GPL",
}

struct IfTunLinux {
    drv: Option<if_tun::TunModule>,
}

impl kernel::Module for IfTunLinux {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        kshim::linux_init().map_err(kshim::to_kernel_error)?;
        match <if_tun::TunModule as kshim::module::Module>::init(kshim::module::this()) {
            Ok(drv) => {
                pr_info!("loaded: /dev/tun0..3 and the autoclone node /dev/tun\n");
                Ok(IfTunLinux { drv: Some(drv) })
            }
            Err(e) => {
                kshim::linux_exit();
                Err(kshim::to_kernel_error(e))
            }
        }
    }
}

impl Drop for IfTunLinux {
    fn drop(&mut self) {
        // The driver's unload (`tununload`): every unit detached, every node destroyed.
        drop(self.drv.take());
        kshim::linux_exit();
        pr_info!("unloaded, {} live mbufs\n", kshim::live_mbufs());
    }
}
