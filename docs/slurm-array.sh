#!/usr/bin/env bash
# A sharded addsr-bench experiment on Slurm: a job array of SHARDS tasks (one
# shard each) and a merge job that runs once every task has ended, however
# (afterany: a cancelled and requeued task does not block it forever), and
# fails naming any shard that is not complete.
#
#   docs/slurm-array.sh SPEC RUN_DIR        # on the login node: submits both
#
# Resources come from variables, defaults in brackets; fit them to your
# partition (a request no node can meet stays PENDING with "PartitionConfig"):
#   SHARDS [8]  CPUS [4]  MEM [8G]  TIME [04:00:00]  PARTITION [the default]
#   ADDSR_BENCH [addsr-bench: the binary, on every node's PATH or a full path]
# Rerun one shard I (a failed or cancelled task), then the merge:
#   SHARDS=8 ONLY=I docs/slurm-array.sh SPEC RUN_DIR
# Each task runs `addsr-bench run SPEC --out RUN_DIR --shards SHARDS --resume`:
# the task ID is the shard, so a task resubmitted alone (--array=I) runs
# shard I, and a task whose ID is not below SHARDS is refused.
set -euo pipefail
bin=${ADDSR_BENCH:-addsr-bench}
mode=submit
case ${1:-} in --task | --merge) mode=${1#--}; shift ;; esac
spec=${1:?usage: slurm-array.sh [--task|--merge] SPEC RUN_DIR}
run=${2:?usage: slurm-array.sh [--task|--merge] SPEC RUN_DIR}
shards=${SHARDS:-8}

case $mode in
task) # one array task: its shard
  exec "$bin" run "$spec" --out "$run" --shards "$shards" --resume --workers "${SLURM_CPUS_PER_TASK:-0}"
  ;;
merge) # after the array: a merge that refuses to write an incomplete run
  "$bin" merge "$run" --out "$run-merged"
  exec "$bin" report "$run-merged"
  ;;
submit)
  self=$(readlink -f "$0")
  array=0-$((shards - 1))
  [ -n "${ONLY:-}" ] && array=$ONLY
  opts=(--job-name=addsr-bench --cpus-per-task="${CPUS:-4}" --mem="${MEM:-8G}" --time="${TIME:-04:00:00}" --requeue)
  [ -n "${PARTITION:-}" ] && opts+=(--partition="$PARTITION")
  jid=$(sbatch --parsable "${opts[@]}" --array="$array" --export=ALL,SHARDS="$shards",ADDSR_BENCH="$bin" "$self" --task "$spec" "$run")
  jid=${jid%%;*}
  mopts=(--job-name=addsr-bench-merge --cpus-per-task="${CPUS:-4}" --mem="${MEM:-8G}" --time="${TIME:-04:00:00}")
  [ -n "${PARTITION:-}" ] && mopts+=(--partition="$PARTITION")
  mid=$(sbatch --parsable "${mopts[@]}" --dependency=afterany:"$jid" --export=ALL,ADDSR_BENCH="$bin" "$self" --merge "$spec" "$run")
  echo "array job $jid: shards $array of $shards; merge job ${mid%%;*} after it (it names any missing shard)"
  echo "rerun shard I: SHARDS=$shards ONLY=I $self $spec $run"
  ;;
esac
