#!/usr/bin/env bash
# Whole-process A/B of the worker team: `attn4j embed` of 256 lines of ~128 tokens at --threads 1
# and 2, with core's Team class as built (B) and as in git revision REV (A, default main), the four
# runs interleaved, REPEATS times; wall and CPU (user+sys) per run and medians. The old class is
# compiled from `git show REV:.../Team.java` and put first on the class path. Uses the model cache
# in target/startup-bench (no AOT cache). Usage: bench/scripts/threads-ab.sh [REPEATS] [REV]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REPEATS="${1:-3}"; REV="${2:-main}"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
WORK="$ROOT/target/threads-ab"; rm -rf "$WORK/old"; mkdir -p "$WORK/old/src" "$WORK/old/classes"
export ATTN4J_CACHE_DIR="$ROOT/target/startup-bench/cache"
git -C "$ROOT" show "$REV:core/src/main/java/org/attn4j/core/parallel/Team.java" > "$WORK/old/src/Team.java"
"$JAVA_HOME/bin/javac" -nowarn -cp "$ROOT/cli/target/lib/attn4j-core-0.1.0-SNAPSHOT.jar" -d "$WORK/old/classes" "$WORK/old/src/Team.java"
"$JAVA_HOME/bin/jar" cf "$WORK/old/team.jar" -C "$WORK/old/classes" .
MANY="$ROOT/target/startup-bench/256x128.txt"
[ -f "$MANY" ] || { echo "run bench/scripts/startup.sh 1 threads first (it writes $MANY)" >&2; exit 3; }
CP="$ROOT/cli/target/attn4j-cli.jar:$ROOT/cli/target/lib/*"
run() {  # LABEL CLASSPATH THREADS
  local out; out="$(/usr/bin/time -f '%e %U %S' "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector \
      --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -cp "$2" org.attn4j.cli.Main embed --threads "$3" \
      --input "$MANY" 2>&1 >/dev/null | tail -n 1)"
  read -r wall user sys <<<"$out"; echo "$1 $wall $(echo "$user + $sys" | bc)"
}
: > "$WORK/results.txt"
for ((r = 1; r <= REPEATS; r++)); do
  { run "A($REV)-t1" "$WORK/old/team.jar:$CP" 1; run "B(built)-t1" "$CP" 1
    run "A($REV)-t2" "$WORK/old/team.jar:$CP" 2; run "B(built)-t2" "$CP" 2; } | tee -a "$WORK/results.txt"
done
echo "medians (s): case wall cpu"
for k in $(awk '{print $1}' "$WORK/results.txt" | sort -u); do
  w=$(awk -v k="$k" '$1==k {print $2}' "$WORK/results.txt" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  c=$(awk -v k="$k" '$1==k {print $3}' "$WORK/results.txt" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  printf '  %-16s %7.2f %7.2f\n' "$k" "$w" "$c"
done
