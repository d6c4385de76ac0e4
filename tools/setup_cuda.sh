# Steps 1/4 and 2/4 of tools/setup_env.sh for CUDA (sourced by it; uses its VENV, PIP, say, die,
# run_with_progress and TORCH_CUDA_ARCH_LIST): a CUDA torch, a CUDA toolkit of the same major version,
# and mmcv 2.1.0 compiled with its CUDA ops.
#
# The toolkit is either NVIDIA's PyPI wheels, assembled into $VENV/cuda (no system CUDA needed), or a
# system toolkit whose major version matches torch's (CANKD_CUDA_TOOLKIT=auto|pip|system).

vpy() { "$VENV/bin/python" "$@"; }

# 1/4 -------------------------------------------------------------------------------------------
torch_cuda_version() {  # "13.0" for a CUDA torch 2.13, empty otherwise
  vpy -c 'import torch; assert torch.__version__.startswith("2.13.0"); print(torch.version.cuda or "")' 2>/dev/null || true
}
TORCH_CUDA="$(torch_cuda_version)"
if [[ -n "$TORCH_CUDA" ]]; then
  say "1/4 CUDA torch already installed: $(vpy -c 'import torch; print(torch.__version__)') (CUDA $TORCH_CUDA)"
  # A torchvision from PyPI (CUDA 13) beside a torch from another index would not load its ops.
  vpy -c 'import importlib.metadata as m; m.version("torchvision")' 2>/dev/null || [[ "$TORCH_CUDA" == 13.0 ]] \
    || die "torch (CUDA $TORCH_CUDA) is installed without torchvision: install torchvision==0.28.0 from the \
index torch came from, e.g. $VENV/bin/pip install torchvision==0.28.0 --index-url https://download.pytorch.org/whl/cu${TORCH_CUDA//./}"
else
  say "1/4 PyPI's CUDA torch 2.13 and torchvision (with NVIDIA's runtime wheels, about 2.8 GB to download)"
  "${PIP[@]}" install -q -r requirements/cuda.txt
  TORCH_CUDA="$(torch_cuda_version)"
  [[ -n "$TORCH_CUDA" ]] || die "torch $(vpy -c 'import torch; print(torch.__version__)' 2>/dev/null || echo '(not importable)') \
is not a CUDA build. Install one, e.g. $VENV/bin/pip install torch==2.13.0 --index-url https://pypi.org/simple"
fi
"${PIP[@]}" install -q -r requirements/build.txt  # already satisfied torch stays as it is
CUDA_MAJOR="${TORCH_CUDA%%.*}"

# The toolkit ------------------------------------------------------------------------------------
nvcc_release() {  # NVCC -> "13.0", empty when it is not runnable
  "$1" --version 2>/dev/null | grep -oE 'release [0-9]+\.[0-9]+' | cut -d' ' -f2 || true
}
system_cuda_home() {  # where torch's extension builder would look, in its order; empty without one
  if [[ -n "${CUDA_HOME:-}" ]]; then echo "$CUDA_HOME"; return; fi
  local from_path=""
  command -v nvcc >/dev/null 2>&1 && from_path="$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")"
  # An nvcc on PATH may be a wrapper script outside its toolkit: a toolkit has the runtime headers.
  if [[ -n "$from_path" && -f "$from_path/include/cuda_runtime.h" ]]; then echo "$from_path"
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then echo /usr/local/cuda
  else echo "$from_path"
  fi
}
toolkit_missing() {  # HOME: what torch's CUDA headers need and HOME lacks, empty for a usable toolkit
  local missing=() header
  [[ -x "$1/bin/nvcc" ]] || missing+=(bin/nvcc)
  for header in cuda_runtime.h cublas_v2.h cusparse.h cusolverDn.h; do
    [[ -f "$1/include/$header" ]] || missing+=("include/$header")
  done
  echo "${missing[*]}"
}
TOOLKIT="${CANKD_CUDA_TOOLKIT:-auto}"
case "$TOOLKIT" in auto|pip|system) ;; *) die "CANKD_CUDA_TOOLKIT=$TOOLKIT: expected auto, pip or system" ;; esac
PIP_CUDA_HOME="$VENV/cuda"
if [[ "$TOOLKIT" != pip ]]; then
  sys_home="$(system_cuda_home)"
  sys_missing="" sys_release=""
  if [[ -n "$sys_home" ]]; then
    sys_missing="$(toolkit_missing "$sys_home")"
    [[ -n "$sys_missing" ]] || sys_release="$(nvcc_release "$sys_home/bin/nvcc")"
  fi
  if [[ -z "$sys_home" ]]; then
    found="no CUDA toolkit (CUDA_HOME, nvcc on PATH or /usr/local/cuda)"
  elif [[ ! -d "$sys_home" ]]; then
    found="$sys_home does not exist"
  elif [[ -n "$sys_missing" ]]; then
    found="the CUDA toolkit at $sys_home is incomplete (no $sys_missing)"
  else
    found="the CUDA toolkit at $sys_home is CUDA $sys_release"
  fi
  if [[ -n "$sys_release" && "${sys_release%%.*}" == "$CUDA_MAJOR" ]]; then
    TOOLKIT=system
    export CUDA_HOME="$sys_home"
    say "   system CUDA toolkit $sys_release at $CUDA_HOME (torch is CUDA $TORCH_CUDA)"
  elif [[ "$TOOLKIT" == system || ( -n "${CUDA_HOME:-}" && "$CUDA_HOME" != "$PIP_CUDA_HOME" ) ]]; then
    # Asked for by name (CANKD_CUDA_TOOLKIT=system or CUDA_HOME): not replaced behind the user's back.
    die "torch is CUDA $TORCH_CUDA but $found; mmcv's CUDA ops need a complete toolkit of torch's major version. \
Either set CUDA_HOME to a complete CUDA $CUDA_MAJOR.x toolkit, or unset CUDA_HOME and CANKD_CUDA_TOOLKIT to \
use NVIDIA's pip wheels (CUDA 13 and later), or install the torch that matches your toolkit first (README, GPU install)."
  else
    [[ -z "$sys_home" ]] || say "   not using the system toolkit: $found (torch is CUDA $TORCH_CUDA)"
    TOOLKIT=pip
  fi
fi

assemble_cuda_home() {  # NVIDIA_ROOT: CUDA_HOME=$VENV/cuda as torch's extension builder expects it
  local nv="$1" so base
  rm -rf "$PIP_CUDA_HOME"
  mkdir -p "$PIP_CUDA_HOME/lib64"
  for part in bin include nvvm; do
    [[ -d "$nv/$part" ]] || die "NVIDIA's wheels lack $nv/$part"
    ln -s "$nv/$part" "$PIP_CUDA_HOME/$part"
  done
  # The wheels hold only versioned sonames (libcudart.so.13); the linker's -lcudart needs libcudart.so.
  for so in "$nv"/lib/lib*.so*; do
    base="$(basename "$so")"
    ln -sf "$so" "$PIP_CUDA_HOME/lib64/$base"
    [[ -e "$PIP_CUDA_HOME/lib64/${base%%.so*}.so" ]] || ln -s "$base" "$PIP_CUDA_HOME/lib64/${base%%.so*}.so"
  done
}
if [[ "$TOOLKIT" == pip ]]; then
  [[ "$CUDA_MAJOR" -ge 13 ]] || die "torch is CUDA $TORCH_CUDA: NVIDIA publishes nvcc on PyPI only for \
CUDA 13 (nvidia-cuda-nvcc-cu12 holds ptxas and libnvvm, no nvcc). Install a CUDA $CUDA_MAJOR.x toolkit (then \
CANKD_CUDA_TOOLKIT=system), or let this script install PyPI's torch 2.13 (CUDA 13): $VENV/bin/pip uninstall -y torch torchvision"
  # The compiler wheels at the version of the runtime wheels that torch brought (cuda-toolkit==13.0.3).
  ct_version="$(vpy -c 'import importlib.metadata as m; print(m.version("cuda-toolkit"))' 2>/dev/null || echo "$TORCH_CUDA.*")"
  say "   NVIDIA's CUDA compiler wheels: cuda-toolkit==$ct_version (nvcc, cccl, crt, nvvm; headers of the runtime libraries)"
  "${PIP[@]}" install -q "cuda-toolkit[nvcc,cccl,crt,nvvm,cudart,cublas,cusparse,cusolver,curand]==$ct_version"
  # nvidia/ is a namespace package: the compiler lies in whichever of its folders holds cu<major>/bin/nvcc.
  nv_root="$(vpy - "cu$CUDA_MAJOR" <<'PY'
import os, sys
import nvidia
print(next((os.path.join(p, sys.argv[1]) for p in nvidia.__path__
            if os.path.isfile(os.path.join(p, sys.argv[1], 'bin', 'nvcc'))), ''))
PY
)"
  [[ -n "$nv_root" ]] || die "NVIDIA's compiler wheels installed no nvidia/cu$CUDA_MAJOR/bin/nvcc (pip list | grep nvidia)"
  assemble_cuda_home "$nv_root"
  export CUDA_HOME="$PIP_CUDA_HOME"
  say "   CUDA_HOME=$CUDA_HOME (nvcc $(nvcc_release "$CUDA_HOME/bin/nvcc"), from $nv_root)"
fi
export PATH="$CUDA_HOME/bin:$PATH"

# 2/4 -------------------------------------------------------------------------------------------
# The built wheel is kept per CUDA version and architectures; pip's own cache is not used, as it may
# hold a CPU-only mmcv 2.1.0 built from the same sdist.
MMCV_KEY="cu${TORCH_CUDA}-sm$(echo "$TORCH_CUDA_ARCH_LIST" | tr -c '0-9A-Za-z\n' '_')"
MMCV_WHEELS="$VENV/wheels/mmcv-$MMCV_KEY"
mmcv_cuda_ok() {  # mmcv 2.1.0 compiled for this CUDA major version and these architectures
  [[ "$(cat "$VENV/.cankd-mmcv-cuda" 2>/dev/null)" == "$MMCV_KEY" ]] && vpy - "$CUDA_MAJOR" <<'PY' 2>/dev/null
import sys
import mmcv
from mmcv.ops import get_compiling_cuda_version
assert mmcv.__version__ == '2.1.0'
assert get_compiling_cuda_version().split('.')[0] == sys.argv[1]
PY
}
if mmcv_cuda_ok; then
  say "2/4 mmcv 2.1.0 with CUDA ops ($MMCV_KEY) already installed"
else
  wheel="$(ls "$MMCV_WHEELS"/mmcv-2.1.0-*.whl 2>/dev/null | head -1 || true)"
  if [[ -z "$wheel" ]]; then
    say "2/4 mmcv 2.1.0 from source with CUDA ops for sm ${TORCH_CUDA_ARCH_LIST} (first time ~40 min on 2 cores; log: $VENV/mmcv-build.log)"
    FORCE_CUDA=1 MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      run_with_progress "$VENV/mmcv-build.log" "mmcv CUDA build" \
      "${PIP[@]}" wheel -v --no-deps --no-build-isolation --no-cache-dir 'mmcv==2.1.0' -w "$MMCV_WHEELS"
    wheel="$(ls "$MMCV_WHEELS"/mmcv-2.1.0-*.whl | head -1)"
  else
    say "2/4 mmcv 2.1.0 with CUDA ops from the wheel built before: $wheel"
  fi
  "${PIP[@]}" install -q --force-reinstall --no-deps "$wheel"
  # A wheel built without CUDA (FORCE_CUDA unset, a copied CPU wheel) has no libcudart in its ops.
  ext="$(vpy -c 'import glob, importlib.util as u
print(*glob.glob(u.find_spec("mmcv").submodule_search_locations[0] + "/_ext*.so"))')"
  if ! grep -q 'libcudart\.so' $ext; then
    rm -f "$wheel" "$VENV/.cankd-mmcv-cuda"
    die "$wheel has no CUDA ops ($ext does not link libcudart); removed it. Run the set-up again to build mmcv."
  fi
  # mmcv's own requirements (mmengine, addict, ...) come with runtime.txt in step 3.
  echo "$MMCV_KEY" >"$VENV/.cankd-mmcv-cuda"
fi
