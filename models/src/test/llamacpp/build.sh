#!/usr/bin/env bash
# Builds llama.cpp (from the git bundle inside npm node-llama-cpp@3.21.1, MIT) and attn4j-logits,
# the oracle of the decoder tests, under DIR (default ~/.cache/attn4j-llamacpp). Reuses what is
# already there. Exit 3 (and a line on stderr) when npm, git, cmake or a C++ compiler is missing.
#   build.sh [DIR]          -> DIR/bin/attn4j-logits (library only)
#   build.sh DIR bench      -> also DIR/src/build/bin/llama-bench (for the speed comparison)
set -euo pipefail
DIR=${1:-$HOME/.cache/attn4j-llamacpp}
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=${JOBS:-2}
for tool in npm tar git cmake g++; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing" >&2; exit 3; }
done
mkdir -p "$DIR/bin"
cd "$DIR"
if [ ! -f src/CMakeLists.txt ]; then
  [ -f package/llama/gitRelease.bundle ] || { npm pack node-llama-cpp@3.21.1 --silent >/dev/null && tar xzf node-llama-cpp-3.21.1.tgz package/llama/gitRelease.bundle && rm -f node-llama-cpp-3.21.1.tgz; }
  rm -rf src && git clone -q package/llama/gitRelease.bundle src
fi
TARGETS=(llama)
[ "${2:-}" = bench ] && TARGETS+=(llama-bench)
if [ ! -f src/build/bin/libllama.so ] || { [ "${2:-}" = bench ] && [ ! -x src/build/bin/llama-bench ]; }; then
  cmake -S src -B src/build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=ON >/dev/null
  cmake --build src/build -j"$JOBS" --target "${TARGETS[@]}" >/dev/null
fi
if [ ! -x bin/attn4j-logits ] || [ "$HERE/logits.cpp" -nt bin/attn4j-logits ]; then
  g++ -O2 -std=c++17 "$HERE/logits.cpp" -I src/include -I src/ggml/include -L src/build/bin \
    -lllama -lggml -lggml-base -Wl,-rpath,"$DIR/src/build/bin" -o bin/attn4j-logits
fi
echo "$DIR/bin/attn4j-logits"
