# SPDX-License-Identifier: BSD-2-Clause
#
# The Rust-enabled Linux 6.12 the kernel-side tests build against (kernel/README.md).
# Included by the top-level Makefile:
#
#   make kernel       installs the packages, builds bindgen and the kernel into the cache
#                     folder keyed by kernel/versions.env (reused when complete: seconds)
#   make kernel-dir   prints that folder
#   make kernel-test  builds if_tun.ko and kernel/test/tuntest, boots them in qemu and checks
#                     the console (kernel/kernel-test.sh; KERNEL_TEST_ARGS=-v streams it)
#
# Variables for the rules that build and boot modules against it (all lazy: evaluating
# one runs `build-kernel.sh --print-dir`, which only computes the key):
#   KERNEL_DIR       the cache folder
#   KERNEL_KDIR      its standalone module-build tree: $(MAKE) -C $(KERNEL_KDIR) M=...
#   KERNEL_BZIMAGE   the kernel to boot
#   KERNEL_QEMU      the unpacked qemu-system-x86_64
#   KERNEL_MAKEFLAGS what a module build must pass: the exact rustc of the kernel build
#                    (rustup's rustc earlier on PATH would fail with E0514) and LLVM=1

KERNEL_SCRIPTS := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KERNEL_BUILD_SH := $(KERNEL_SCRIPTS)/build-kernel.sh

KERNEL_DIR = $(shell $(KERNEL_BUILD_SH) --print-dir)
KERNEL_KDIR = $(KERNEL_DIR)/kbuild
KERNEL_BZIMAGE = $(KERNEL_DIR)/bzImage
KERNEL_QEMU = $(KERNEL_DIR)/qemu/usr/bin/qemu-system-x86_64
KERNEL_MAKEFLAGS = LLVM=1 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc

# Defining these targets must not make them the default goal of the including Makefile.
kernel_mk_default_goal := $(.DEFAULT_GOAL)

.PHONY: kernel kernel-dir kernel-test kernel-makeflags

kernel:
	$(KERNEL_BUILD_SH)

kernel-dir:
	@$(KERNEL_BUILD_SH) --print-dir

kernel-test:
	$(KERNEL_SCRIPTS)/kernel-test.sh $(KERNEL_TEST_ARGS)

# What kernel-test.sh passes to `make modules` (one definition: KERNEL_MAKEFLAGS above).
kernel-makeflags:
	@echo $(KERNEL_MAKEFLAGS)

.DEFAULT_GOAL := $(kernel_mk_default_goal)
