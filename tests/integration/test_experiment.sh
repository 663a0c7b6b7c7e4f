#!/usr/bin/env bash
# scripts/experiment on the bundled model, locally (mpirun): a strong-scaling sweep (stages
# 1, 2 x batch 1, 2 x 2 reps) and a weak-scaling one. Checks results.csv (one row per run,
# prompt counts), report.md (every number re-derived from the CSV), and the PNG plots (valid
# PNG signature and IHDR). Needs gnuplot (gnuplot-nox, installed by scripts/install-deps.sh).
source "$(dirname "$0")/lib.sh"

command -v gnuplot >/dev/null 2>&1 || fail "gnuplot is not installed: run scripts/install-deps.sh (gnuplot-nox)"
EXPERIMENT="$LLMPIPE_SOURCE_DIR/scripts/experiment"

cat >"$WORK/strong.json" <<JSON
{"name": "strong", "stages": [1, 2], "batch_sizes": [1, 2], "reps": 2, "max_new_tokens": 12,
 "model": "$MODEL", "prompts": "configs/prompts.jsonl", "extra_args": ["--threads", "1"],
 "timeout_s": 120}
JSON
cat >"$WORK/weak.json" <<JSON
{"name": "weak", "stages": [1, 2], "batch_sizes": [2], "reps": 1, "max_new_tokens": 8,
 "weak_scaling": true, "extra_args": ["--threads", "1"], "timeout_s": 120}
JSON

for s in strong weak; do
  timeout --kill-after=5 300 "$EXPERIMENT" "$WORK/$s.json" -o "$WORK/$s" --llmpipe "$LLMPIPE_BIN" \
    >"$WORK/$s.log" 2>&1 || { cat "$WORK/$s.log"; fail "$s sweep failed"; }
  for f in results.csv report.md throughput.png speedup.png latency.png; do
    [[ -s "$WORK/$s/$f" ]] || fail "$s: $f missing"
  done
done

python3 - "$WORK/strong" "$WORK/weak" <<'PY' || fail "experiment outputs"
import csv, json, os, re, statistics, struct, sys, zlib

def check_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, f"{path}: no IHDR"
    w, h = struct.unpack(">II", data[16:24])
    assert w > 100 and h > 100, (path, w, h)
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0], f"{path}: IHDR CRC"
    assert data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82"), f"{path}: truncated"

def check(out, stages, batches, reps, weak, base_prompts):
    rows = list(csv.DictReader(open(f"{out}/results.csv")))
    assert len(rows) == len(stages) * len(batches) * reps, len(rows)
    for r in rows:
        p = int(r["stages"])
        assert int(r["prompts"]) == base_prompts * (p if weak else 1), r
        assert len(r["layer_split"].split()) == p and sum(map(int, r["layer_split"].split())) == 5, r
        assert float(r["throughput_tok_s"]) > 0 and float(r["wall_s"]) > 0, r
        assert 0 < float(r["ttft_p50_s"]) <= float(r["latency_p50_s"]) + 1e-9, r
        m = json.load(open(os.path.join(out, r["run_dir"], "metrics.json")))
        assert m["world_size"] == p and m["config"]["batch_size"] == int(r["batch_size"]), m
    # The report's table, row by row, against medians over the CSV's repetitions.
    report = open(f"{out}/report.md").read()
    table = [l for l in report.splitlines() if re.match(r"\| \d", l)]
    assert len(table) == len(stages) * len(batches), table
    for b in batches:
        base = None
        for p in stages:
            rs = [r for r in rows if int(r["stages"]) == p and int(r["batch_size"]) == b]
            med = lambda k: statistics.median(float(r[k]) for r in rs)
            wall = med("wall_s")
            base = base or (p, wall)
            ratio = base[1] / wall
            speedup, eff = ((p / base[0] * ratio, ratio) if weak else (ratio * base[0], ratio * base[0] / p))
            want = [str(p), str(b), rs[0]["prompts"], str(len(rs)), f"{wall:.4f}",
                    f"{med('throughput_tok_s'):.2f}", f"{med('latency_p50_s'):.4f}",
                    f"{med('latency_p95_s'):.4f}", f"{med('ttft_p50_s'):.4f}",
                    f"{med('ttft_p95_s'):.4f}", f"{speedup:.3f}", f"{eff:.3f}"]
            line = f"| {' | '.join(want)} |"
            assert line in table, f"report lacks {line}\n" + "\n".join(table)
    for png in ("throughput.png", "speedup.png", "latency.png"):
        check_png(f"{out}/{png}")
        assert f"]({png})" in report, png
    print(f"ok: {out}: {len(rows)} runs, report matches the CSV, 3 valid PNGs")

check(sys.argv[1], [1, 2], [1, 2], 2, False, 5)
check(sys.argv[2], [1, 2], [2], 1, True, 5)
PY
pass "experiment: strong and weak sweeps"

# A misspelt sweep field is refused with a message naming it.
echo '{"stage": [1]}' >"$WORK/bad.json"
rc=0
"$EXPERIMENT" "$WORK/bad.json" -o "$WORK/bad" >"$WORK/bad.log" 2>&1 || rc=$?
if [[ $rc -eq 0 ]] || ! grep -q "unknown sweep fields: stage" "$WORK/bad.log"; then
  cat "$WORK/bad.log"
  fail "bad sweep accepted, or refused without naming the field"
fi
pass "experiment: unknown sweep field refused"
