#!/usr/bin/env bash
# A sharded addsr-bench experiment as a Slurm job array, then a dependent merge.
#
#   sbatch docs/slurm-array.sh experiments/div2k.yaml runs/div2k
#
# Each array task runs one shard: addsr-bench reads SLURM_ARRAY_TASK_ID,
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT itself. Requeued tasks
# resume. The merge job runs when every task has succeeded.
#SBATCH --job-name=addsr-bench
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --requeue
set -euo pipefail
spec=${1:?usage: sbatch slurm-array.sh SPEC RUN_DIR}
run=${2:?usage: sbatch slurm-array.sh SPEC RUN_DIR}
bin=${ADDSR_BENCH:-addsr-bench}

if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
  "$bin" run "$spec" --out "$run" --shards "${SLURM_ARRAY_TASK_COUNT}" --resume --workers "${SLURM_CPUS_PER_TASK:-0}"
  # The first task to start submits the merge, held until the array is done.
  if [ "${SLURM_ARRAY_TASK_ID}" = "${SLURM_ARRAY_TASK_MIN}" ]; then
    sbatch --dependency="afterok:${SLURM_ARRAY_JOB_ID}" --job-name=addsr-bench-merge \
      --wrap "$bin merge '$run' --out '$run-merged' && $bin report '$run-merged'"
  fi
fi
