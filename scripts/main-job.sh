#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a real 2-stage pipeline (2 MPI ranks)
# on the bundled model and prompts (configs/), then prints the completions and a metrics summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
out=${OUTPUT_DIR:-out/main-job}
export OMPI_MCA_mpi_yield_when_idle=1
mpirun --allow-run-as-root --oversubscribe --bind-to none -n 2 \
  build/llmpipe run --exp-config configs/exp_config.json --parallel-config configs/ds_config.json \
  --output-dir "$out" --trace "$out/trace.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print("\n== completions ==")
for line in open(f"{out}/completions.jsonl"):
    c = json.loads(line)
    print(f"[{c['id']}] {c['prompt']}{c['completion']}\n    ({c['completion_tokens']} tokens, {c['finish_reason']}, {c['tokens_per_s']:.1f} tok/s)")
m = json.load(open(f"{out}/metrics.json"))
print("== metrics ==")
print(f"{m['prompts']} prompts, {m['completion_tokens']} completion tokens in {m['wall_s']:.2f} s = "
      f"{m['tokens_per_s']:.1f} tok/s on {m['world_size']} ranks, layer split {m['layer_split']}")
for s in m["stages"]:
    print(f"  rank {s['rank']} layers {s['layers']}: compute {s['compute_s']:.3f} s "
          f"(busy {100 * s['busy_fraction']:.0f}%), recv wait {s['recv_wait_s']:.3f} s, "
          f"send wait {s['send_wait_s']:.3f} s")
print(f"outputs: {out}/ (completions.jsonl, metrics.json, rank_*.log, trace.json for ui.perfetto.dev)")
PY
