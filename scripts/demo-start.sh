#!/usr/bin/env bash
# Times `go run ./cmd/paymeter demo` from its launch to its printed lines
# ("Press Ctrl-C"), on a fresh clone of this repository: first cold (an
# empty build cache, as on a fresh machine whose module cache is filled),
# then warm (the same cache again). docs/design.md §8 keeps the figures.
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/clone"
export GOCACHE="$work/gocache" PAYMETER_METRICS_LISTEN=127.0.0.1:0

start() {
	local out="$work/demo.out" t0 t1 pid
	: > "$out"
	t0=$(date +%s.%N)
	(cd "$work/clone" && exec go run ./cmd/paymeter demo --listen 127.0.0.1:0 > "$out" 2> "$work/demo.err") &
	pid=$!
	until grep -q "Press Ctrl-C" "$out"; do
		if ! kill -0 "$pid" 2> /dev/null; then
			cat "$work/demo.err" >&2
			echo "the demo exited before printing its lines" >&2
			exit 1
		fi
		sleep 0.05
	done
	t1=$(date +%s.%N)
	pkill -TERM -P "$pid" || true
	wait "$pid" 2> /dev/null || true
	printf '%s start: %.1f s to the printed lines\n' "$1" "$(echo "$t1 - $t0" | bc)"
}

start cold
start warm
