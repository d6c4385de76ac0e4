#!/usr/bin/env bash
# Usage: [GPUS=8] bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
set -euo pipefail
exec bash "$(dirname "$0")/slurm_launch.sh" "$1" "$2" "$(dirname "$0")/test.py" "$3" "$4" "${@:5}"
