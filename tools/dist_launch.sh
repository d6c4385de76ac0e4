#!/usr/bin/env bash
# Usage: bash tools/dist_launch.sh NPROC SCRIPT [script args]
# torchrun for dist_train.sh / dist_test.sh. Multi-node: NNODES, NODE_RANK,
# MASTER_ADDR and PORT as for torchrun. Without CUDA, processes run on CPU
# with the gloo backend.
#
# Stopping: this script becomes torchrun (exec), which passes SIGTERM, SIGINT
# and SIGHUP on to its workers and SIGKILLs those still running after
# TORCH_ELASTIC_SHUTDOWN_TIMEOUT seconds (10 here, torch's default is 30:
# checkpoints are written atomically, so a kill loses nothing saved). If
# torchrun itself is killed, the workers die with it (cankd sets their
# parent-death signal). When a rank gives up on a stalled peer, cankd ends
# the job's other local workers itself (docs/fault_tolerance.md).
set -euo pipefail
NPROC=$1
SCRIPT=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
TORCH_ELASTIC_SHUTDOWN_TIMEOUT="${TORCH_ELASTIC_SHUTDOWN_TIMEOUT:-10}" \
exec python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$SCRIPT" "${@:3}" --launcher pytorch
