#!/usr/bin/env bash
# Cold-start benchmark of the attn4j command: whole-process wall and CPU (user+sys) time of
#   1. `attn4j embed` of one short line        (time to first embedding)
#   2. `attn4j explain` of a short sentence     (with --no-report)
#   3. `attn4j embed` of 256 lines of ~128 tokens at --threads 1 and --threads 2
# under three cache settings, interleaved run by run so a slow phase of the host hits all alike:
#   none  = ATTN4J_CACHE=off (no prepared-model cache, no AOT cache)
#   model = the prepared-model cache only (ATTN4J_AOT=off)
#   all   = the prepared-model cache and the JDK AOT cache (the default)
# Prints every run and the medians. Usage: bench/scripts/startup.sh [REPEATS] [what...]
#   what: one (default), explain, threads; e.g. `bench/scripts/startup.sh 5 one explain threads`.
# The caches live in a private directory under target/, filled (and the AOT cache trained) first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REPEATS="${1:-5}"; shift || true
WHAT=("$@"); [ ${#WHAT[@]} -gt 0 ] || WHAT=(one)
WORK="$ROOT/target/startup-bench"; mkdir -p "$WORK"
export ATTN4J_CACHE_DIR="$WORK/cache"
ONE="$WORK/one-line.txt"; echo "The quick brown fox jumps over the lazy dog." > "$ONE"
MANY="$WORK/256x128.txt"
if [ ! -f "$MANY" ]; then  # 256 lines of ~128 tokens (~100 words) of plain English words
  words=(attention model token layer vector query key value softmax matrix embedding sentence the a of and to in is
         for with on that by this as are from at be it an fast exact memory kernel thread cache weight head)
  RANDOM=42
  for ((l = 0; l < 256; l++)); do
    line=""; for ((w = 0; w < 110; w++)); do line+="${words[RANDOM % ${#words[@]}]} "; done
    echo "$line"
  done > "$MANY"
fi
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 3; }

ATTN4J_AOT=off "$ROOT/attn4j" --version >/dev/null   # builds if needed
export ATTN4J_NO_BUILD=1              # then times the jar as built
ATTN4J_AOT=train "$ROOT/attn4j" embed --input "$ONE" >/dev/null   # fills the model cache, trains the AOT cache
ls "$ATTN4J_CACHE_DIR"/aot/*.aot >/dev/null 2>&1 || echo "warning: the AOT cache was not created; 'all' equals 'model'" >&2

run() {  # run LABEL ENV... -- ARGS...: prints "LABEL wall cpu"
  local label="$1"; shift; local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  local out; out="$(env "${envs[@]}" "$TIME" -f '%e %U %S' "$ROOT/attn4j" "$@" 2>&1 >/dev/null | tail -n 1)"
  read -r wall user sys <<<"$out"
  echo "$label $wall $(echo "$user + $sys" | bc)"
}
RESULTS="$WORK/results.txt"; : > "$RESULTS"
for ((r = 1; r <= REPEATS; r++)); do
  for what in "${WHAT[@]}"; do
    for mode in none model all; do
      case "$mode" in none) e=(ATTN4J_CACHE=off) ;; model) e=(ATTN4J_AOT=off) ;; all) e=(ATTN4J_AOT=on) ;; esac
      case "$what" in
        one) run "one/$mode" "${e[@]}" -- embed --input "$ONE" ;;
        explain) run "explain/$mode" "${e[@]}" -- explain --no-report "A cat sat on the mat." ;;
        threads) [ "$mode" = none ] && continue
                 run "256x128-t1/$mode" "${e[@]}" -- embed --threads 1 --input "$MANY"
                 run "256x128-t2/$mode" "${e[@]}" -- embed --threads 2 --input "$MANY" ;;
      esac
    done
  done | tee -a "$RESULTS"
done
echo; echo "medians over $REPEATS runs (seconds): case  wall  cpu(user+sys)"
awk '{w[$1]=w[$1] " " $2; c[$1]=c[$1] " " $3} END {for (k in w) print k, w[k], "|", c[k]}' "$RESULTS" | sort | while read -r k rest; do
  walls="${rest%%|*}"; cpus="${rest##*|}"
  med() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  printf '  %-22s %6.2f  %6.2f\n' "$k" "$(echo "$walls" | med)" "$(echo "$cpus" | med)"
done
