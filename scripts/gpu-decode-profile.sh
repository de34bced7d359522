#!/usr/bin/env bash
# Where a decode step's time goes on the GPU (issue #9: decode is bound by the host, not by
# the device). Run on a lent GPU machine with target/raif-cuda.gz carried, like
# scripts/gpu-check.sh. It traces `raif bench generate` (batch 64, one repetition after the
# warm-up) with Nsight Systems when the image has it: the CUDA API calls the host makes (count
# and time per call kind) and the kernels' device time. Results go to $OUT (or /tmp/gpu-decode).
set -uo pipefail
cd "$(dirname "$0")/.."
SHAPE=${SHAPE:-qwen2.5-1.5b}
R=${OUT:-/tmp/gpu-decode}
mkdir -p "$R"
T=$(mktemp -d)
gunzip -c target/raif-cuda.gz > "$T/raif" && chmod +x "$T/raif" || { echo "no target/raif-cuda.gz" >&2; exit 1; }
PY=${PYTHON:-python3}
NV=$($PY -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null)/nvidia
LIBS=$(find "$NV" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH=${LIBS}${LD_LIBRARY_PATH:-}
NSYS=$(command -v nsys || ls /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda*/bin/nsys 2>/dev/null | head -1)
if [ -z "$NSYS" ]; then
  echo "no nsys on this machine; what /opt/nvidia holds:" | tee "$R/nsys-missing.txt"
  ls -d /opt/nvidia/* /usr/local/cuda* 2>/dev/null | tee -a "$R/nsys-missing.txt"
  exit 0
fi
"$NSYS" --version | tee "$R/nsys-version.txt"
timeout 300 "$NSYS" profile --trace=cuda --sample=none --cpuctxsw=none --force-overwrite=true \
  -o "$T/decode" "$T/raif" --home "$T/home" bench generate --model "random:$SHAPE" --device cuda \
  --batch 64 --reps 1 --json | tee "$R/raif-generate.json"
"$NSYS" stats --force-export=true --report cuda_api_sum,cuda_gpu_kern_sum,cuda_gpu_mem_time_sum \
  "$T/decode.nsys-rep" 2>&1 | cut -c1-220 | head -150 | tee "$R/nsys-decode.txt"
rm -rf "$T"
