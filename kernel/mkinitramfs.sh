#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Packs a busybox initramfs: OUTDIR/initramfs.cpio.gz, from the tree OUTDIR/root.
#
# Usage: mkinitramfs.sh OUTDIR FILE[=PATH]...
#   Each FILE is copied into the image as /PATH, or as /basename(FILE) when no PATH is
#   given (mode kept).  The image has busybox-static as /bin/busybox with all its
#   applets, and an /init unless one of the files is placed at /init.
#
# The default /init mounts /proc, /sys, /dev (devtmpfs) and /tmp, prints "init: start",
# runs `sh /rc` if the image has an /rc, prints "init: rc exit status N" and powers the
# machine off with `reboot -f` (under run-qemu.sh, qemu then exits).  So a test is
# usually one script: `mkinitramfs.sh out test.sh=/rc mod.ko`.
# Prints the path of the cpio.gz.
set -euo pipefail

if [ $# -lt 1 ]; then
	sed -n '/^# Usage:/,/^# Prints/s/^# \{0,1\}//p' "$0" >&2
	exit 2
fi
out=$1
shift
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "mkinitramfs.sh: no $busybox: apt-get install busybox-static" >&2; exit 1; }
ldd_out=$(LC_ALL=C ldd "$busybox" 2>&1 || true)
if ! grep -q 'not a dynamic executable' <<<"$ldd_out"; then
	echo "mkinitramfs.sh: $busybox is not static (install busybox-static)" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$out/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root}
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

for spec in "$@"; do
	file=${spec%%=*}
	if [[ $spec == *=* ]]; then dest=${spec#*=}; else dest=/$(basename "$file"); fi
	[ -f "$file" ] || { echo "mkinitramfs.sh: no file $file" >&2; exit 1; }
	dest=/${dest#/}
	mkdir -p "$root$(dirname "$dest")"
	cp -p "$file" "$root$dest"
done

if [ ! -e "$root/init" ]; then
	cat >"$root/init" <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Written by mkinitramfs.sh.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
echo "init: start"
status=0
if [ -f /rc ]; then
	sh /rc
	status=$?
fi
echo "init: rc exit status $status"
sync
reboot -f
EOF
	chmod 0755 "$root/init"
fi

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --quiet -o -0 -H newc --owner 0:0 --reproducible) | gzip -9n >"$out/initramfs.cpio.gz"
echo "$out/initramfs.cpio.gz"
