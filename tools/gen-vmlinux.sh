#!/bin/sh
# Regenerate vmlinux/<arch>/vmlinux.h from a kernel's BTF.
# The BPF programs are CO-RE: field offsets are relocated at load time against
# the running kernel's BTF, so the header only has to name the types we use.
# Usage: tools/gen-vmlinux.sh [BTF_FILE] [ARCH]   (defaults: /sys/kernel/btf/vmlinux, x86)
set -eu
btf=${1:-/sys/kernel/btf/vmlinux}
arch=${2:-x86}
case "$arch" in
x86) ;;
*) echo "gen-vmlinux: unsupported ARCH '$arch' (known: x86)" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/vmlinux/$arch/vmlinux.h"
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out from $btf"
