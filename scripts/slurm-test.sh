#!/usr/bin/env bash
# make test-slurm: docs/slurm-array.sh on a real single-node Slurm cluster
# (Debian's slurm-wlm and munge, installed here when missing), started by
# this script as root without systemd and stopped by its PIDs. It submits a
# 3-shard run of a small experiment, cancels one task before it starts,
# checks that the merge job (afterany) runs and refuses the incomplete run
# naming that shard, reruns the shard with ONLY=, and checks that the merged
# run equals an unsharded one value for value. Skips, saying why, where it
# cannot run (not root, no apt to install the packages).
set -uo pipefail
cd "$(dirname "$0")/.."
skip() { echo "test-slurm: SKIP: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root to run slurmctld, slurmd and munged"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || skip "no slurm-wlm and no apt-get to install it"
  (apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq slurm-wlm munge; } >/dev/null 2>&1) ||
    skip "apt-get could not install slurm-wlm and munge"
fi
B=$PWD/bin/addsr-bench
[ -x "$B" ] || { echo "test-slurm: build first (make build)"; exit 1; }
W=$(mktemp -d /tmp/addsr-slurm.XXXXXX)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap stop EXIT
fail() { echo "test-slurm: FAIL: $*"; for f in "$W"/*.log; do echo "== $f"; tail -5 "$f"; done; exit 1; }

# munge: a key of our own, the daemon on our own socket.
mkdir -p "$W/munge" && dd if=/dev/urandom of="$W/munge/key" bs=1024 count=1 2>/dev/null && chmod 400 "$W/munge/key"
munged --force -S "$W/munge/sock" --key-file="$W/munge/key" --pid-file="$W/munge/pid" --log-file="$W/munge.log" --seed-file="$W/munge/seed" ||
  skip "munged did not start ($(tail -1 "$W/munge.log" 2>/dev/null))"
pids+=("$(cat "$W/munge/pid")")
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
mkdir -p "$W/state" "$W/spool"
cat > "$W/slurm.conf" <<CONF
ClusterName=addsr
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$W/munge/sock
CredType=cred/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$W/slurm.conf
slurmctld -D -f "$SLURM_CONF" > "$W/slurmctld.out" 2>&1 & pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$W/slurmd.out" 2>&1 & pids+=($!)
for i in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo -h -o %T 2>/dev/null | grep -q idle || skip "the single-node cluster did not come up ($(tail -1 "$W/slurmctld.log" 2>/dev/null))"
echo "test-slurm: cluster up ($host, $cpus CPUs, Slurm $(sinfo -V | awk '{print $2}'))"

# A small experiment, and its unsharded run.
"$B" degrade --preset sr4 --in datasets/samples --out "$W/set" --crop-size 192 >/dev/null || fail "degrade"
printf 'datasets:\n  - {name: s, path: %s}\nmetrics: [psnr, ssim]\nmethods:\n  - {name: bicubic, runner: bicubic}\n  - {name: nearest, runner: nearest}\n' "$W/set" > "$W/spec.yaml"
"$B" run "$W/spec.yaml" --out "$W/whole" >/dev/null || fail "unsharded run"

wait_idle() { for i in $(seq 120); do [ -z "$(squeue -h 2>/dev/null)" ] && return 0; sleep 1; done; fail "jobs still queued after 120 s: $(squeue)"; }
cd "$W"
# Every task takes the node's CPUs, so they run one after another and
# task 2 is still pending when it is cancelled.
out=$(SHARDS=3 CPUS=$cpus MEM=500M ADDSR_BENCH=$B bash "$OLDPWD/docs/slurm-array.sh" "$W/spec.yaml" "$W/run") || fail "submit: $out"
echo "$out"
jid=$(grep -o 'array job [0-9]*' <<< "$out" | awk '{print $3}')
scancel "${jid}_2" || fail "scancel ${jid}_2"
wait_idle
mout=$(ls -t "$W"/slurm-*.out | head -1)
grep -q "missing shard: 2/3" "$mout" || fail "the merge job did not name shard 2: $(cat "$mout")"
[ ! -e "$W/run-merged/records.jsonl" ] || fail "an incomplete merge was written"
echo "test-slurm: task 2 cancelled; the merge job ran (afterany) and named it"
out=$(SHARDS=3 ONLY=2 CPUS=$cpus MEM=500M ADDSR_BENCH=$B bash "$OLDPWD/docs/slurm-array.sh" "$W/spec.yaml" "$W/run") || fail "resubmit: $out"
wait_idle
[ -e "$W/run-merged/records.jsonl" ] || fail "no merged run after the rerun: $(cat "$(ls -t "$W"/slurm-*.out | head -1)")"
"$B" check --baseline "$W/whole" --run "$W/run-merged" --per-image --tol '*=0' > "$W/check.log" || fail "merged run differs from the unsharded one: $(cat "$W/check.log")"
echo "test-slurm: PASS (3 shards, one cancelled and rerun alone, merged = unsharded, $(grep -o '[0-9]* values compared' "$W/check.log"))"
rm -rf "$W"
