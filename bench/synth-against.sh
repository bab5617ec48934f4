#!/usr/bin/env bash
# Cold `cdk synth` of this checkout against another commit, side by side (prints figures, asserts nothing).
# Rounds alternate the two so load changes hit both alike; each synth starts with empty cfn-guard and
# template-validation report caches and writes to its own folder. Each side runs with its own cdk.json
# (so its own runner), in a git worktree of the other commit that shares this checkout's node_modules.
#
#   bash bench/synth-against.sh <commit> [rounds, default 5]
#
# Prints wall and CPU (user + system of the whole process tree) per round with the 1-minute load
# average before it, then the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
other=${1:?usage: bash bench/synth-against.sh <commit> [rounds]}
rounds=${2:-5}
command -v bc >/dev/null || { echo "needs bc (apt-get install bc)" >&2; exit 1; }
work=$(mktemp -d)
trap 'git worktree remove --force "$work/other" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach -q "$work/other" "$other"
ln -s "$PWD/node_modules" "$work/other/node_modules"

# One cold synth in folder $1; prints "wall cpu".
cold() {
  local run
  run=$(mktemp -d "$work/run.XXXX")
  (
    cd "$1"
    CFN_GUARD_CACHE_DIR=$run/guard TEMPLATE_VALIDATION_CACHE_DIR=$run/validation \
      /usr/bin/time -f '%e %U %S' -o "$run/time" npx cdk synth --quiet --output "$run/out" >/dev/null 2>"$run/err" ||
      { echo "synth failed in $1:" >&2; tail -5 "$run/err" >&2; exit 1; }
  )
  read -r wall user sys <"$run/time"
  echo "$wall $(echo "$user + $sys" | bc)"
  rm -rf "$run"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/this"
: >"$work/that"
for ((i = 1; i <= rounds; i++)); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  a=$(cold "$PWD")
  b=$(cold "$work/other")
  echo "$a" >>"$work/this"
  echo "$b" >>"$work/that"
  echo "round $i, load $load: this checkout $a | $other $b (wall s, CPU s)"
done
echo "medians of $rounds rounds, wall / CPU:"
echo "  this checkout ($(git rev-parse --short HEAD)): $(cut -d' ' -f1 "$work/this" | median) s / $(cut -d' ' -f2 "$work/this" | median) s"
echo "  $other: $(cut -d' ' -f1 "$work/that" | median) s / $(cut -d' ' -f2 "$work/that" | median) s"
