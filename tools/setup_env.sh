#!/usr/bin/env bash
# Creates .venv with the verified stack (README, version matrix: torch 2.13 CPU, mmcv 2.1.0 built from source with ops,
# mmengine 0.10.7, mmdet 3.3.0, mmsegmentation 1.2.2, mmrazor 1.0.0) and installs cankd in editable mode.
#
# Idempotent: a stamp keyed on the requirement files makes a second run take seconds.
# GPU users: export FORCE_CUDA=1 (and install a CUDA build of torch 2.13 first) to compile mmcv's CUDA ops.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CANKD_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
cd "$ROOT"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

stamp_key() {
  cat requirements.txt requirements/*.txt setup.py | sha256sum | cut -c1-16
}
STAMP="$VENV/.cankd-setup-$(stamp_key)"

if [[ -f "$STAMP" ]] && "$VENV/bin/python" -c 'import cankd, mmcv.ops' 2>/dev/null; then
  say "environment up to date ($VENV)"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating virtual environment $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip

say "1/4 build requirements (torch first: mmcv's build imports it)"
"${PIP[@]}" install -q -r requirements/build.txt

if "$VENV/bin/python" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
  say "2/4 mmcv 2.1.0 with ops already installed"
else
  say "2/4 mmcv 2.1.0 from source with compiled ops (first time ~30 min on 2 cores; pip caches the wheel)"
  log="$VENV/mmcv-build.log"
  # mmcv's setup.py needs torch and pkg_resources at build time, hence no build isolation.
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "${PIP[@]}" install -v --no-build-isolation 'mmcv==2.1.0' >"$log" 2>&1 &
  pid=$!
  start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    # ninja prints [done/total] per compiled file.
    step=$(grep -oE '^ *\[[0-9]+/[0-9]+\]' "$log" | tail -1 | tr -d ' ' || true)
    say "   mmcv build running $(( (SECONDS - start) / 60 )) min ${step:+(compiled $step)}..."
  done
  if ! wait "$pid"; then
    tail -40 "$log"
    say "mmcv build failed; full log: $log"
    exit 1
  fi
  say "   mmcv built in $(( (SECONDS - start) / 60 )) min"
fi

say "3/4 OpenMMLab stack, deployment (mmdeploy, onnxruntime), analysis and test requirements"
"${PIP[@]}" install -q -r requirements/runtime.txt -r requirements/deploy.txt \
  -r requirements/analysis.txt -r requirements/tests.txt

say "4/4 cankd (editable)"
# setuptools warns at length about editable installs; keep it for failures.
if ! "${PIP[@]}" install -q --no-build-isolation --no-deps -e . 2>"$VENV/cankd-install.log"; then
  cat "$VENV/cankd-install.log"
  exit 1
fi

"$VENV/bin/python" -c 'import cankd, mmcv.ops, mmdet, mmseg, mmrazor.models, mmdeploy, onnxruntime; print("cankd", cankd.__version__, "ready")'
rm -f "$VENV"/.cankd-setup-*
touch "$STAMP"
