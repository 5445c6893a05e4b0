#!/usr/bin/env bash
# Decode speed of attn4j and llama.cpp on the same GGUF files, side by side, alternating.
#   bench.sh ATTN4J LOGITS_TOOL MODEL... 
# ATTN4J: the attn4j launcher (e.g. ./attn4j); LOGITS_TOOL: attn4j-logits from build.sh.
# For each model and 1, 2 threads: llama.cpp then attn4j, each a short prompt and 64 decode steps,
# REPS times (default 2), THREADS (default "1 2"); prints both tokens/s lines.
set -euo pipefail
A4J=$1; LLAMA=$2; shift 2
REPS=${REPS:-2}
STEPS=$(seq 300 363 | tr '\n' ' ')
for m in "$@"; do
  for t in ${THREADS:-1 2}; do
    for r in $(seq "$REPS"); do
      echo "== $(basename "$m") threads $t rep $r"
      "$LLAMA" "$m" "$t" /tmp/attn4j-bench-logits.bin 72 101 108 108 111 32 119 111 114 108 100 44 32 116 104 101 32 + $STEPS 2>&1 | grep '^llama.cpp'
      "$A4J" generate --model "$m" --temperature 0 --max-tokens 65 --threads "$t" "Hello world, the quick brown" 2>&1 >/dev/null | grep tokens/s
    done
  done
done
