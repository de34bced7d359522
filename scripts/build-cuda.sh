#!/usr/bin/env bash
# Build `raif` with `--features cuda` on a machine without a GPU (issue #9).
#
# The CUDA 13 compiler, headers and libraries come from NVIDIA's wheels, fetched with the
# ordinary `pip download` client and unpacked into a cache folder; the script adds the
# unversioned .so names the linker looks for and a link-time stub libcuda.so (the real one comes
# with the driver on the GPU machine). Nothing is installed system-wide.
#
# Usage: scripts/build-cuda.sh [--toolkit-only]
#   RAIF_CUDA_PREFIX   cache folder (default ~/.cache/raif-cuda13)
#   CUDA_COMPUTE_CAP   default 90 (H100/H200, compiled as sm_90a)
#   CARGO_TARGET_DIR   default target/cuda (kept apart from the CPU build)
# Output: $CARGO_TARGET_DIR/release/raif and target/raif-cuda.gz (the binary, compressed to carry
# to the GPU machine — gzip, which any machine can undo; scripts/gpu-check.sh unpacks it there).
# About 12 minutes on 2 cores for a first build; ~1.2 GB of toolkit in the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${RAIF_CUDA_PREFIX:-$HOME/.cache/raif-cuda13}
CUDA_HOME=$PREFIX/nvidia/cu13
STUB=$PREFIX/stub
WHEELS=(
  nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-nvrtc==13.0.88 nvidia-cuda-cccl==13.0.85
  nvidia-curand==10.4.0.35 nvidia-cublas==13.0.0.19
)

if [ ! -f "$PREFIX/.complete" ]; then
  echo "fetching the CUDA 13 toolkit wheels into $PREFIX"
  mkdir -p "$PREFIX/wheels"
  python3 -m pip download --no-deps --disable-pip-version-check -q -d "$PREFIX/wheels" "${WHEELS[@]}"
  for w in "$PREFIX"/wheels/*.whl; do
    python3 -m zipfile -e "$w" "$PREFIX"
  done
  # zip archives do not keep the executable bit
  find "$CUDA_HOME/bin" "$CUDA_HOME/nvvm/bin" -type f -exec chmod +x {} + 2>/dev/null || true
  [ -x "$CUDA_HOME/bin/nvcc" ] || { echo "error: no nvcc under $CUDA_HOME/bin after unpacking" >&2; exit 1; }
  # unversioned names for the linker
  for lib in libcublas libcublasLt libcudart libnvrtc libcurand; do
    real=$(ls "$CUDA_HOME"/lib/$lib.so.* 2>/dev/null | sort | head -1 || true)
    [ -n "$real" ] || { echo "error: $lib.so.* missing under $CUDA_HOME/lib" >&2; exit 1; }
    ln -sfn "$(basename "$real")" "$CUDA_HOME/lib/$lib.so"
  done
  touch "$PREFIX/.complete"
fi

if [ ! -f "$STUB/libcuda.so" ]; then
  # Every driver entry point cudarc declares, each returning CUDA_ERROR_INVALID_VALUE (never
  # called: the stub only satisfies the linker; the GPU machine's driver provides the real one).
  CUDARC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.* 2>/dev/null | sort | tail -1)
  [ -n "$CUDARC" ] || { echo "error: cudarc sources not found; run 'cargo fetch' first" >&2; exit 1; }
  mkdir -p "$STUB"
  grep -rhoE "^ +fn cu[A-Za-z0-9_]+\(" "$CUDARC/src/driver/sys" | sed -E 's/^ +fn //; s/\($//' \
    | sort -u | awk '{print "int " $1 "(void) { return 1; }"}' > "$STUB/libcuda.c"
  [ -s "$STUB/libcuda.c" ] || { echo "error: no driver entry points found in $CUDARC" >&2; exit 1; }
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$STUB/libcuda.so" "$STUB/libcuda.c"
  ln -sfn libcuda.so "$STUB/libcuda.so.1"
fi

[ "${1:-}" = "--toolkit-only" ] && { echo "toolkit ready: CUDA_HOME=$CUDA_HOME"; exit 0; }

export CUDA_HOME CUDA_PATH=$CUDA_HOME
export PATH=$CUDA_HOME/bin:$PATH
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
export LIBRARY_PATH=$CUDA_HOME/lib:$STUB${LIBRARY_PATH:+:$LIBRARY_PATH}
export LD_LIBRARY_PATH=$CUDA_HOME/lib:$STUB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/cuda}
cargo build --release --features cuda --bin raif
OUT=$CARGO_TARGET_DIR/release
strip -o "$OUT/raif.stripped" "$OUT/raif"
gzip -9 -c "$OUT/raif.stripped" > target/raif-cuda.gz
rm -f "$OUT/raif.stripped"
ls -la "$OUT/raif" target/raif-cuda.gz
