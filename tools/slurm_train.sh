#!/usr/bin/env bash
# Usage: [GPUS=8] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
set -euo pipefail
exec bash "$(dirname "$0")/slurm_launch.sh" "$1" "$2" "$(dirname "$0")/train.py" "$3" --work-dir="$4" "${@:5}"
