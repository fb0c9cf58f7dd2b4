// Command bench is tidings' end-to-end benchmark, and measures its own
// ceiling. It starts redis-server and postfix's smtp-sink on loopback,
// generates N recipients in 6 languages, builds the tidings binary and runs
// `tidings worker` and `tidings send` exactly as an operator would. In the
// same invocation, against the same smtp-sink and over the same number of
// connections, it runs a bare pipelined sender of the same messages
// pre-rendered (the ceiling: what the wire allows on this machine), just
// before and just after every tidings round, and reports tidings' figures
// as ratios to it: ratios measured in one run travel between machines,
// absolute numbers do not.
//
// For each round it reports whole-campaign and steady msg/s, worker CPU per
// message (/proc/<pid>/stat), Redis CPU per message (INFO cpu; staging and
// sending apart; the replica's separately), bytes on the wire per message
// (the kernel's TCP counters of the connections to smtp-sink, read through
// sock_diag), worker and `send` peak RSS and Redis memory per staged
// recipient, then a summary table and one final JSON line. See
// bench/README.md.
//
//	go run ./bench -n 100000                 # 1 worker, ceiling before and after
//	go run ./bench -n 100000 -workers 1,2,4  # Redis CPU per message with more workers
//	go run ./bench -n 100000 -replica        # plus a replica: without and with min_replica_acks 1
//	go run ./bench -n 100000 -fsync always   # Redis with appendfsync always
//	go run ./bench -n 100000 -journal-fsync always   # the journal fsynced before each window is sent
//	go run ./bench -n 1000000 -stage-only    # staging alone: time and send's peak RSS
//
// It exits 1 when anything fails: a process, a campaign that does not end
// done with every recipient sent, or a check of the instrument itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/freeport"
)

type options struct {
	n           int
	workers     []int
	concurrency int
	replica     bool
	fsync       string
	rate        string // the campaign's rate: line
	journalSync string
	out         string
	stageOnly   bool
	ceilingOnly bool
	// ceilingChain: the bare sender writes a message's data and the next
	// message's commands in one write (bareSender.chain).
	ceilingChain bool
	keep         bool
	tidings      string
	cpuProfile   bool
	slowlog      bool
	ceilingPool  int
	repeat       int
	timeout      time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(benchMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// benchMain parses args, runs the bench and returns the exit code.
func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := "1"
	fs.IntVar(&o.n, "n", 100000, "number of recipients")
	fs.StringVar(&workers, "workers", workers, "worker processes against one Redis; a list (1,2,4) runs one round each")
	fs.IntVar(&o.concurrency, "concurrency", 8, "SMTP connections (chunks in flight) per worker; the ceiling uses workers x this")
	fs.BoolVar(&o.replica, "replica", false, "also attach a replica on loopback and run two more rounds: min_replica_acks 0 and 1")
	fs.StringVar(&o.fsync, "fsync", "off", "Redis persistence: off, or the append-only file with appendfsync always, everysec or no")
	fs.StringVar(&o.rate, "rate", "unlimited", "the campaign's rate (as in a campaign file: 5000/s, unlimited): measures the global rate limiter's cost")
	fs.StringVar(&o.journalSync, "journal-fsync", "", "the workers' delivery journal: journal.fsync of the environment (always, or an interval such as 200ms; default: the environment's default)")
	fs.StringVar(&o.out, "out", "", "working directory (default: a temporary directory)")
	fs.BoolVar(&o.stageOnly, "stage-only", false, "measure staging (validate + write to Redis) only; no worker, no ceiling")
	fs.BoolVar(&o.ceilingOnly, "ceiling-only", false, "run the ceiling alone (no Redis work, no worker): the wire's limit on this machine")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory")
	fs.StringVar(&o.tidings, "tidings", "", "tidings binary to use (default: build ./cmd/tidings)")
	fs.BoolVar(&o.cpuProfile, "cpuprofile", false, "write worker-<campaign>-<i>.pprof CPU profiles into the working directory")
	fs.BoolVar(&o.slowlog, "slowlog", false, "break the sending phase's Redis time down by command and by script (Redis's slow log at threshold 0: costs Redis CPU, compare counts)")
	fs.BoolVar(&o.ceilingChain, "ceiling-chain", true, "the bare sender writes each message's data and the next message's MAIL, RCPT, DATA in one write (RFC 2920, 3.1), one write a message, as tidings does; =false: two writes a message, the ceiling of records before 2026-12-07")
	fs.IntVar(&o.ceilingPool, "ceiling-pool", 4200, "distinct pre-rendered messages the ceiling cycles through (a multiple of 42 keeps the language mix exact)")
	fs.IntVar(&o.repeat, "repeat", 1, "run the whole plan of rounds this many times (each its own row; the machine's noise shows)")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up after this long (default: 3m + 3ms per recipient per round)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, f := range strings.Split(workers, ",") {
		w, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || w < 1 {
			fmt.Fprintf(stderr, "bench: -workers %q: give worker counts >= 1, e.g. 1 or 1,2,4\n", workers)
			return 2
		}
		o.workers = append(o.workers, w)
	}
	if o.n < 1 || o.concurrency < 1 || o.repeat < 1 {
		fmt.Fprintln(stderr, "bench: -n, -concurrency and -repeat must be at least 1")
		return 2
	}
	if _, err := campaign.ParseRate(o.rate); err != nil {
		fmt.Fprintf(stderr, "bench: -rate %q: %v\n", o.rate, err)
		return 2
	}
	if _, err := fsyncArgs(o.fsync); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if err := run(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// bench is one invocation's shared state.
type bench struct {
	o           options
	out         io.Writer
	procs       *procSet
	repo        string   // the checkout: templates/ and locales/
	dir         string   // working directory
	bin         string   // tidings
	env         []string // for tidings: TIDINGS_CONFIG
	redis       *redisNode
	replica     *redisNode // nil until a replica round
	sink        *proc
	sinkPort    int
	sinkCounter string // smtp-sink's -c output
}

func run(ctx context.Context, o options, out io.Writer) error {
	rounds := planRounds(o)
	if o.timeout <= 0 {
		o.timeout = 3*time.Minute + time.Duration(len(rounds)*o.n)*3*time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	b := &bench{o: o, out: out, procs: &procSet{}}
	defer b.procs.stopAll()
	load0 := loadAverage()
	fmt.Fprintf(out, "machine: %d cores, load average %.2f, %s\n", runtime.NumCPU(), load0, cpuModel())
	cleanup, err := b.setup(ctx)
	defer cleanup()
	if err != nil {
		return err
	}
	if o.stageOnly {
		return b.stageOnly(ctx)
	}
	msgs, err := b.prepare(ctx, rounds[0])
	if err != nil {
		return err
	}
	if o.ceilingOnly {
		c, err := b.runCeiling(ctx, o.workers[0]*o.concurrency, msgs)
		if err != nil {
			return err
		}
		return printJSON(out, c)
	}
	results, err := b.runRounds(ctx, rounds, msgs)
	if err != nil {
		return err
	}
	rep := report{N: o.n, Concurrency: o.concurrency, Rate: o.rate, Fsync: o.fsync, JournalSync: o.journalSync, Cores: runtime.NumCPU(), CPU: cpuModel(),
		LoadStart: load0, LoadEnd: loadAverage(), Rounds: results}
	rep.replicaCosts()
	printSummary(out, rep)
	if err := printJSON(out, rep); err != nil {
		return err
	}
	var failed []string
	for _, r := range results {
		for _, c := range r.Checks {
			if !c.OK && c.Fatal {
				failed = append(failed, r.Name+": "+c.line())
			}
		}
	}
	if len(failed) > 0 {
		return errors.New("failed checks:\n  " + strings.Join(failed, "\n  "))
	}
	return nil
}

// setup makes the working directory, builds tidings, starts Redis and
// smtp-sink and writes the recipients and tidings.yaml. cleanup removes the
// working directory unless it is to be kept.
func (b *bench) setup(ctx context.Context) (cleanup func(), err error) {
	cleanup = func() {}
	o := b.o
	if b.repo, err = os.Getwd(); err != nil {
		return cleanup, fmt.Errorf("find the checkout: %w", err)
	}
	if b.dir = o.out; b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "tidings-bench-"); err != nil {
			return cleanup, fmt.Errorf("create the working directory: %w", err)
		}
		if !o.keep {
			cleanup = func() { os.RemoveAll(b.dir) }
		}
	}
	if b.dir, err = filepath.Abs(b.dir); err != nil {
		return cleanup, fmt.Errorf("create the working directory: %w", err)
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return cleanup, fmt.Errorf("create the working directory: %w", err)
	}
	if b.bin = o.tidings; b.bin == "" {
		b.bin = filepath.Join(b.dir, "tidings")
		fmt.Fprintln(b.out, "building tidings ...")
		c := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/tidings")
		c.Stdout, c.Stderr = b.out, b.out
		if err := c.Run(); err != nil {
			return cleanup, fmt.Errorf("build tidings: %w", err)
		}
	}
	redisPort, err := freeport.Port()
	if err != nil {
		return cleanup, err
	}
	if b.redis, err = b.procs.startRedis(ctx, "redis", filepath.Join(b.dir, "redis"), redisPort, o.fsync, 0); err != nil {
		return cleanup, err
	}
	if !o.stageOnly {
		if b.sinkPort, err = freeport.Port(); err != nil {
			return cleanup, err
		}
		b.sinkCounter = filepath.Join(b.dir, "smtp-sink.count")
		if b.sink, err = b.procs.startSink(ctx, b.sinkPort, b.sinkCounter); err != nil {
			return cleanup, err
		}
	}
	fmt.Fprintf(b.out, "generating %d recipients in 6 languages ...\n", o.n)
	if err := writeRecipients(filepath.Join(b.dir, "recipients.csv"), o.n); err != nil {
		return cleanup, err
	}
	cfg, err := writeConfig(b.dir, redisPort, b.sinkPort, o.concurrency, o.journalSync)
	if err != nil {
		return cleanup, err
	}
	b.env = append(os.Environ(), "TIDINGS_CONFIG="+cfg)
	return cleanup, nil
}

// prepare pre-renders the ceiling's messages for the campaign of round r.
func (b *bench) prepare(ctx context.Context, r round) ([]wireMessage, error) {
	fmt.Fprintf(b.out, "pre-rendering the ceiling's messages (%d distinct) ...\n", min(b.o.n, b.o.ceilingPool))
	campFile, err := writeCampaignFile(b.dir, r.Name, r.env(), b.repo, b.o.n, b.o.rate)
	if err != nil {
		return nil, err
	}
	cpu0 := selfCPU()
	msgs, err := prepareCeiling(ctx, campFile, r.Name, poolIndexes(b.o.n, b.o.ceilingPool))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(b.out, "  prepared in %.2fs of CPU\n", (selfCPU() - cpu0).Seconds())
	return msgs, nil
}

// runRounds runs every round, each between two runs of the ceiling over
// as many connections (a run after one round is the run before the next
// when their connections are the same).
func (b *bench) runRounds(ctx context.Context, rounds []round, msgs []wireMessage) ([]roundResult, error) {
	var results []roundResult
	var last *ceilingRun
	for _, r := range rounds {
		conns := r.Workers * b.o.concurrency
		before := last
		if before == nil || before.Conns != conns {
			var err error
			if before, err = b.runCeiling(ctx, conns, msgs); err != nil {
				return nil, err
			}
		}
		if r.Replica && b.replica == nil {
			if err := b.startReplica(ctx); err != nil {
				return nil, err
			}
		}
		if !r.Replica && b.replica != nil {
			if err := b.stopReplica(ctx); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(b.out, "%s: sending %d messages (campaign %s) ...\n", r.label(), b.o.n, r.Name)
		res, err := b.runRound(ctx, r)
		if err != nil {
			return nil, err
		}
		after, err := b.runCeiling(ctx, conns, msgs)
		if err != nil {
			return nil, err
		}
		last = after
		res.Ceiling = summarize(*before, *after)
		res.ratios()
		printRound(b.out, res)
		results = append(results, res)
	}
	return results, nil
}

// printJSON prints v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("print the result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", js)
	return err
}

// planRounds lists the rounds: one per worker count, then with -replica
// the first worker count again with a replica attached, without and with
// the acknowledgement; all of it -repeat times.
func planRounds(o options) []round {
	var rs []round
	for range max(o.repeat, 1) {
		for _, w := range o.workers {
			rs = append(rs, round{Workers: w})
		}
		if o.replica {
			rs = append(rs, round{Workers: o.workers[0], Replica: true}, round{Workers: o.workers[0], Replica: true, Acks: 1})
		}
	}
	for i := range rs {
		// Names of one length: every round's messages have the same size.
		rs[i].Name = fmt.Sprintf("bench%02d", i+1)
	}
	return rs
}

// startReplica starts a replica of the bench's Redis on loopback and waits
// until it is in sync.
func (b *bench) startReplica(ctx context.Context) error {
	port, err := freeport.Port()
	if err != nil {
		return err
	}
	fmt.Fprintln(b.out, "starting a replica and waiting for its initial sync ...")
	rep, err := b.procs.startRedis(ctx, "replica", filepath.Join(b.dir, "replica"), port, b.o.fsync, b.redis.port)
	if err != nil {
		return err
	}
	if err := waitReplica(ctx, b.redis, rep); err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	b.replica = rep
	return nil
}

// stopReplica stops the replica and waits until the master has none.
func (b *bench) stopReplica(ctx context.Context) error {
	b.procs.stop(b.replica.proc, 10*time.Second)
	b.replica.client.Close()
	b.replica = nil
	return pollUntil(ctx, time.Minute, func() (bool, error) {
		m, err := b.redis.info(ctx, "replication")
		return err == nil && m["connected_slaves"] == "0", err
	})
}

// stageOnly runs `tidings send` alone (no worker picks the campaign up) and
// reports how long staging took, send's peak RSS and Redis memory per
// recipient.
func (b *bench) stageOnly(ctx context.Context) error {
	r := round{Name: "bench01"}
	campFile, err := writeCampaignFile(b.dir, r.Name, r.env(), b.repo, b.o.n, b.o.rate)
	if err != nil {
		return err
	}
	mem0, err := b.redis.usedMemory(ctx)
	if err != nil {
		return err
	}
	cpu0, err := b.redis.cpu(ctx)
	if err != nil {
		return err
	}
	sr, err := b.runSend(ctx, r, campFile)
	if err != nil {
		return err
	}
	mem1, err := b.redis.usedMemory(ctx)
	if err != nil {
		return err
	}
	cpu1, err := b.redis.cpu(ctx)
	if err != nil {
		return err
	}
	res := struct {
		N                      int     `json:"n"`
		StagingS               float64 `json:"staging_s"`
		SendPeakRSSMB          float64 `json:"send_peak_rss_mb"`
		SendCPUS               float64 `json:"send_cpu_s"`
		RedisCPUS              float64 `json:"redis_cpu_s"`
		RedisBytesPerRecipient float64 `json:"redis_bytes_per_recipient"`
	}{b.o.n, sr.elapsed.Seconds(), sr.peakRSSMB, sr.cpu.Seconds(), cpu1 - cpu0, (mem1 - mem0) / float64(b.o.n)}
	fmt.Fprintf(b.out, "staged %d recipients in %.2fs: send peak RSS %.0f MB, send CPU %.2fs, Redis CPU %.2fs, Redis memory %.0f bytes per recipient\n",
		res.N, res.StagingS, res.SendPeakRSSMB, res.SendCPUS, res.RedisCPUS, res.RedisBytesPerRecipient)
	return printJSON(b.out, res)
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
