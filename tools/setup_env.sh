#!/usr/bin/env bash
# Creates .venv with the verified stack (README, version matrix: torch 2.13, mmcv 2.1.0 built from source with ops,
# mmengine 0.10.7, mmdet 3.3.0, mmsegmentation 1.2.2, mmrazor 1.0.0) and installs cankd in editable mode.
#
# Idempotent: a stamp keyed on the requirement files makes a second run take seconds.
#
# CPU or CUDA (CANKD_DEVICE=auto|cpu|cuda, default auto: cuda when `nvidia-smi -L` lists a GPU).
# The CUDA set-up needs an NVIDIA driver and nothing else from the system: it installs PyPI's CUDA
# torch, NVIDIA's compiler wheels of the same CUDA major version, assembles a CUDA_HOME inside the
# venv ($VENV/cuda) and compiles mmcv's CUDA ops for the visible GPUs (or TORCH_CUDA_ARCH_LIST), then
# runs tools/analysis/check_gpu.py. With no GPU visible and TORCH_CUDA_ARCH_LIST given it is a
# compile-only run (the GPU checks are reported as skipped).
#   CANKD_CUDA_TOOLKIT=auto|pip|system  auto (default): a system toolkit (CUDA_HOME, nvcc on PATH,
#       /usr/local/cuda) whose major version matches torch's, else NVIDIA's pip wheels.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CANKD_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
cd "$ROOT"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { say "ERROR: $*"; exit 1; }

# --- which device -----------------------------------------------------------------------------
gpu_visible() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; }
gpu_compute_caps() {  # "8.0;9.0" for the visible GPUs (drivers >= 510 answer this query)
  nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | tr -d ' ' \
    | grep -E '^[0-9]+\.[0-9]+$' | sort -u | paste -sd ';' || true
}
DEVICE="${CANKD_DEVICE:-auto}"
case "$DEVICE" in
  auto) if gpu_visible; then DEVICE=cuda; else DEVICE=cpu; fi ;;
  cpu|cuda) ;;
  *) die "CANKD_DEVICE=$DEVICE: expected auto, cpu or cuda" ;;
esac
COMPILE_ONLY=0
if [[ "$DEVICE" == cuda ]]; then
  gpu_visible || COMPILE_ONLY=1
  if [[ -z "${TORCH_CUDA_ARCH_LIST:-}" ]]; then
    [[ "$COMPILE_ONLY" == 0 ]] || die "CANKD_DEVICE=cuda but no GPU is visible (nvidia-smi lists none). \
For a compile-only build, name the compute capabilities to build for, e.g. TORCH_CUDA_ARCH_LIST=\"8.0;9.0\""
    TORCH_CUDA_ARCH_LIST="$(gpu_compute_caps)"
    [[ -n "$TORCH_CUDA_ARCH_LIST" ]] || die "nvidia-smi lists GPUs but not their compute capability \
(driver too old?). Name them, e.g. TORCH_CUDA_ARCH_LIST=\"8.0;9.0\""
    export TORCH_CUDA_ARCH_LIST
  fi
  say "CUDA set-up for compute capabilities $TORCH_CUDA_ARCH_LIST$([[ $COMPILE_ONLY == 1 ]] && echo \
' (compile-only: no GPU visible)')"
fi

stamp_key() {
  if [[ "$DEVICE" == cuda ]]; then
    { cat requirements.txt requirements/*.txt setup.py; echo "cuda ${CANKD_CUDA_TOOLKIT:-auto} $TORCH_CUDA_ARCH_LIST"; } \
      | sha256sum | cut -c1-16
  else
    cat requirements.txt requirements/*.txt setup.py | sha256sum | cut -c1-16
  fi
}
STAMP="$VENV/.cankd-setup-$(stamp_key)"

gpu_check() {  # the CUDA set-up ends here, also when nothing had to be done
  if [[ "$COMPILE_ONLY" == 1 ]]; then
    "$VENV/bin/python" tools/analysis/check_gpu.py --compile-only
  else
    "$VENV/bin/python" tools/analysis/check_gpu.py
  fi
}

if [[ -f "$STAMP" ]] && "$VENV/bin/python" -c 'import cankd, mmcv.ops' 2>/dev/null; then
  say "environment up to date ($VENV)"
  if [[ "$DEVICE" == cuda ]]; then gpu_check; fi
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating virtual environment $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip

# Runs a long pip command in the background, printing ninja's [done/total] every 30 s.
run_with_progress() {  # LOG WHAT COMMAND...
  local log="$1" what="$2"; shift 2
  "$@" >"$log" 2>&1 &
  local pid=$! start=$SECONDS step
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    # ninja prints [done/total] per compiled file.
    step=$(grep -oE '^ *\[[0-9]+/[0-9]+\]' "$log" | tail -1 | tr -d ' ' || true)
    say "   $what running $(( (SECONDS - start) / 60 )) min ${step:+(compiled $step)}..."
  done
  if ! wait "$pid"; then
    tail -40 "$log"
    say "$what failed; full log: $log"
    exit 1
  fi
  say "   $what done in $(( (SECONDS - start) / 60 )) min"
}

if [[ "$DEVICE" == cpu ]]; then
  say "1/4 build requirements (torch first: mmcv's build imports it)"
  "${PIP[@]}" install -q -r requirements/build.txt

  if "$VENV/bin/python" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
    say "2/4 mmcv 2.1.0 with ops already installed"
  else
    say "2/4 mmcv 2.1.0 from source with compiled ops (first time ~30 min on 2 cores; pip caches the wheel)"
    # mmcv's setup.py needs torch and pkg_resources at build time, hence no build isolation.
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" run_with_progress "$VENV/mmcv-build.log" "mmcv build" \
      "${PIP[@]}" install -v --no-build-isolation 'mmcv==2.1.0'
  fi
else
  source tools/setup_cuda.sh
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
if [[ "$DEVICE" == cuda ]]; then gpu_check; fi
