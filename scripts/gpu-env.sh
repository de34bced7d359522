# Sourced by the scripts that run on a lent GPU machine (scripts/gpu-check.sh,
# scripts/gpu-decode-profile.sh), from the repository root: unpacks the carried
# target/raif-cuda.gz into a fresh folder $T (the binary is $T/raif), sets PY, and puts the
# CUDA 13 runtime libraries of the machine's Python environment (torch's NVIDIA wheels) on
# LD_LIBRARY_PATH; the driver supplies libcuda.so.1. Stops the caller when the binary is
# missing or a library it links cannot be found.
T=$(mktemp -d)
gunzip -c target/raif-cuda.gz > "$T/raif" && chmod +x "$T/raif" \
  || { echo "no target/raif-cuda.gz: build it with scripts/build-cuda.sh and carry it" >&2; exit 1; }
PY=${PYTHON:-python3}
NV=$($PY -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null)/nvidia
LIBS=$(find "$NV" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH=${LIBS}${LD_LIBRARY_PATH:-}
missing=$(ldd "$T/raif" | grep "not found" || true)
[ -z "$missing" ] || { echo "missing libraries:"; echo "$missing"; exit 1; }
