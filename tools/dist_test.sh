#!/usr/bin/env bash
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# See dist_launch.sh for multi-node variables.
set -euo pipefail
exec bash "$(dirname "$0")/dist_launch.sh" "$3" "$(dirname "$0")/test.py" "$1" "$2" "${@:4}"
