#!/bin/sh
# instructions.sh: user-space instructions per message of the worker and of
# the bare sender, counted by valgrind (cachegrind), not timed: the machine's
# load does not move them. For VMs without hardware counters (perf stat
# prints "<not supported>" for instructions:u), and for comparing two builds.
#
#   bench/instructions.sh TIDINGS_BINARY [N1 N2]     (default 2000 6000)
#
# Runs `go run ./bench`'s campaign twice, N1 then N2 recipients, with the
# worker under cachegrind, and the bench's bare sender alone (-ceiling-only,
# a pool of 42 messages) under cachegrind for N1 and N2. Per message is the
# difference of the two counts over N2-N1: start-up and shutdown cancel out.
# The bare sender's count includes writing its recipients file (an upper
# bound). Neither counts the kernel: the system calls, most of the bare
# sender's CPU, are not in these numbers.
#
# GODEBUG: asyncpreemptoff=1 because callgrind/cachegrind mishandle Go's
# preemption signals; cpu.rdtscp=off because valgrind 3.19 cannot decode
# RDTSCP (runtime.cputicks). Run from the repository root; needs valgrind,
# redis-server and smtp-sink, and about a minute.
#
# CG_OUT=DIR keeps the worker's cachegrind files there (worker-N1.cg and
# worker-N2.cg), for a per-function count per message:
#   cg_diff DIR/worker-N1.cg DIR/worker-N2.cg >d.cg
#   cg_annotate --auto=no --threshold=0 d.cg   (divide by N2-N1)
set -eu
bin=$(realpath "$1")
n1=${2:-2000}
n2=${3:-6000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cgout=/dev/null
if [ -n "${CG_OUT:-}" ]; then
  mkdir -p "$CG_OUT"
  cgout=$(realpath "$CG_OUT")/worker-\$CG_N.cg
fi
go build -o "$dir/bench" ./bench
cat >"$dir/wrap.sh" <<WRAP
#!/bin/sh
if [ "\$1" = worker ]; then
  GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off exec valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=$cgout "$bin" "\$@" 2>>"\$CG_LOG"
fi
exec "$bin" "\$@"
WRAP
chmod +x "$dir/wrap.sh"
refs() { sed -n 's/.*I *refs: *//p' "$1" | tr -d , | tail -1; }
for n in "$n1" "$n2"; do
  CG_N=$n CG_LOG="$dir/worker-$n.log" "$dir/bench" -n "$n" -tidings "$dir/wrap.sh" -out "$dir/run-$n" >"$dir/bench-$n.log" 2>&1 ||
    { echo "bench -n $n failed: see $dir/bench-$n.log" >&2; trap - EXIT; exit 1; }
  GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    "$dir/bench" -ceiling-only -n "$n" -ceiling-pool 42 -tidings "$bin" >"$dir/bare-$n.log" 2>&1 ||
    { echo "bare sender -n $n failed: see $dir/bare-$n.log" >&2; trap - EXIT; exit 1; }
done
w1=$(refs "$dir/worker-$n1.log"); w2=$(refs "$dir/worker-$n2.log")
b1=$(refs "$dir/bare-$n1.log"); b2=$(refs "$dir/bare-$n2.log")
echo "worker: $w1 instructions at $n1 messages, $w2 at $n2: $(( (w2 - w1) / (n2 - n1) )) per message"
echo "bare sender: $b1 at $n1, $b2 at $n2: $(( (b2 - b1) / (n2 - n1) )) per message (user space only)"
