# shellcheck shell=bash
# A real, private Slurm cluster of two emulated nodes (n1, n2) on this one machine, for tests.
# Sourced. Follows /work/shared/notes/slurm-on-one-machine.md: Debian's Slurm 22.05 as root,
# munge with its own socket, every file under one scratch directory, nothing in /etc.
#
#   slurm_cluster_start DIR   writes DIR/slurm.conf, starts munged, slurmctld and slurmd -N n1/n2,
#                             waits until both nodes are idle; exports SLURM_CONF.
#   slurm_cluster_stop        cancels leftover jobs and stops every daemon it started (by PID file).
#
# The caller must arrange for slurm_cluster_stop to run on exit (trap), even on failure.
# Ports are picked free at start, so two clusters (two engineers, two CI jobs) can coexist.
#
# Environment:
#   SLURM_CLUSTER_NODES    number of emulated nodes (default 2)
#   SLURM_CLUSTER_GPUS     fake GPUs per node, gres backed by /dev/null (default 0: no GPU gres)
#   SLURM_CLUSTER_TIMEOUT  seconds to wait for the daemons (default 60)

SLURM_CLUSTER_DIR=""

_slurm_log() { echo "slurm_cluster: $*" >&2; }

# Installs Slurm and munge when missing (CI on a fresh machine); needs root.
_slurm_ensure_packages() {
  local cmd missing=0
  for cmd in munged mungekey slurmctld slurmd sbatch sinfo scontrol; do
    command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$cmd" >/dev/null 2>&1 || missing=1
  done
  if ((missing)); then
    _slurm_log "Slurm/munge missing: installing with scripts/install-deps.sh --cluster"
    "${LLMPIPE_SOURCE_DIR:?}/scripts/install-deps.sh" --cluster >&2
  fi
  # The daemons live in /usr/sbin, which a non-login PATH may lack.
  case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin" ;; esac
}

# _slurm_free_port_base N: a port P such that P .. P+N are all free on 127.0.0.1.
_slurm_free_port_base() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000 - n)
    socks = []
    try:
        for p in range(base, base + n + 1):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    sys.exit(0)
sys.exit("no free port range found")
PY
}

# _slurm_wait SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds.
_slurm_wait() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      _slurm_log "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

_slurm_nodes_idle() {
  local states
  states=$(sinfo -h -N -o '%N %t' 2>/dev/null) || return 1
  local n
  n=$(grep -c ' idle$' <<<"$states" || true)
  ((n == ${SLURM_CLUSTER_NODES:-2}))
}

_slurm_dump_logs() {
  local f
  for f in "$SLURM_CLUSTER_DIR"/log/*.log; do
    [[ -f "$f" ]] || continue
    echo "---- $f (tail)" >&2
    tail -n 20 "$f" >&2
  done
  sinfo -N -o '%N %t %E' >&2 2>/dev/null || true
}

slurm_cluster_start() {
  local dir=$1
  local nodes=${SLURM_CLUSTER_NODES:-2} gpus=${SLURM_CLUSTER_GPUS:-0}
  local limit=${SLURM_CLUSTER_TIMEOUT:-60}
  _slurm_ensure_packages
  ((EUID == 0)) || { _slurm_log "needs root (SlurmUser=root, munge key ownership)"; return 1; }
  SLURM_CLUSTER_DIR=$dir
  mkdir -p "$dir"/{munge,state,log,run,tmp,jobcomp}
  # munged refuses a socket directory others cannot traverse (or one writable by others).
  chmod 0755 "$dir" "$dir/munge"

  local host topology base
  host=$(hostname -s)
  # The node's Boards/Sockets/Cores/Threads must equal what slurmd detects, else slurmd drains it.
  topology=$(slurmd -C | head -1 | grep -o 'CPUs=.*ThreadsPerCore=[0-9]*')
  [[ -n "$topology" ]] || { _slurm_log "slurmd -C printed no topology"; return 1; }
  base=$(_slurm_free_port_base "$nodes")

  mungekey --create --force --keyfile="$dir/munge/munge.key" >/dev/null
  chmod 0600 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket.2" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" ||
    { _slurm_log "munged failed to start"; cat "$dir/log/munged.log" >&2; return 1; }

  local gres_node="" i
  if ((gpus > 0)); then
    gres_node="Gres=gpu:$gpus"
    : >"$dir/gres.conf"
    for ((i = 1; i <= nodes; i++)); do
      echo "NodeName=n$i Name=gpu Count=$gpus File=/dev/null" >>"$dir/gres.conf"
    done
  fi
  for ((i = 1; i <= nodes; i++)); do mkdir -p "$dir/spool/n$i" "$dir/tmp/n$i"; done

  cat >"$dir/slurm.conf" <<EOF
# Written by tests/integration/slurm_cluster.sh: a private ${nodes}-node cluster on $host.
ClusterName=llmpipe-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$base
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
TmpFS=$dir/tmp/%n
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp/jobcomp.txt
MailProg=/bin/true
ReturnToService=2
KillOnBadExit=1
MinJobAge=5
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
GresTypes=gpu
NodeName=n[1-$nodes] NodeHostname=$host NodeAddr=127.0.0.1 Port=[$((base + 1))-$((base + nodes))] $topology $gres_node State=UNKNOWN
PartitionName=debug Nodes=n[1-$nodes] Default=YES MaxTime=60 State=UP
EOF
  export SLURM_CONF=$dir/slurm.conf

  slurmctld -c -f "$SLURM_CONF" ||
    { _slurm_log "slurmctld failed to start"; _slurm_dump_logs; return 1; }
  _slurm_wait "$limit" "slurmctld (scontrol ping)" scontrol ping || { _slurm_dump_logs; return 1; }
  for ((i = 1; i <= nodes; i++)); do
    slurmd -N "n$i" -f "$SLURM_CONF" ||
      { _slurm_log "slurmd -N n$i failed to start"; _slurm_dump_logs; return 1; }
  done
  _slurm_wait "$limit" "$nodes idle nodes" _slurm_nodes_idle || { _slurm_dump_logs; return 1; }
  _slurm_log "up: $nodes nodes on $host, slurmctld port $base, SLURM_CONF=$SLURM_CONF"
}

# _slurm_kill_pidfile FILE: TERM the daemon named in FILE, KILL it if it lingers.
_slurm_kill_pidfile() {
  local file=$1 pid
  [[ -f "$file" ]] || return 0
  pid=$(<"$file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  local _
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

slurm_cluster_stop() {
  [[ -n "$SLURM_CLUSTER_DIR" && -d "$SLURM_CLUSTER_DIR" ]] || return 0
  local dir=$SLURM_CLUSTER_DIR f
  if [[ -f "$dir/run/slurmctld.pid" ]]; then
    # Leftover jobs first, so that their steps end before the daemons that track them.
    timeout 10 scancel --quiet --user=root 2>/dev/null || true
    local _
    for _ in $(seq 1 25); do
      [[ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ]] && break
      sleep 0.2
    done
  fi
  for f in "$dir"/run/slurmd-*.pid; do _slurm_kill_pidfile "$f"; done
  _slurm_kill_pidfile "$dir/run/slurmctld.pid"
  _slurm_kill_pidfile "$dir/munge/munged.pid"
  SLURM_CLUSTER_DIR=""
}
