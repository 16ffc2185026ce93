#!/usr/bin/env bash
# inittrace.sh BOOTSTRAP [RUNS]: the Go package-initialisation cost of a
# built bootstrap, from GODEBUG=inittrace=1 (the runtime's own per-package
# report): the sum over packages of init clock time (min and median of RUNS
# runs) and of bytes and allocations (the same every run). It measures only
# what runs before main; main fails at once without a Lambda runtime, which
# is fine here.
#
#   CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o /tmp/a ./functions/stop-api
#   bench/inittrace.sh /tmp/a 30
set -euo pipefail
bin=$1 runs=${2:-30}
for _ in $(seq "$runs"); do
  GODEBUG=inittrace=1 "$bin" 2>&1 </dev/null | awk '/^init /{ms+=$5; b+=$8; a+=$10} END{printf "%.3f %d %d\n", ms, b, a}' || true
done | sort -n | awk -v bin="$bin" '{ms[NR]=$1; b=$2; a=$3} END{printf "%s: init min %.2f ms, median %.2f ms, %d B, %d allocs (%d runs)\n", bin, ms[1], ms[int((NR+1)/2)], b, a, NR}'
