#!/bin/sh
# nmc-check.sh OBJDIR VENDOR_LIST BUDGET_WORDS [KERNEL.s ...]
#
# The link check of `make nmc-check`: OBJDIR holds every core source of an
# emitted NM Quad folder compiled by the host compiler in an NMC-like mode
# (32-bit, freestanding, -D__NM__). Their undefined symbols must be defined
# by the folder's assembly kernels (.global _name) or be listed in
# VENDOR_LIST (the SDK's libraries). Sections nothing reaches from main are
# dropped first (ld --gc-sections), as only reachable code matters. It also
# estimates the code and data the program puts in banks 0-1: x86-32 code
# bytes times 1.3 NMC words per byte (the largest ratio of five PromeTorch
# programs built both ways; docs/NMQUAD-TARGET.md), string bytes as words
# (a char is a word on NMC), other data bytes / 4; the vendor libraries'
# code is not counted. It fails when the estimate exceeds BUDGET_WORDS.
set -eu
objdir=$1
vendor=$2
budget=$3
shift 3
tmp=$objdir/.nmc-check
mkdir -p "$tmp"
# The sections main reaches: relocatable (keeps the bank sections apart,
# for the sizes) and linked (its undefined symbols are the ones the vendor
# link must resolve).
ld -m elf_i386 -r --gc-sections -e main -o "$tmp/core.o" "$objdir"/*.o
ld -m elf_i386 --gc-sections -e main --unresolved-symbols=ignore-all \
  -o "$tmp/core.elf" "$objdir"/*.o
nm -u "$tmp/core.elf" | awk '{print $NF}' | sort -u >"$tmp/undefined"
: >"$tmp/provided"
for s in "$@"; do
  sed -n 's/^[[:space:]]*\.global[[:space:]]*_\([A-Za-z0-9_]*\).*/\1/p' "$s" >>"$tmp/provided"
done
grep -v '^[[:space:]]*#' "$vendor" | awk 'NF {print $1}' >>"$tmp/provided"
sort -u -o "$tmp/provided" "$tmp/provided"
comm -23 "$tmp/undefined" "$tmp/provided" >"$tmp/missing"
defined=$(nm --defined-only "$tmp/core.elf" | awk '$2 ~ /[TD]/ {print $3}' | sort -u)
for s in "$@"; do
  name=$(sed -n 's/^[[:space:]]*\.global[[:space:]]*_\([A-Za-z0-9_]*\).*/\1/p' "$s")
  if printf '%s\n' "$defined" | grep -qx "$name"; then
    echo "nmc-check: $name is defined both in C and in $s" >&2
    exit 1
  fi
done
set -- $(size -A "$tmp/core.o" | awk '
  $1 ~ /^\.text/ {code += $2}
  $1 ~ /^\.rodata.*str/ {str += $2; next}
  $1 ~ /^\.(rodata|data|bss)/ && $1 !~ /bank[2-7]/ {data += $2}
  END {print code + 0, str + 0, data + 0}')
code=$1 str=$2 data=$3
words=$(( (code * 13 + 9) / 10 + str + (data + 3) / 4 ))
if [ -s "$tmp/missing" ]; then
  echo "nmc-check: undefined symbols no kernel or vendor library provides:" >&2
  sed 's/^/  /' "$tmp/missing" >&2
  exit 1
fi
echo "nmc-check: $(wc -l <"$tmp/undefined") undefined symbols, each an emitted kernel or in $(basename "$vendor")"
echo "nmc-check: banks 0-1 code+data estimate $words words (x86-32 code $code bytes x 1.3, strings $str, data $data bytes / 4), budget $budget words"
if [ "$words" -gt "$budget" ]; then
  echo "nmc-check: the core program does not fit banks 0-1 with the stack" >&2
  exit 1
fi
