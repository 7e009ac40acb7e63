#!/usr/bin/env bash
# Build the separate benchmark environment with the peer package deepbays 0.1.11 (issue 13).
#
# deepbays is NEVER a dependency of deeprg: it lives only in this environment, which
# benchmarks/bench_bpkr_scale.py runs as a subprocess (and skips with a message when absent).
#
#   bash benchmarks/peer_env.sh            # creates .peer-venv/ in the repository root
#   PEER_VENV=/some/where bash benchmarks/peer_env.sh
#
# Recipe (what the script does):
# 1. a fresh virtual environment with numpy, scipy and the CPU-only wheel of torch
#    (torch==2.13.0+cpu where the package index offers it, else the plain torch wheel);
# 2. deepbays 0.1.11 installed with --no-deps (its metadata also requires torchvision, which
#    only its MNIST/CIFAR download helpers import);
# 3. stub modules written into site-packages:
#    - cupy: deepbays/rkgp/__init__.py imports its CUDA 1HL class, which does `import cupy`
#      and `from cupy.cuda import Device` at import time; the stub is an empty package with an
#      empty cupy.cuda.Device, never used on CPU;
#    - torchvision (+ torchvision.transforms): imported at the top of deepbays.tasks, whose
#      data-set downloads we never call;
# 4. the identity kernel: FC_deep(act="id") looks up deepbays.kernels.kernel_id (NumPy, for
#    predictions) and kernel_id_torch (for the action); the package exports neither (kernel_id
#    exists in deepbays/kernels/kernels.py only), so the benchmark sets both to
#    `lambda cxx, cxy, cyy: cxy` at run time: a deep *linear* network, the case where both
#    packages solve the same theory.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${PEER_VENV:-$ROOT/.peer-venv}"
PY="${PYTHON:-python3}"

"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet numpy scipy
if ! "$VENV/bin/pip" install --quiet "torch==2.13.0+cpu" 2>/dev/null; then
    "$VENV/bin/pip" install --quiet torch
fi
"$VENV/bin/pip" install --quiet --no-deps "deepbays==0.1.11"

SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$SITE/cupy/cuda" "$SITE/torchvision/transforms"
cat >"$SITE/cupy/__init__.py" <<'EOF'
"""Stub for deepbays' import-time `import cupy` (peer benchmark env only; never used on CPU)."""
EOF
cat >"$SITE/cupy/cuda/__init__.py" <<'EOF'
class Device:  # stub: deepbays imports it at module level
    def __init__(self, *args, **kwargs):
        raise RuntimeError("cupy stub: no CUDA in the deeprg peer benchmark environment")
EOF
cat >"$SITE/torchvision/__init__.py" <<'EOF'
"""Stub for deepbays.tasks' import-time `import torchvision` (data downloads are never used)."""
from . import transforms  # noqa: F401
EOF
cat >"$SITE/torchvision/transforms/__init__.py" <<'EOF'
"""Stub (see torchvision/__init__.py)."""
EOF

"$VENV/bin/python" - <<'EOF'
import deepbays, deepbays.kernels as k, torch
k.kernel_id = k.kernel_id_torch = lambda cxx, cxy, cyy: cxy
from deepbays.rkgp import FC_deep
print("deepbays peer environment ready:", deepbays.__file__, "torch", torch.__version__)
EOF
