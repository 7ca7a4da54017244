#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# /init of the if_tun test guest (packed by kernel/kernel-test.sh with kernel/mkinitramfs.sh).
# The guest has busybox and no bash, so this one script is POSIX sh (busybox ash), not bash.
#
# Mounts proc, sys, devtmpfs and a tmpfs, loads the module, runs /tuntest (its output goes
# to the console as it runs and is replayed once more between TUNTEST LOG BEGIN/END, away
# from interleaved kernel messages), unloads the module, prints the module's kernel log
# lines, prints INIT DONE and powers off (qemu -no-reboot exits).
#
# /tuntest.conf (optional, sourced) may set MODULE_KO, MODULE_NAME and TUNTEST_ARGS; the
# defaults are the real test: /if_tun.ko, if_tun, no arguments.
export PATH=/bin:/sbin
set -u

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || echo "INIT devtmpfs: already mounted?"
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1

MODULE_KO=/if_tun.ko
MODULE_NAME=if_tun
TUNTEST_ARGS=
# shellcheck disable=SC1091 # written by kernel-test.sh
[ -f /tuntest.conf ] && . /tuntest.conf

echo "INIT start: $(uname -r), module $MODULE_KO"
echo "INIT insmod $MODULE_KO"
if insmod "$MODULE_KO"; then
	echo "INIT insmod ok"
else
	echo "INIT insmod FAILED (status $?)"
fi
grep "^$MODULE_NAME " /proc/modules | sed 's/^/INIT module: /'
for f in /dev/tun*; do
	[ -e "$f" ] && echo "INIT dev: $(ls -ln "$f")"
done

echo "INIT tuntest start"
# shellcheck disable=SC2086 # TUNTEST_ARGS is a word list
timeout 240 /tuntest $TUNTEST_ARGS 2>&1 | tee /tmp/tuntest.log
echo "INIT tuntest end"

if rmmod "$MODULE_NAME"; then
	echo "INIT rmmod ok"
else
	echo "INIT rmmod FAILED (status $?)"
fi
grep -q "^$MODULE_NAME " /proc/modules && echo "INIT module still loaded"

echo "INIT dmesg lines of $MODULE_NAME:"
dmesg | grep -E "(^|[] ])$MODULE_NAME" | tail -n 30 | sed 's/^/INIT dmesg: /'

echo "TUNTEST LOG BEGIN"
cat /tmp/tuntest.log
echo "TUNTEST LOG END"

echo "INIT DONE"
sync
reboot -f
