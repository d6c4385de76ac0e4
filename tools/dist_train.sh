#!/usr/bin/env bash
# Usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]
# See dist_launch.sh for multi-node variables.
set -euo pipefail
exec bash "$(dirname "$0")/dist_launch.sh" "$2" "$(dirname "$0")/train.py" "$1" "${@:3}"
