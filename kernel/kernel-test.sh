#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Boots the Rust-enabled Linux 6.12 (kernel/build-kernel.sh) in qemu with if_tun.ko and
# kernel/test/tuntest, and checks the result from the host.
#
#   1. kernel   kernel/build-kernel.sh, only if its cache folder is not complete
#   2. qemu     the unpacked qemu, completed if needed (see qemu_tree below)
#   3. module   make -C <repo> modules KDIR=<kbuild> $(KERNEL_MAKEFLAGS of kernel/kernel.mk)
#   4. tuntest  gcc -static -O2 -Wall -Werror kernel/test/tuntest.c
#   5. initramfs  kernel/mkinitramfs.sh: busybox, kernel/test/init.sh as /init, tuntest, the .ko
#   6. boot     kernel/run-qemu.sh (QEMU_TIMEOUT, default 300 s); console saved to OUT/console.log
#   7. verdict  from the console: `TUNTEST DONE pass=N fail=0` with N the number of checks
#               (`tuntest --list`) and a PASS line for each, `INIT DONE`, insmod and rmmod ok,
#               the unload line `if_tun: ... 0 live mbufs`, and no kernel report (BUG:,
#               WARNING:, Oops, lockdep, RCU, sleep-in-atomic, Call Trace, panic: see
#               bad_patterns below).  Exit 0 only if all of it holds; the offending console
#               lines are printed otherwise.
#
# Usage: kernel-test.sh [-v] [--no-build] [--selftest MODULE.ko] [--check CONSOLE]
#   -v                 also stream the guest console while it runs
#   --check CONSOLE    boot nothing: only judge an existing console log (step 7)
#   --no-build         do not run make for the module: boot the existing <repo>/if_tun.ko
#   --selftest KO      harness development: boot any module KO instead of if_tun.ko, run
#                      `tuntest --selftest` (checks that need no tun driver) and skip the
#                      if_tun-specific unload line check
# Environment: KERNEL_TEST_OUT (default <repo>/target/kernel-test), QEMU_TIMEOUT (300),
#   QEMU_SMP, QEMU_MEM, QEMU_APPEND (passed to run-qemu.sh), KERNEL_JOBS (build-kernel.sh).
# Exit status: 0 all checks hold, 1 a check failed, 2 a build step failed or bad usage.
# shellcheck disable=SC2317 # the do_* functions are called through step()
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${KERNEL_TEST_OUT:-$repo/target/kernel-test}
verbose=0
build_module=1
mode=full
ko=$repo/if_tun.ko
modname=if_tun
check_only=""

usage() { sed -n '/^# Usage:/,/^# Exit status:/s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
	case $1 in
	-v) verbose=1 ;;
	--no-build) build_module=0 ;;
	--selftest)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		mode=selftest
		ko=$(realpath "$2")
		modname=$(basename "$ko" .ko | tr - _)
		build_module=0
		shift
		;;
	--check)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		check_only=$(realpath "$2")
		shift
		;;
	-h | --help) usage; exit 0 ;;
	*) echo "kernel-test.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

log() { printf 'kernel-test: %s\n' "$*"; }
die() { printf 'kernel-test: error: %s\n' "$*" >&2; exit 2; }

declare -a timings=()
# step NAME CMD...: runs CMD, prints and records how long it took.
step() {
	local name=$1 t0 t1 ms
	shift
	log "== $name"
	t0=$(date +%s%N)
	"$@"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	timings+=("$(printf '%-10s %4d.%01d s' "$name" $((ms / 1000)) $((ms % 1000 / 100)))")
	log "$name: $((ms / 1000)).$((ms % 1000 / 100)) s"
}

mkdir -p "$out"
out=$(cd "$out" && pwd)
kdir=$("$here/build-kernel.sh" --print-dir)

# 1. The kernel and its module-build tree.
do_kernel() {
	if [ -f "$kdir/.complete" ] && [ -f "$kdir/bzImage" ] && [ -d "$kdir/kbuild" ]; then
		log "kernel cache complete: $kdir"
	else
		log "kernel cache missing or incomplete: running build-kernel.sh (about 5-20 minutes)"
		nice -n 10 "$here/build-kernel.sh" >/dev/null || die "build-kernel.sh failed"
	fi
}

# 2. qemu.  The tree build-kernel.sh unpacks (qemu-system-x86 + qemu-system-data) lacks the
#    accelerator modules, which Debian ships in qemu-system-common ("could not load module
#    for type 'tcg-accel-ops'"), and the unpacked binary relocates its built-in firmware path
#    (/usr/share/seabios, /usr/lib/ipxe/qemu) under its own prefix ("could not load PC BIOS
#    'bios-256k.bin'").  When the cached tree has those problems, OUT/qemu is a copy of it
#    (hard links) completed with qemu-system-common's modules and links to the installed
#    seabios and ipxe-qemu; the cache folder itself is left alone.
qemu=""
qemu_tree_ok() { # ROOT: the tree has the TCG module and finds seabios
	[ -x "$1/usr/bin/qemu-system-x86_64" ] &&
		[ -f "$1/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so" ] &&
		[ -f "$1/usr/share/seabios/bios-256k.bin" ]
}
do_qemu() {
	local src=$kdir/qemu fixed=$out/qemu tmp ver deb
	if qemu_tree_ok "$src"; then
		qemu=$src/usr/bin/qemu-system-x86_64
	elif qemu_tree_ok "$fixed" && [ -f "$fixed/.from" ] && [ "$(cat "$fixed/.from")" = "$src" ]; then
		qemu=$fixed/usr/bin/qemu-system-x86_64
	else
		[ -x "$src/usr/bin/qemu-system-x86_64" ] || die "no qemu in $src (build-kernel.sh)"
		# shellcheck source=versions.env
		ver=$(. "$here/versions.env" && echo "$QEMU_PKG_VERSION")
		log "completing the unpacked qemu in $fixed (qemu-system-common=$ver, firmware links)"
		tmp=$out/qemu.tmp
		rm -rf "$tmp"
		cp -al "$src" "$tmp" 2>/dev/null || cp -a "$src" "$tmp"
		mkdir -p "$tmp/debs"
		(cd "$tmp/debs" && apt-get download -q -o APT::Sandbox::User=root "qemu-system-common=$ver") ||
			die "apt-get download qemu-system-common=$ver failed"
		for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp"; done
		rm -rf "$tmp/debs"
		mkdir -p "$tmp/usr/share" "$tmp/usr/lib/ipxe"
		[ -e "$tmp/usr/share/seabios" ] || ln -s /usr/share/seabios "$tmp/usr/share/seabios"
		[ -e "$tmp/usr/lib/ipxe/qemu" ] || ln -s /usr/lib/ipxe/qemu "$tmp/usr/lib/ipxe/qemu"
		echo "$src" >"$tmp/.from"
		qemu_tree_ok "$tmp" || die "the completed qemu tree $tmp still lacks accel-tcg or seabios (apt-get install seabios ipxe-qemu)"
		rm -rf "$fixed"
		mv "$tmp" "$fixed"
		qemu=$fixed/usr/bin/qemu-system-x86_64
	fi
	"$qemu" --version | head -1
}

# 3. The module.
do_module() {
	local flags
	flags=$(make -s --no-print-directory -f "$here/kernel.mk" kernel-makeflags)
	log "make -C $repo modules KDIR=$kdir/kbuild $flags"
	# shellcheck disable=SC2086 # flags is a list of VAR=value words
	nice -n 10 make -C "$repo" modules KDIR="$kdir/kbuild" $flags >"$out/module-build.log" 2>&1 || {
		tail -n 60 "$out/module-build.log"
		die "module build failed (full log: $out/module-build.log)"
	}
	tail -n 5 "$out/module-build.log"
}

# 4. tuntest, and the list of checks it will run.
do_tuntest() {
	nice -n 10 gcc -static -O2 -Wall -Werror -o "$out/tuntest" "$here/test/tuntest.c" ||
		die "gcc tuntest.c failed"
	if [ "$mode" = selftest ]; then
		"$out/tuntest" --list --selftest >"$out/checks.txt"
	else
		"$out/tuntest" --list >"$out/checks.txt"
	fi
	log "$(wc -l <"$out/checks.txt") checks: $(tr '\n' ' ' <"$out/checks.txt")"
}

# 5. The initramfs.
do_initramfs() {
	[ -f "$ko" ] || die "no module $ko"
	{
		echo "# Written by kernel-test.sh."
		echo "MODULE_KO=/$(basename "$ko")"
		echo "MODULE_NAME=$modname"
		[ "$mode" = selftest ] && echo "TUNTEST_ARGS=--selftest"
		true
	} >"$out/tuntest.conf"
	install -m 0755 "$here/test/init.sh" "$out/init" # mkinitramfs keeps modes: /init must be executable
	"$here/mkinitramfs.sh" "$out/initramfs" "$out/init=/init" "$out/tuntest=/tuntest" \
		"$ko=/$(basename "$ko")" "$out/tuntest.conf=/tuntest.conf" >/dev/null
	log "$out/initramfs/initramfs.cpio.gz ($(du -h "$out/initramfs/initramfs.cpio.gz" | cut -f1)), module $ko ($(du -h "$ko" | cut -f1))"
}

# 6. The boot.
do_boot() {
	local sink=/dev/null
	[ "$verbose" = 1 ] && sink=/dev/stdout
	set +e
	QEMU=$qemu QEMU_TIMEOUT=${QEMU_TIMEOUT:-300} QEMU_LOG=$out/console.log nice -n 10 \
		"$here/run-qemu.sh" "$kdir/bzImage" "$out/initramfs/initramfs.cpio.gz" >"$sink"
	qemu_status=$?
	set -e
	log "qemu exit status $qemu_status; console: $out/console.log ($(wc -l <"$out/console.log") lines)"
}

qemu_status=0
console=$out/console.log
if [ -n "$check_only" ]; then
	step tuntest do_tuntest
	console=$check_only
else
	step kernel do_kernel
	step qemu do_qemu
	if [ "$build_module" = 1 ]; then
		step module do_module
	else
		log "== module: not built (--no-build or --selftest): $ko"
	fi
	step tuntest do_tuntest
	step initramfs do_initramfs
	step boot do_boot
fi

# 7. The verdict.
problems=()

# Kernel reports: any console line containing one of these (case-sensitive) fails the test,
# unless it is one of the benign boot lines below.  Note: tinyconfig leaves CONFIG_BUG off
# (config.fragment does not turn it on), so WARN()/WARN_ON() print nothing and BUG() only
# hangs; lockdep and might_sleep reports do print (checked with a deliberately bad module).
bad_patterns=(
	'BUG:' 'WARNING:' 'Oops' 'possible circular locking' 'inconsistent lock state'
	'possible recursive locking' 'suspicious RCU usage'
	'sleeping function called from invalid context' 'Call Trace' 'kernel panic' 'lockdep'
	# and what those miss: panic/BUG() spellings, Rust panics, lockdep switching itself off
	'Kernel panic' 'kernel BUG' 'panicked at' 'general protection fault' 'Unable to handle'
	'turning off the locking correctness validator' 'self-detected stall' 'detected stalls'
	'list_add corruption' 'list_del corruption' 'refcount_t:' 'UBSAN:' 'KASAN:'
)
benign_lines=(
	'^rcu:[[:space:]]+RCU lockdep checking is enabled\.$' # boot banner of CONFIG_PROVE_RCU
)
bad_lines=$(grep -n -a -F "${bad_patterns[@]/#/-e}" "$console" || true)
for b in "${benign_lines[@]}"; do
	bad_lines=$(grep -v -E "^[0-9]+:${b#^}" <<<"$bad_lines" || true)
done
if [ -n "$bad_lines" ]; then
	problems+=("kernel reports on the console:")
	while IFS= read -r l; do problems+=("  console.log:$l"); done <<<"$bad_lines"
fi

# tuntest's results: from the replay between TUNTEST LOG BEGIN/END (away from kernel
# messages); from the live output if the guest did not get that far.
if grep -q -a -x 'TUNTEST LOG END' "$console"; then
	sed -n '/^TUNTEST LOG BEGIN$/,/^TUNTEST LOG END$/p' "$console" >"$out/tuntest.log"
else
	grep -a -E '^(TUNTEST |PASS |FAIL |INFO )' "$console" >"$out/tuntest.log" || true
fi
nchecks=$(wc -l <"$out/checks.txt")
done_line=$(grep -a -E '^TUNTEST DONE ' "$out/tuntest.log" | tail -n 1 || true)
if [ "$done_line" != "TUNTEST DONE pass=$nchecks fail=0" ]; then
	problems+=("wanted \"TUNTEST DONE pass=$nchecks fail=0\", got: \"${done_line:-no TUNTEST DONE line}\"")
fi
missing=()
while IFS= read -r c; do
	grep -q -a -x "PASS $c" "$out/tuntest.log" || missing+=("$c")
done <"$out/checks.txt"
[ ${#missing[@]} -eq 0 ] || problems+=("checks without a PASS line: ${missing[*]}")
while IFS= read -r l; do problems+=("  $l"); done < <(grep -a '^FAIL ' "$out/tuntest.log" || true)

grep -q -a -x 'INIT insmod ok' "$console" || problems+=("insmod did not succeed: $(grep -a '^INIT insmod' "$console" | tail -n 1 || echo 'no insmod line')")
grep -q -a -x 'INIT rmmod ok' "$console" || problems+=("rmmod did not succeed: $(grep -a -E '^INIT (rmmod|module still)' "$console" | tail -n 1 || echo 'no rmmod line')")
if [ "$mode" = full ]; then
	unload=$(grep -a -E 'if_tun: .*live mbufs' "$console" | tail -n 1 || true)
	if ! grep -q -E '(^|[^0-9])0 live mbufs' <<<"$unload"; then
		problems+=("wanted the unload line \"if_tun: ... 0 live mbufs\", got: \"${unload:-none}\"")
	fi
fi
grep -q -a -x 'INIT DONE' "$console" || problems+=("no INIT DONE line (the guest did not finish /init)")
case $qemu_status in
0) ;;
124) problems+=("qemu timed out after ${QEMU_TIMEOUT:-300} s") ;;
*) problems+=("qemu exit status $qemu_status") ;;
esac

echo
echo "== tuntest (mode $mode, module $ko)"
grep -a -E '^(PASS|FAIL|INFO|TUNTEST) ' "$out/tuntest.log" || echo "(no tuntest output)"
echo
echo "== guest"
grep -a -E '^INIT ' "$console" | grep -v -E '^INIT (DONE|tuntest)' || true
echo
echo "== timings"
printf '  %s\n' "${timings[@]}"
echo
if [ ${#problems[@]} -eq 0 ]; then
	echo "kernel-test: OK: $nchecks/$nchecks checks passed, module loaded and unloaded cleanly$([ "$mode" = full ] && echo ' (0 live mbufs)'), no kernel reports"
	echo "kernel-test: console: $console"
	exit 0
fi
echo "kernel-test: FAILED (console: $console):"
printf '  %s\n' "${problems[@]}"
exit 1
