#!/usr/bin/env bash
# The figures of issue 19 that BenchmarkDotNet cannot give, re-measurable by anyone:
#   1. cold start: the first Forward of the LSTM 128->256 x2 bidirectional model (T = 128, batch 1) and the first Step
#      of the LSTM 32->64, each in a fresh process (so the JIT is paid), N runs, median and min;
#   2. generated size: bytes and lines of each model's generated file(s);
#   3. build time: rebuild of a project with 8 varied models against the same project with none, after touching one
#      file, best of two builds, and the ratio.
# Usage: benchmarks/coldstart/run.sh [runs]   (runs: fresh processes per cold-start measurement, default 5)
# Reads generated files only to count bytes and lines, so it keeps working whatever shape the generated code takes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=${1:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [runs >= 1]" >&2; exit 2; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Nothing may hang: every command runs under a time limit (TERM, then KILL 30 s later).
bounded() { local limit=$1; shift; timeout --kill-after=30 "$limit" "$@"; }
log=$(mktemp -t coldstart.XXXXXX)
trap 'rm -f "$log"' EXIT
# A build's output goes to the log, shown only when it fails. -nodeReuse:false leaves no MSBuild node behind.
build() {
  if ! bounded 15m dotnet build "$@" -nodeReuse:false -nologo -v:q >"$log" 2>&1; then
    cat "$log" >&2
    echo "build failed: dotnet build $*" >&2
    exit 1
  fi
}
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
# median and min of the numbers given (one per argument)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n 1 | awk '{ printf "%.3f", $1 }'; }

machine=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
cpus=$(nproc)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "coldstart: $machine, $cpus CPUs; commit $commit; $started; .NET SDK $(bounded 1m dotnet --version)"
# The cold start is measured with the runtime's defaults (tiered compilation on); say so if the environment differs.
for v in $(env | sed -n 's/^\(DOTNET_\(Tiered\|TC_\|ReadyToRun\|TieredPGO\|OSR\|JitStress\)[^=]*\)=.*/\1/p'); do
  echo "warning: $v=${!v} is set; the cold-start figures are not the default configuration's" >&2
done
echo "compiler: UseSharedCompilation=${UseSharedCompilation:-(unset: the build server is used)}"
# Timings on a busy machine are high and scattered: say so up front (the load is printed again with each part).
read -r load1 _ </proc/loadavg 2>/dev/null || load1=0
if awk -v l="$load1" -v n="$cpus" 'BEGIN { exit !(l > n / 2) }'; then
  echo "warning: load average $load1 on $cpus CPUs: the machine is busy; timings will be high and scattered" >&2
fi

echo
echo "== build (Release) =="
# Fresh generated files: delete the old ones and touch a source so the compiler runs and writes them again.
rm -rf "$here/obj/generated"
touch "$here/Program.cs"
build "$here/ColdStart.csproj" -c Release
dll="$here/bin/Release/net10.0/ColdStart.dll"
[[ -f $dll ]] || { echo "no $dll after the build" >&2; exit 1; }

echo
echo "== cold start: $runs fresh processes each ==  (load: $(uptime | sed 's/.*load average: //'))"
fwd_first=() fwd_second=() fwd_ctor=() fwd_jit=() step_first=() step_second=() step_ctor=() step_jit=()
# Each line is "first <Call>: X ms; second: Y ms; construction: Z ms (<model>; JIT during the first call: J ms, ...)".
parse() { sed -n 's/^first [A-Za-z]*: \([0-9.]*\) ms; second: \([0-9.]*\) ms; construction: \([0-9.]*\) ms (.*JIT during the first call: \([0-9.]*\) ms.*/\1 \2 \3 \4/p'; }
for ((i = 1; i <= runs; i++)); do
  line=$(bounded 2m dotnet "$dll" forward)
  echo "  run $i: $line"
  read -r a b c d < <(printf '%s\n' "$line" | parse)
  [[ -n ${d:-} ]] || { echo "cannot read: $line" >&2; exit 1; }
  fwd_first+=("$a") fwd_second+=("$b") fwd_ctor+=("$c") fwd_jit+=("$d")
  line=$(bounded 2m dotnet "$dll" step)
  echo "  run $i: $line"
  read -r a b c d < <(printf '%s\n' "$line" | parse)
  [[ -n ${d:-} ]] || { echo "cannot read: $line" >&2; exit 1; }
  step_first+=("$a") step_second+=("$b") step_ctor+=("$c") step_jit+=("$d")
done
load_after_runs=$(uptime | sed 's/.*load average: //')

echo
echo "== generated source (obj/generated) =="
# Every generated file, then the total per model: a model's files are those whose name holds its class name.
mapfile -t files < <(find "$here/obj/generated" -type f -name '*.cs' | sort)
((${#files[@]} > 0)) || { echo "no generated files under $here/obj/generated" >&2; exit 1; }
for f in "${files[@]}"; do
  printf '  %10d bytes %7d lines  %s\n' "$(wc -c <"$f")" "$(wc -l <"$f")" "${f#"$here/obj/generated/"}"
done
size_of() {
  local bytes=0 lines=0 f
  for f in "${files[@]}"; do
    [[ $(basename "$f") == *"$1"* ]] || continue
    bytes=$((bytes + $(wc -c <"$f"))) lines=$((lines + $(wc -l <"$f")))
  done
  echo "$bytes $lines"
}
read -r bi_bytes bi_lines < <(size_of BiLstm128x256)
read -r st_bytes st_lines < <(size_of Lstm32x64)
read -r all_bytes all_lines < <(size_of "")

echo
echo "== rebuild: 8 models against none (Release, touch Program.cs, dotnet build --no-restore, best of 2) ==  (load: $(uptime | sed 's/.*load average: //'))"
with="$here/build-time/Models/Models.csproj" without="$here/build-time/NoModels/NoModels.csproj"
build "$with" -c Release
build "$without" -c Release
best_with="" best_without=""
rebuild() { # project -> wall milliseconds of one rebuild after touching its Program.cs
  touch "$(dirname "$1")/Program.cs"
  local start; start=$(now)
  build "$1" -c Release --no-restore
  ms "$start" "$(now)"
}
for round in 1 2; do # alternate the two, so a change of load hits both
  t=$(rebuild "$with");    echo "  round $round, 8 models: $t ms";    [[ -z $best_with || $t -lt $best_with ]] && best_with=$t
  t=$(rebuild "$without"); echo "  round $round, no models: $t ms"; [[ -z $best_without || $t -lt $best_without ]] && best_without=$t
done
ratio=$(awk -v a="$best_with" -v b="$best_without" 'BEGIN { printf "%.2f", a / b }')

echo
echo "== summary =="
echo "machine: $machine ($cpus CPUs)   commit: $commit   date: $started"
echo "load average (1, 5, 15 min): after the cold-start runs $load_after_runs; at the end $(uptime | sed 's/.*load average: //')"
printf '%-58s %12s %12s\n' "measure" "median" "min"
printf '%-58s %12s %12s\n' "first Forward, BiLstm128x256 T=128 batch 1 (ms)" "$(median "${fwd_first[@]}")" "$(minimum "${fwd_first[@]}")"
printf '%-58s %12s %12s\n' "  of which JIT (ms)" "$(median "${fwd_jit[@]}")" "$(minimum "${fwd_jit[@]}")"
printf '%-58s %12s %12s\n' "  second Forward (ms)" "$(median "${fwd_second[@]}")" "$(minimum "${fwd_second[@]}")"
printf '%-58s %12s %12s\n' "  construction + Reserve (ms)" "$(median "${fwd_ctor[@]}")" "$(minimum "${fwd_ctor[@]}")"
printf '%-58s %12s %12s\n' "first Step, Lstm32x64 (ms)" "$(median "${step_first[@]}")" "$(minimum "${step_first[@]}")"
printf '%-58s %12s %12s\n' "  of which JIT (ms)" "$(median "${step_jit[@]}")" "$(minimum "${step_jit[@]}")"
printf '%-58s %12s %12s\n' "  second Step (ms)" "$(median "${step_second[@]}")" "$(minimum "${step_second[@]}")"
printf '%-58s %12s %12s\n' "  construction (ms)" "$(median "${step_ctor[@]}")" "$(minimum "${step_ctor[@]}")"
printf '%-58s %12s %12s\n' "generated, BiLstm128x256 (bytes / lines)" "$bi_bytes" "$bi_lines"
printf '%-58s %12s %12s\n' "generated, Lstm32x64 (bytes / lines)" "$st_bytes" "$st_lines"
printf '%-58s %12s %12s\n' "generated, all ${#files[@]} files (bytes / lines)" "$all_bytes" "$all_lines"
printf '%-58s %12s\n' "rebuild, 8 models, best of 2 (ms)" "$best_with"
printf '%-58s %12s\n' "rebuild, no models, best of 2 (ms)" "$best_without"
printf '%-58s %12s\n' "rebuild ratio, 8 models / none (issue 19: <= 1.5)" "$ratio"
echo "($runs fresh processes per cold-start figure)"
