#!/usr/bin/env bash
# Installs the Debian 12 packages llmpipe needs to build, run and test, skipping those present.
# Idempotent; needs root (or sudo). Nothing else is downloaded, at build or at run time.
#
#   scripts/install-deps.sh            build + run + test dependencies
#   scripts/install-deps.sh --cluster  also Slurm and munge (for the Slurm tests)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libcli11-dev nlohmann-json3-dev                 # CLI, JSON
  openmpi-bin libopenmpi-dev                      # the pipeline transport
  libgtest-dev libsentencepiece-dev               # tests (sentencepiece is the tokenizer reference)
  libpcre2-dev                                    # the byte-level BPE pre-tokenizer regexes
  python3 python3-venv                            # test helpers, scripts/experiment; the test venv
  gnuplot-nox                                     # scripts/experiment's plots
  python3-torch python3-sentencepiece             # tests: torch.save writes the .bin fixtures,
                                                  # sentencepiece checks the tokenizer.model ones
  clang                                           # tests: libFuzzer runs of the checkpoint parsers
)
if [[ "${1:-}" == "--cluster" ]]; then
  packages+=(munge slurmctld slurmd slurm-client shellcheck)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
