#!/usr/bin/env bash
# A stand-in for `apptainer exec` in tests (Apptainer is not packaged for Debian 12). It checks
# what a real container would need and runs the command on the host with the binds undone:
#   - the call is `exec [--nv] (--bind SRC[:DST])... IMAGE COMMAND...`, IMAGE an existing file;
#   - every absolute path in COMMAND lies under a bind destination (else the real container
#     would not see it) and, mapped back to the host, exists;
#   - `llmpipe` is on PATH, as in the image (FAKE_APPTAINER_LLMPIPE: the host binary to use).
# Each call is appended to $FAKE_APPTAINER_LOG when set.
set -euo pipefail

die() { echo "fake-apptainer: error: $*" >&2; exit 1; }

[[ "${1:-}" == exec ]] || die "only 'exec' is supported, got '${1:-}'"
shift
srcs=()
dsts=()
nv=0
while (($#)); do
  case "$1" in
    --nv) nv=1; shift ;;
    --bind | -B)
      [[ $# -ge 2 ]] || die "--bind without a value"
      src=${2%%:*}
      dst=${2#*:}
      [[ "$2" == *:* ]] || dst=$src
      [[ -e "$src" ]] || die "bind source $src does not exist"
      srcs+=("$src")
      dsts+=("$dst")
      shift 2
      ;;
    -*) die "unexpected option $1" ;;
    *) break ;;
  esac
done
image=${1:?fake-apptainer: no image}
shift
[[ -f "$image" ]] || die "image $image does not exist"
(($# > 0)) || die "no command"
[[ -n "${FAKE_APPTAINER_LOG:-}" ]] && echo "nv=$nv binds=${#srcs[@]} image=$image cmd=$*" >>"$FAKE_APPTAINER_LOG"

# to_host PATH: the host path a container path comes from (longest matching destination).
to_host() {
  local p=$1 best=-1 i
  for i in "${!dsts[@]}"; do
    if [[ "$p" == "${dsts[$i]}" || "$p" == "${dsts[$i]}"/* ]]; then
      if ((best < 0 || ${#dsts[$i]} > ${#dsts[$best]})); then best=$i; fi
    fi
  done
  ((best >= 0)) || return 1
  echo "${srcs[$best]}${p#"${dsts[$best]}"}"
}

args=()
for a in "$@"; do
  if [[ "$a" == /* && "$a" != /bin/* && "$a" != /usr/* ]]; then
    host=$(to_host "$a") || die "$a is not under any bind: the container would not see it"
    [[ -e "$host" ]] || die "$a (host $host) does not exist"
    a=$host
  fi
  args+=("$a")
done

bindir=$(mktemp -d /tmp/fake-apptainer-bin.XXXXXX)
ln -s "${FAKE_APPTAINER_LLMPIPE:?set FAKE_APPTAINER_LLMPIPE to the host llmpipe}" "$bindir/llmpipe"
export PATH="$bindir:$PATH" APPTAINER_CONTAINER=$image
# Not exec, so that the symlink directory can be removed afterwards; signals are forwarded to
# the command, as apptainer's starter forwards them to the container's process.
"${args[@]}" &
child=$!
trap 'kill -s USR1 "$child" 2>/dev/null || true' USR1
trap 'kill -s TERM "$child" 2>/dev/null || true' TERM
rc=0
while :; do
  rc=0
  wait "$child" || rc=$?
  kill -0 "$child" 2>/dev/null || break
done
rm -rf "$bindir"
exit "$rc"
