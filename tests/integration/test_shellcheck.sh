#!/usr/bin/env bash
# Every shell script in the repository (scripts/, deploy/, tests/integration/, bench/, .ci/) parses
# (`bash -n`) and is shellcheck-clean, with the settings in .shellcheckrc.
set -euo pipefail

root=${LLMPIPE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v shellcheck >/dev/null 2>&1 ||
  fail "shellcheck is not installed: run scripts/install-deps.sh --cluster (as root)"

# Shell scripts: *.sh, *.sbatch, and extension-less files whose first line names bash or sh.
list_scripts() {
  local dir f
  for dir in scripts deploy tests/integration tests/cuda bench .ci; do
    [[ -d "$dir" ]] || continue
    while IFS= read -r -d '' f; do
      case "$f" in
        *.sh | *.sbatch) echo "$f" ;;
        *.*) ;;
        *) head -n 1 "$f" | grep -Eq '^#!.*\b(ba)?sh\b' && echo "$f" ;;
      esac
    done < <(find "$dir" -type f -print0 | sort -z)
  done
}

mapfile -t scripts < <(list_scripts)
((${#scripts[@]} > 0)) || fail "no scripts found under $root"
bad=0
for f in "${scripts[@]}"; do
  if ! bash -n "$f"; then
    echo "FAIL: $f does not parse (bash -n)" >&2
    bad=1
  fi
done
if ! shellcheck "${scripts[@]}"; then
  echo "FAIL: shellcheck found problems (above)" >&2
  bad=1
fi
((bad == 0)) || exit 1
echo "ok: ${#scripts[@]} scripts parse and are shellcheck-clean: ${scripts[*]}"
