#!/usr/bin/env bash
# The Apptainer recipes (deploy/apptainer/*.def) cannot be built here (Apptainer is not in
# Debian 12), so check their content: a bootstrap and base image, %files sources that exist,
# %post calling the same scripts CI runs (scripts/install-deps.sh, scripts/build.sh) that
# exist and are executable, and every shell section parsing (`bash -n`) and shellcheck-clean.
set -euo pipefail

root=${LLMPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
work=$(mktemp -d /tmp/llmpipe-defs.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v shellcheck >/dev/null 2>&1 ||
  fail "shellcheck is not installed: run scripts/install-deps.sh --cluster (as root)"

# section DEF NAME: the body of %NAME (up to the next %section), without its header line.
section() {
  awk -v want="%$2" '
    /^%[a-z]+/ { on = ($1 == want); next }
    on { print }' "$1"
}

check_def() {
  local def=$1 name sec body src
  name=$(basename "$def" .def)
  grep -Eq '^Bootstrap: *docker' "$def" || fail "$def: no 'Bootstrap: docker'"
  grep -Eq '^From: *[a-z0-9./_-]+:[A-Za-z0-9._-]+' "$def" || fail "$def: no 'From: image:tag'"
  # %files: each source (first word) exists in the repository.
  while read -r src _; do
    [[ -z "$src" || "$src" == \#* ]] && continue
    [[ -e "$src" ]] || fail "$def: %files source '$src' does not exist"
  done < <(section "$def" files)
  # %post runs the CI scripts: they must exist and be executable.
  body=$(section "$def" post)
  [[ -n "$body" ]] || fail "$def: empty %post"
  grep -q '^%post -c /bin/bash' "$def" || fail "$def: %post must run under bash (%post -c /bin/bash): it uses bash options"
  for src in scripts/install-deps.sh scripts/build.sh; do
    grep -q "$src" <<<"$body" || fail "$def: %post does not run $src"
  done
  while read -r src; do
    [[ -x "$src" ]] || fail "$def: %post calls $src, which is missing or not executable"
  done < <(grep -Eo 'scripts/[A-Za-z0-9_.-]+' <<<"$body" | sort -u)
  # Each shell section as a script: parses and passes shellcheck.
  for sec in post environment runscript test; do
    body=$(section "$def" "$sec")
    [[ -n "$body" ]] || continue
    printf '#!/bin/bash\n# %s, section %%%s\n%s\n' "$def" "$sec" "$body" >"$work/$name.$sec.sh"
    bash -n "$work/$name.$sec.sh" || fail "$def: %$sec does not parse"
    shellcheck -s bash "$work/$name.$sec.sh" || fail "$def: %$sec has shellcheck findings (above)"
  done
  echo "ok: $def"
}

mapfile -t defs < <(find deploy/apptainer -name '*.def' | sort)
((${#defs[@]} >= 2)) || fail "expected the CPU and CUDA recipes under deploy/apptainer, found: ${defs[*]:-none}"
for def in "${defs[@]}"; do check_def "$def"; done
grep -q '^From: *debian:12' deploy/apptainer/llmpipe.def || fail "llmpipe.def must build on Debian 12"
grep -q '^From: *nvidia/cuda:.*devel' deploy/apptainer/llmpipe-cuda.def || fail "llmpipe-cuda.def must use a CUDA devel base"
