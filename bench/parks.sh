#!/bin/sh
# parks.sh: the goroutine hand-offs (a goroutine parks: Running->Waiting)
# in a runtime/trace file, by reason and by the first frame of ours or of a
# library on the parking stack, per message.
#
#   CI=true go test -run '^$' -bench BenchmarkChunk -benchtime 4000x -trace /tmp/w.trace ./worker/
#   bench/parks.sh /tmp/w.trace 4001        # BenchmarkChunk runs once with 1, then 4000
#
# The trace holds the test's SMTP server too (smtpcapture, go-smtp): its
# parks are counted apart. docs/benchmarks.md, "Goroutine hand-offs per
# message", has the counts and what each is.
set -eu
go tool trace -d=parsed "$1" | awk -v n="$2" '
function flush() {
	if (reason != "") {
		where = first != "" ? first : top
		if (server) where = "(the test SMTP server)"
		count[reason "  " where]++
	}
	reason = ""; first = ""; top = ""; server = 0
}
/^M=/ {
	flush()
	if ($0 ~ /Running->Waiting/) { reason = $0; sub(/.*Reason=/, "", reason) }
	next
}
/^\t/ && reason != "" {
	f = $1
	if (f ~ /^\//) next
	if (f ~ /smtpcapture|emersion\/go-smtp/) server = 1
	if (top == "") top = f
	if (first == "" && f ~ /tidings-mail\/tidings\/|go-redis|go-mail|hibiken\/asynq/) first = f
}
END {
	flush()
	for (k in count) printf "%7d %7.3f/msg  %s\n", count[k], count[k] / n, k
}' | sort -rn | head -"${3:-25}"
