#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Boots KERNEL with INITRAMFS in qemu (TCG: no KVM on these machines), without a network
# card, display or disk, and prints the serial console (carriage returns removed) on
# stdout until the guest powers off (`reboot -f`; -no-reboot turns it into an exit) or
# panics (panic=-1 reboots at once, so qemu exits too).
#
# Usage: run-qemu.sh KERNEL INITRAMFS
# Environment:
#   QEMU              qemu-system-x86_64 to run (default: the one build-kernel.sh
#                     unpacked into its folder, else the one on PATH)
#   QEMU_TIMEOUT      seconds before the guest is killed (default 120): exit status 124
#   QEMU_APPEND       more kernel command-line arguments
#   QEMU_MEM          guest memory (default 512M); QEMU_SMP: CPUs (default 1)
#   QEMU_LOG          also write the console to this file
# Exit status: qemu's (0 after `reboot -f` or a panic), 124 on time-out.
set -euo pipefail

if [ $# -ne 2 ]; then
	sed -n '/^# Usage:/,/^# Exit status:/s/^# \{0,1\}//p' "$0" >&2
	exit 2
fi
kernel=$1
initramfs=$2
[ -f "$kernel" ] || { echo "run-qemu.sh: no kernel $kernel" >&2; exit 2; }
[ -f "$initramfs" ] || { echo "run-qemu.sh: no initramfs $initramfs" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${QEMU:-}" ]; then
	QEMU=$("$here/build-kernel.sh" --print-dir)/qemu/usr/bin/qemu-system-x86_64
	[ -x "$QEMU" ] || QEMU=$(command -v qemu-system-x86_64 || true)
fi
if [ -z "$QEMU" ] || [ ! -x "$QEMU" ]; then
	echo "run-qemu.sh: no qemu-system-x86_64: run kernel/build-kernel.sh first" >&2
	exit 2
fi

# A qemu unpacked from the .debs (build-kernel.sh) looks for its modules (the TCG
# accelerator) and firmware relative to its own tree; seabios and ipxe-qemu are installed
# with apt, so their folders are named too (harmless for an installed qemu).
prefix=$(dirname "$(dirname "$QEMU")")
fw=()
for d in "$prefix/share/qemu" /usr/share/seabios /usr/lib/ipxe/qemu; do
	[ -d "$d" ] && fw+=(-L "$d")
done
if [ -z "${QEMU_MODULE_DIR:-}" ] && [ -d "$prefix/lib/x86_64-linux-gnu/qemu" ]; then
	export QEMU_MODULE_DIR=$prefix/lib/x86_64-linux-gnu/qemu
fi

log=${QEMU_LOG:-/dev/null}
set +e
timeout -k 5 "${QEMU_TIMEOUT:-120}" "$QEMU" "${fw[@]}" \
	-accel tcg -m "${QEMU_MEM:-512M}" -smp "${QEMU_SMP:-1}" \
	-nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$initramfs" \
	-append "console=ttyS0 panic=-1 ${QEMU_APPEND:-}" </dev/null 2>&1 |
	tr -d '\r' | tee "$log"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 124 ] && echo "run-qemu.sh: timed out after ${QEMU_TIMEOUT:-120} s" >&2
exit "$status"
