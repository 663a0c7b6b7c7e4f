#!/usr/bin/env bash
# Perplexity and greedy text of llmpipe beside llama.cpp on the same GGUF files.
#   bench/ppl_compare.sh PEER_BIN_DIR FILE.gguf...
# PEER_BIN_DIR holds llama.cpp's llama-perplexity and llama-simple. For each file: the final PPL
# of `llama-perplexity -c 128 -t 2` and of `llmpipe perplexity -c 128 -t 2` on TEXT, their ratio
# (ours / llama.cpp; "ok" within TOLERANCE, default 0.005 = 0.5 %), and whether the greedy
# continuations of PROMPT (64 tokens, llama-simple vs `llmpipe generate --temperature 0`) are the
# same text (BOS/EOS markers dropped, whitespace runs collapsed: the two print them differently);
# if not, the first differing word and the words there. Exit 1 when a PPL ratio is beyond
# TOLERANCE or a run failed (a greedy difference after a near-tie is reported, not failed).
# Environment: LLMPIPE (default build/llmpipe), TEXT (default bench/data/tinystories-ppl.txt),
# PROMPT (default "Once upon a time"), CTX (128), THREADS (2), TOLERANCE (0.005). The peer's
# libraries come from its RUNPATH; LD_LIBRARY_PATH=DIR swaps in another build of them (e.g. a
# libggml-cpu.so built without AMX, see bench/RESULTS.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 2 ]] || { sed -n 2,15p "$0" >&2; exit 2; }
peer=$1
shift
llmpipe=${LLMPIPE:-$root/build/llmpipe}
text=${TEXT:-$root/bench/data/tinystories-ppl.txt}
prompt=${PROMPT:-Once upon a time}
ctx=${CTX:-128}
threads=${THREADS:-2}
tol=${TOLERANCE:-0.005}
for exe in "$peer/llama-perplexity" "$peer/llama-simple" "$llmpipe"; do
  [[ -x $exe ]] || { echo "ppl_compare: $exe is not an executable" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

final_ppl() { sed -n 's/.*Final estimate: PPL = \([0-9.]*\) .*/\1/p' "$1" | tail -1; }
# One line of text: special-token markers removed, whitespace runs made one space, trimmed.
normalize() { sed -e 's#<s>##g' -e 's#</s>##g' "$1" | tr -s ' \n\t' '   ' | sed -e 's/^ *//' -e 's/ *$//'; }
# "same", or where two normalized texts part: "word 24/55: 'the park.' vs 'on a table.'".
compare_words() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); m = split(b, y, " ")
    for (i = 1; i <= (n > m ? n : m); i++) if (x[i] != y[i]) break
    if (i > n && i > m) { print "same"; exit }
    pa = pb = ""
    for (j = i; j < i + 3; j++) { pa = pa (j > i ? " " : "") x[j]; pb = pb (j > i ? " " : "") y[j] }
    printf "differs at word %d/%d: \x27%s\x27 vs \x27%s\x27\n", i, (n > m ? n : m), pa, pb
  }'
}

printf '%-28s %-14s %12s %12s %9s %5s %s\n' file declared llama.cpp llmpipe ratio ppl greedy
status=0
for f in "$@"; do
  name=$(basename "$f")
  declared=$("$llmpipe" info -m "$f" 2>/dev/null | sed -n 's/^file type: *[0-9]* (\(.*\))$/\1/p')
  "$peer/llama-perplexity" -m "$f" -f "$text" -c "$ctx" -t "$threads" >"$work/peer.out" 2>&1 ||
    { echo "$name: llama-perplexity failed, see below" >&2; tail -5 "$work/peer.out" >&2; status=1; continue; }
  "$llmpipe" perplexity -m "$f" -f "$text" -c "$ctx" -t "$threads" >"$work/ours.out" 2>&1 ||
    { echo "$name: llmpipe perplexity failed, see below" >&2; tail -5 "$work/ours.out" >&2; status=1; continue; }
  p_peer=$(final_ppl "$work/peer.out")
  p_ours=$(final_ppl "$work/ours.out")
  read -r ratio ok < <(awk -v a="$p_ours" -v b="$p_peer" -v t="$tol" \
    'BEGIN { r = a / b; d = r - 1; if (d < 0) d = -d; printf "%.5f %s\n", r, (d <= t ? "ok" : "FAIL") }')
  [[ $ok == ok ]] || status=1

  "$peer/llama-simple" -m "$f" -n 64 "$prompt" >"$work/peer.txt" 2>/dev/null || true
  "$llmpipe" generate -m "$f" -p "$prompt" -n 64 --temperature 0 -t "$threads" \
    >"$work/ours.txt" 2>/dev/null || true
  greedy=$(compare_words "$(normalize "$work/peer.txt")" "$(normalize "$work/ours.txt")")
  printf '%-28s %-14s %12s %12s %9s %5s %s\n' "$name" "${declared:-?}" "$p_peer" "$p_ours" \
    "$ratio" "$ok" "$greedy"
done
exit $status
