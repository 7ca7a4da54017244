#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds (once) a Rust-enabled Linux 6.12 for the if_tun kernel tests, into a folder keyed
# by the pinned versions and the config fragment (versions.env):
#
#   ${IF_TUN_KCACHE:-$HOME/.cache/if_tun-kernel}/<key>/
#     bzImage  System.map  config     the kernel, its symbols and its final .config
#     kbuild/                         standalone module-build tree: make -C kbuild M=...
#     tools/bin/bindgen               bindgen-cli (crates.io), used for the kernel build
#     qemu/usr/bin/qemu-system-x86_64 qemu unpacked from Debian's .debs (not installed)
#     versions.txt  timings.txt       what was really used, and how long each step took
#     logs/                           the build logs
#
# Installs the Debian packages it needs (apt-get, pinned versions), builds bindgen with
# cargo, unpacks the kernel source, configures it (tinyconfig + config.fragment, checked),
# builds it with LLVM=1 and the Debian rustc, extracts the module-build tree and removes
# the source tree.  When the folder is complete already it only checks that the packages
# are still installed, prints the folder and exits.  Progress goes to stderr; the folder
# (only) to stdout, so `dir=$(kernel/build-kernel.sh)` works.
#
# Usage: build-kernel.sh [--print-dir] [--keep-source] [--help]
#   --print-dir    print the build folder (whether or not it is built yet) and exit
#   --keep-source  keep the full kernel source/build tree (dir/src) after the build
# Environment: IF_TUN_KCACHE (cache root), KERNEL_JOBS (make -j, default 2).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

cache=${IF_TUN_KCACHE:-${HOME:-/root}/.cache/if_tun-kernel}
dir=$cache/$KERNEL_CACHE_KEY
jobs=${KERNEL_JOBS:-2}
keep_source=0

usage() { sed -n '/^# Usage:/,/^# Environment:/s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
	case $1 in
	--print-dir) echo "$dir"; exit 0 ;;
	--keep-source) keep_source=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "build-kernel.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

# The kernel build is self-contained: nothing from a calling make (`make kernel -j8`,
# command-line variables) or a cross-compiling environment leaks into it.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES ARCH CROSS_COMPILE KBUILD_OUTPUT O \
	KCFLAGS KCPPFLAGS KRUSTFLAGS RUSTFLAGS

log() { printf 'build-kernel: %s\n' "$*" >&2; }
die() { printf 'build-kernel: error: %s\n' "$*" >&2; exit 1; }

RUSTC=/usr/bin/rustc
RUSTDOC=/usr/bin/rustdoc
BINDGEN=$dir/tools/bin/bindgen
QEMU=$dir/qemu/usr/bin/qemu-system-x86_64
QEMU_TCG=$dir/qemu/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
src=$dir/src/linux-source-6.12
kbuild=$dir/kbuild

# Packages needed to build and test modules against the folder (also on the fast path).
runtime_pkgs=(
	"rustc-web=$RUST_PKG_VERSION"
	"clang=$LLVM_PKG_VERSION" "lld=$LLVM_PKG_VERSION" "llvm=$LLVM_PKG_VERSION"
	"busybox-static=$BUSYBOX_PKG_VERSION"
	libc6-dev make cpio gzip libelf-dev seabios ipxe-qemu
)
# Packages needed only while the kernel is built.
build_pkgs=(
	"$KERNEL_PKG=$KERNEL_PKG_VERSION"
	"rust-web-src=$RUST_PKG_VERSION"
	"libclang-dev=$LLVM_PKG_VERSION"
	bc bison flex libssl-dev xz-utils perl
)

# is_installed NAME[=VERSION]: the package is installed (at exactly VERSION if given).
is_installed() {
	local name=${1%%=*} want="" got
	[[ $1 == *=* ]] && want=${1#*=}
	got=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null) || return 1
	if [ -n "$want" ]; then [ "$got" = "installed $want" ]; else [[ $got == "installed "* ]]; fi
}

apt_updated=0
apt_update_once() {
	if [ $apt_updated = 0 ]; then
		log "apt-get update"
		apt-get update -q >&2 || die "apt-get update failed"
		apt_updated=1
	fi
}

# ensure_packages PKG[=VERSION]...: installs the missing ones with apt-get, refusing any
# transaction that would remove a package (qemu-system-x86 would remove qemu-utils 10,
# which is why qemu is unpacked instead of installed).
ensure_packages() {
	local missing=() p removals
	for p in "$@"; do is_installed "$p" || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "not root: cannot apt-get install ${missing[*]}"
	apt_update_once
	log "apt-get install ${missing[*]}"
	removals=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>&1) ||
		die "apt-get cannot install ${missing[*]} (a pinned version gone from the archive? update kernel/versions.env):
$removals"
	removals=$(grep '^Remv' <<<"$removals" || true)
	[ -z "$removals" ] || die "installing ${missing[*]} would remove packages; refusing:
$removals"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
	for p in "${missing[@]}"; do is_installed "$p" || die "$p is not installed after apt-get install"; done
}

# The library packages qemu-system-x86 depends on (not qemu-system-*, seabios, ipxe-qemu).
qemu_lib_pkgs() {
	apt-cache show "qemu-system-x86=$QEMU_PKG_VERSION" | sed -n 's/^Depends: //p' | head -1 |
		tr ',' '\n' | sed 's/|.*//; s/(.*//; s/^ *//; s/ *$//' |
		grep -v -E '^(qemu-system-.*|seabios|ipxe-qemu)$'
}

folder_complete() {
	[ -f "$dir/.complete" ] && [ -f "$dir/bzImage" ] && [ -x "$BINDGEN" ] && [ -x "$QEMU" ] &&
		[ -f "$QEMU_TCG" ] && [ -e "$dir/qemu/usr/share/seabios/bios-256k.bin" ] &&
		[ -f "$kbuild/Module.symvers" ] && [ -f "$kbuild/rust/libkernel.rmeta" ] &&
		[ -f "$kbuild/rust/libmacros.so" ] && [ -x "$kbuild/scripts/mod/modpost" ]
}

# timed NAME CMD...: runs CMD and records its duration in timings.txt.
timed() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s)
	"$@"
	t1=$(date +%s)
	log "$name: $((t1 - t0)) s"
	printf '%-22s %5d s  (%s)\n' "$name" $((t1 - t0)) "$(date -u +%FT%TZ)" >>"$dir/timings.txt"
}

kmake() {
	nice -n 19 make -C "$src" LLVM=1 RUSTC="$RUSTC" HOSTRUSTC="$RUSTC" RUSTDOC="$RUSTDOC" \
		BINDGEN="$BINDGEN" "$@"
}

mkdir -p "$cache"
exec 9>"$cache/$KERNEL_CACHE_KEY.lock"
if ! flock -n 9; then
	log "waiting for another build-kernel.sh on $dir"
	flock 9
fi

if folder_complete; then
	ensure_packages "${runtime_pkgs[@]}"
	mapfile -t qlibs <"$dir/qemu/lib-packages.txt"
	ensure_packages "${qlibs[@]}"
	"$QEMU" --version >/dev/null || die "$QEMU does not run"
	log "up to date: $dir"
	echo "$dir"
	exit 0
fi

log "building into $dir"
mkdir -p "$dir/logs"
t_start=$(date +%s)

# 1. Debian packages (pinned).
timed packages ensure_packages "${runtime_pkgs[@]}" "${build_pkgs[@]}"
[ "$("$RUSTC" --version | cut -d' ' -f2)" = "$RUSTC_VERSION" ] ||
	die "$RUSTC is not rustc $RUSTC_VERSION: $("$RUSTC" --version)"
clang --version | grep -q "clang version $LLVM_VERSION" ||
	die "clang is not $LLVM_VERSION: $(clang --version | head -1)"
[ -d "$("$RUSTC" --print sysroot)/lib/rustlib/src/rust/library/core" ] ||
	die "rust-web-src is missing: no core source under $("$RUSTC" --print sysroot)"

# 2. bindgen-cli from crates.io (Debian's 0.60 is too old for 6.12).
build_bindgen() {
	local cargo
	cargo=$(command -v cargo || true)
	if [ -z "$cargo" ]; then
		ensure_packages "cargo-web=$RUST_PKG_VERSION"
		cargo=/usr/bin/cargo
	fi
	log "cargo install bindgen-cli $BINDGEN_VERSION (log: logs/bindgen.log)"
	(cd "$dir" && env -u CARGO_TARGET_DIR -u RUSTFLAGS nice -n 19 "$cargo" install --locked \
		--root "$dir/tools" --version "$BINDGEN_VERSION" bindgen-cli) >"$dir/logs/bindgen.log" 2>&1 ||
		{ tail -40 "$dir/logs/bindgen.log" >&2; die "cargo install bindgen-cli failed"; }
}
if ! "$BINDGEN" --version 2>/dev/null | grep -q "bindgen $BINDGEN_VERSION"; then
	timed bindgen build_bindgen
fi

# 3. qemu, unpacked from the .debs into dir/qemu; only its missing libraries are installed.
#    qemu-system-common is needed for its TCG accelerator module (accel-tcg-x86_64.so);
#    run-qemu.sh points QEMU_MODULE_DIR and -L at the unpacked tree.
qemu_debs=(
	"qemu-system-x86=$QEMU_PKG_VERSION" "qemu-system-common=$QEMU_PKG_VERSION"
	"qemu-system-data=$QEMU_DATA_PKG_VERSION"
)
unpack_qemu() {
	local tmp=$dir/qemu.tmp deb f missing
	rm -rf "$tmp" "$dir/qemu"
	mkdir -p "$tmp/debs"
	download() { (cd "$tmp/debs" && apt-get download -q -o APT::Sandbox::User=root "${qemu_debs[@]}") >&2; }
	download || { apt_update_once; download; } || die "apt-get download ${qemu_debs[*]} failed"
	for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp"; done
	rm -rf "$tmp/debs"
	# qemu relocates its built-in firmware path (/usr/share/seabios, /usr/lib/ipxe/qemu)
	# into the unpacked tree: point those at the firmware packages installed with apt.
	ln -s /usr/share/seabios "$tmp/usr/share/seabios"
	mkdir -p "$tmp/usr/lib/ipxe"
	ln -s /usr/lib/ipxe/qemu "$tmp/usr/lib/ipxe/qemu"
	qemu_lib_pkgs >"$tmp/lib-packages.txt"
	mapfile -t qlibs <"$tmp/lib-packages.txt"
	ensure_packages "${qlibs[@]}"
	for f in usr/bin/qemu-system-x86_64 usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so; do
		missing=$(ldd "$tmp/$f" | grep 'not found' || true)
		[ -z "$missing" ] || die "$f needs libraries that are not installed: $missing"
	done
	"$tmp/usr/bin/qemu-system-x86_64" --version >&2 || die "the unpacked qemu does not run"
	mv "$tmp" "$dir/qemu"
}
if ! "$QEMU" --version >/dev/null 2>&1 || [ ! -f "$QEMU_TCG" ] || [ ! -f "$dir/qemu/lib-packages.txt" ] ||
	[ ! -e "$dir/qemu/usr/share/seabios/bios-256k.bin" ]; then
	timed qemu unpack_qemu
fi

# 4. The kernel source, from the linux-source package's tarball.
unpack_source() {
	rm -rf "$dir/src"
	mkdir -p "$dir/src.tmp"
	tar -xJf "/usr/src/$KERNEL_PKG.tar.xz" -C "$dir/src.tmp"
	mv "$dir/src.tmp" "$dir/src"
	touch "$src/.if_tun-unpacked"
}
if [ ! -f "$src/.if_tun-unpacked" ]; then
	[ -f "$kbuild/.if_tun-complete" ] || timed unpack unpack_source
fi

# 5. Configuration: tinyconfig + config.fragment, then every requested option checked.
check_config() {
	local cfg=$1 line opt bad=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF "$line" "$cfg" || bad+=("${line%%=*} (wanted ${line#*=}, got: $(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo absent))")
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			! grep -qE "^$opt=" "$cfg" || bad+=("$opt (wanted off, got: $(grep -E "^$opt=" "$cfg"))")
			;;
		esac
	done <"$here/config.fragment"
	if [ ${#bad[@]} -gt 0 ]; then
		printf 'build-kernel: config option not as requested: %s\n' "${bad[@]}" >&2
		return 1
	fi
}
configure() {
	if ! kmake rustavailable >"$dir/logs/rustavailable.log" 2>&1; then
		cat "$dir/logs/rustavailable.log" >&2
		die "make rustavailable failed (output above)"
	fi
	kmake tinyconfig >"$dir/logs/config.log" 2>&1 || { tail -30 "$dir/logs/config.log" >&2; die "make tinyconfig failed"; }
	(cd "$src" && KCONFIG_CONFIG=.config ./scripts/kconfig/merge_config.sh -m .config "$here/config.fragment") \
		>>"$dir/logs/config.log" 2>&1 || { tail -30 "$dir/logs/config.log" >&2; die "merge_config.sh failed"; }
	kmake olddefconfig >>"$dir/logs/config.log" 2>&1 || { tail -30 "$dir/logs/config.log" >&2; die "make olddefconfig failed"; }
	check_config "$src/.config" || die "the kernel config lacks requested options (listed above); see logs/config.log"
	sha256sum <"$here/config.fragment" >"$src/.if_tun-configured"
}
if [ ! -f "$kbuild/.if_tun-complete" ]; then
	if ! cmp -s "$src/.if_tun-configured" <(sha256sum <"$here/config.fragment"); then
		timed configure configure
	fi
	check_config "$src/.config" || die "the kernel config lacks requested options (listed above)"
fi

# 6. The kernel (vmlinux, bzImage, the Rust crates, Module.symvers).
build_kernel() {
	log "make -j$jobs (log: logs/kernel-build.log)"
	if ! kmake -j"$jobs" all >"$dir/logs/kernel-build.log" 2>&1; then
		grep -n -E '(error|Error)[: []' "$dir/logs/kernel-build.log" | head -20 >&2 || true
		tail -30 "$dir/logs/kernel-build.log" >&2
		die "kernel build failed (errors and the end of logs/kernel-build.log above)"
	fi
}
if [ ! -f "$kbuild/.if_tun-complete" ]; then
	timed kernel build_kernel
fi

# 7. The standalone module-build tree: install-extmod-build's output (what Debian puts into
#    linux-headers) plus what an out-of-tree Rust module needs: the crates' metadata
#    (rust/*.rmeta), the macros proc-macro (rust/libmacros.so) and the target spec.
make_kbuild() {
	local tmp=$dir/kbuild.tmp f
	rm -rf "$tmp"
	(cd "$src" && srctree=. SRCARCH=x86 CC=clang HOSTCC=clang MAKE=make \
		sh scripts/package/install-extmod-build "$tmp") >"$dir/logs/kbuild.log" 2>&1 ||
		{ tail -30 "$dir/logs/kbuild.log" >&2; die "install-extmod-build failed"; }
	mkdir -p "$tmp/rust"
	cp -p "$src"/rust/*.rmeta "$src"/rust/libmacros.so "$tmp/rust/"
	cp -p "$src/.config" "$tmp/.config"
	for f in Module.symvers rust/libkernel.rmeta rust/libmacros.so scripts/mod/modpost \
		scripts/target.json include/generated/rustc_cfg include/config/auto.conf; do
		[ -e "$tmp/$f" ] || die "standalone tree lacks $f"
	done
	cp -p "$src/arch/x86/boot/bzImage" "$src/System.map" "$dir/"
	cp -p "$src/.config" "$dir/config"
	touch "$tmp/.if_tun-complete"
	rm -rf "$kbuild"
	mv "$tmp" "$kbuild"
}
if [ ! -f "$kbuild/.if_tun-complete" ]; then
	timed kbuild make_kbuild
fi

# 8. The source tree is not needed any more: the standalone tree builds modules alone.
if [ $keep_source = 0 ] && [ -d "$dir/src" ]; then
	log "removing the source tree ($(du -sh "$dir/src" | cut -f1)); --keep-source keeps it"
	rm -rf "$dir/src"
fi

{
	echo "key: $KERNEL_CACHE_KEY"
	echo "kernel: $KERNEL_PKG $(dpkg-query -W -f='${Version}' "$KERNEL_PKG" 2>/dev/null || echo "$KERNEL_PKG_VERSION"), release $(cat "$kbuild/include/config/kernel.release")"
	echo "rustc: $("$RUSTC" --version) [rustc-web $(dpkg-query -W -f='${Version}' rustc-web)], $("$RUSTC" -vV | grep LLVM)"
	echo "bindgen: $("$BINDGEN" --version)"
	echo "clang: $(clang --version | head -1) [clang $(dpkg-query -W -f='${Version}' clang)]"
	echo "ld.lld: $(ld.lld --version)"
	echo "qemu: $("$QEMU" --version | head -1)"
	echo "busybox: $(busybox | head -1)"
	echo "make flags: LLVM=1 RUSTC=$RUSTC HOSTRUSTC=$RUSTC RUSTDOC=$RUSTDOC BINDGEN=$BINDGEN"
	echo "sizes: kbuild $(du -sh "$kbuild" | cut -f1), folder $(du -sh "$dir" | cut -f1)"
} >"$dir/versions.txt"
printf '%-22s %5d s\n' "total (this run)" $(($(date +%s) - t_start)) >>"$dir/timings.txt"
touch "$dir/.complete"
log "done: $dir"
echo "$dir"
