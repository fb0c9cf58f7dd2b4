// Command bench is tidings' end-to-end benchmark. It starts redis-server and
// postfix's smtp-sink on loopback, generates N recipients in 6 languages,
// builds the tidings binary and runs `tidings send` and `tidings worker`
// exactly as an operator would, then reports whole-campaign throughput, steady
// throughput, CPU per 1,000 messages of the workers and of Redis, and peak RSS
// of the worker and of `send`. With -stage-only it measures staging alone
// (validation + Redis writes) for a large file.
//
//	go run ./bench -n 100000            # whole campaign
//	go run ./bench -n 1000000 -stage-only
//
// Results are recorded in docs/benchmarks.md.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	n           int
	workers     int
	concurrency int
	out         string
	stageOnly   bool
	keep        bool
	tidings     string
	cpuProfile  bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 100000, "number of recipients")
	flag.IntVar(&o.workers, "workers", 1, "number of worker processes")
	flag.IntVar(&o.concurrency, "concurrency", 8, "SMTP connections (chunks in flight) per worker")
	flag.StringVar(&o.out, "out", "", "working directory (default: a temporary directory)")
	flag.BoolVar(&o.stageOnly, "stage-only", false, "measure staging (validate + write to Redis) only; no worker")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.StringVar(&o.tidings, "tidings", "", "tidings binary to use (default: build ./cmd/tidings)")
	flag.BoolVar(&o.cpuProfile, "cpuprofile", false, "write worker-N.pprof CPU profiles into the working directory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.out == "" {
		d, err := os.MkdirTemp("", "tidings-bench-")
		if err != nil {
			return err
		}
		o.out = d
		if !o.keep {
			defer os.RemoveAll(d)
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	bin := o.tidings
	if bin == "" {
		bin = filepath.Join(o.out, "tidings")
		fmt.Println("building tidings ...")
		b := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tidings")
		b.Stdout, b.Stderr = os.Stdout, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("build tidings: %w", err)
		}
	}

	redisPort, smtpPort := freePort(), freePort()
	redis, err := startRedis(ctx, o.out, redisPort)
	if err != nil {
		return err
	}
	defer stopProc(redis)
	var sink *exec.Cmd
	if !o.stageOnly {
		sink, err = startSink(ctx, smtpPort)
		if err != nil {
			return err
		}
		defer stopProc(sink)
	}

	fmt.Printf("generating %d recipients in 6 languages ...\n", o.n)
	if err := writeCampaign(o, smtpPort, redisPort); err != nil {
		return err
	}
	env := append(os.Environ(), "TIDINGS_CONFIG="+filepath.Join(o.out, "tidings.yaml"))

	// Workers first, as an operator would have them running.
	var workers []*exec.Cmd
	if !o.stageOnly {
		for i := 0; i < o.workers; i++ {
			args := []string{"worker", "--env", "bench", "--concurrency", strconv.Itoa(o.concurrency), "--log-level", "warn"}
			if o.cpuProfile {
				args = append(args, "--cpuprofile", filepath.Join(o.out, fmt.Sprintf("worker-%d.pprof", i)))
			}
			w := exec.CommandContext(ctx, bin, args...)
			w.Env = env
			w.Stderr = mustCreate(filepath.Join(o.out, fmt.Sprintf("worker-%d.log", i)))
			w.Stdout = w.Stderr
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			workers = append(workers, w)
			defer stopProc(w)
		}
	}
	redisCPU0 := cpuSeconds(redis.Process.Pid)

	start := time.Now()
	send := exec.CommandContext(ctx, bin, "send", filepath.Join(o.out, "campaign.yaml"), "--env", "bench", "--confirm", "bench")
	send.Env = env
	sendLog := filepath.Join(o.out, "send.log")
	send.Stdout = mustCreate(sendLog)
	send.Stderr = send.Stdout
	if err := send.Run(); err != nil {
		b, _ := os.ReadFile(sendLog)
		return fmt.Errorf("tidings send: %w\n%s", err, b)
	}
	staged := time.Since(start)
	sendRSS := maxRSSMB(send.ProcessState)
	sendCPU := send.ProcessState.UserTime() + send.ProcessState.SystemTime()
	fmt.Printf("staged %d recipients in %s (send: peak RSS %.0f MB, CPU %.2fs)\n", o.n, staged.Round(time.Millisecond), sendRSS, sendCPU.Seconds())
	if o.stageOnly {
		fmt.Printf("\nRESULT stage-only n=%d staging=%.2fs send_peak_rss_mb=%.0f send_cpu_s=%.2f\n", o.n, staged.Seconds(), sendRSS, sendCPU.Seconds())
		return nil
	}

	// Poll status until done; sample sent counts for the steady rate.
	type sample struct {
		t    time.Time
		sent int
	}
	var samples []sample
	var st status
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, err = readStatus(ctx, bin, env)
		if err != nil {
			return err
		}
		samples = append(samples, sample{time.Now(), st.Counts["sent"]})
		if st.State == "done" || st.State == "paused" || st.State == "cancelled" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	wall := time.Since(start)
	if st.State != "done" {
		return fmt.Errorf("campaign ended in state %s (%s)", st.State, st.Reason)
	}
	var workerCPU time.Duration
	var workerRSS float64
	for _, w := range workers {
		workerCPU += time.Duration(cpuSeconds(w.Process.Pid) * float64(time.Second))
		if r := vmHWM(w.Process.Pid); r > workerRSS {
			workerRSS = r
		}
	}
	redisCPU := cpuSeconds(redis.Process.Pid) - redisCPU0
	sent := st.Counts["sent"]
	// Steady rate: between 20% and 80% of the messages.
	steady := 0.0
	var a, b *sample
	for i := range samples {
		if a == nil && samples[i].sent >= sent/5 {
			a = &samples[i]
		}
		if b == nil && samples[i].sent >= sent*4/5 {
			b = &samples[i]
		}
	}
	if a != nil && b != nil && b.t.After(a.t) {
		steady = float64(b.sent-a.sent) / b.t.Sub(a.t).Seconds()
	}
	per1k := func(sec float64) float64 { return sec / float64(sent) * 1000 }
	fmt.Printf("\nRESULT n=%d workers=%d concurrency=%d sent=%d wall=%.2fs msg_per_s=%.0f steady_msg_per_s=%.0f "+
		"worker_cpu_s_per_1k=%.3f redis_cpu_s_per_1k=%.3f us_per_msg=%.1f worker_peak_rss_mb=%.0f send_peak_rss_mb=%.0f staging=%.2fs cores=%d\n",
		o.n, o.workers, o.concurrency, sent, wall.Seconds(), float64(sent)/wall.Seconds(), steady,
		per1k(workerCPU.Seconds()), per1k(redisCPU), (workerCPU.Seconds()+redisCPU)/float64(sent)*1e6,
		workerRSS, sendRSS, staged.Seconds(), runtime.NumCPU())
	if sent != o.n {
		return fmt.Errorf("sent %d of %d (counts: %v)", sent, o.n, st.Counts)
	}
	return nil
}

type status struct {
	State  string         `json:"state"`
	Reason string         `json:"reason"`
	Counts map[string]int `json:"counts"`
}

func readStatus(ctx context.Context, bin string, env []string) (status, error) {
	c := exec.CommandContext(ctx, bin, "status", "bench", "--env", "bench", "--json")
	c.Env = env
	out, err := c.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return status{}, fmt.Errorf("tidings status: %w: %s", err, ee.Stderr)
		}
		return status{}, fmt.Errorf("tidings status: %w", err)
	}
	var st status
	if err := json.Unmarshal(out, &st); err != nil {
		return status{}, fmt.Errorf("parse status --json: %w", err)
	}
	return st, nil
}

var langs = []struct{ locale, name string }{
	{"en", "Ada Lovelace"}, {"de-CH", "Jürg Müller"}, {"fr", "Zoë Dupont"},
	{"it", "Niccolò Rossi"}, {"ja", "山田 太郎"}, {"ar", "ليلى حداد"},
}

func writeCampaign(o options, smtpPort, redisPort int) error {
	f := mustCreate(filepath.Join(o.out, "recipients.csv"))
	w := bufio.NewWriterSize(f, 1<<20)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "email", "name", "locale", "posts"})
	for i := 0; i < o.n; i++ {
		l := langs[i%len(langs)]
		_ = cw.Write([]string{"u" + strconv.Itoa(i), "user" + strconv.Itoa(i) + "@bench.example", l.name, l.locale, strconv.Itoa(i % 7)})
	}
	cw.Flush()
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	wd, _ := os.Getwd()
	camp := fmt.Sprintf(`name: bench
environment: bench
template: welcome
templates_dir: %s
locales_dir: %s
default_locale: en
recipients: recipients.csv
from: "Bench <bench@tidings.example>"
batches:
  canary_per_locale: 0
  size: %d
  interval: 0s
rate: unlimited
auto_pause:
  error_rate: 0.5
  window: 1000
data:
  reregister_url: "https://example.org/re-register"
`, filepath.Join(wd, "templates"), filepath.Join(wd, "locales"), max(o.n, 1))
	if err := os.WriteFile(filepath.Join(o.out, "campaign.yaml"), []byte(camp), 0o644); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`environments:
  bench:
    production: false
    state_dir: %s
    redis:
      url: redis://127.0.0.1:%d/0
    smtp:
      host: 127.0.0.1
      port: %d
      tls: none
      connections: %d
`, filepath.Join(o.out, "state"), redisPort, smtpPort, o.concurrency)
	return os.WriteFile(filepath.Join(o.out, "tidings.yaml"), []byte(cfg), 0o644)
}

func startRedis(ctx context.Context, dir string, port int) (*exec.Cmd, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found: apt-get install redis-server")
	}
	c := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--maxmemory-policy", "noeviction")
	c.Stdout = mustCreate(filepath.Join(dir, "redis.log"))
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	return c, waitPort(port)
}

func startSink(ctx context.Context, port int) (*exec.Cmd, error) {
	bin := "/usr/sbin/smtp-sink"
	if _, err := os.Stat(bin); err != nil {
		return nil, errors.New("smtp-sink not found: apt-get install postfix (only its smtp-sink tool is used)")
	}
	// -c: count; backlog 256; 8bit and pipelining are advertised by default.
	args := []string{"-c", "127.0.0.1:" + strconv.Itoa(port), "256"}
	if os.Geteuid() == 0 {
		// smtp-sink refuses to run as root without dropping privileges.
		args = append([]string{"-u", "nobody"}, args...)
	}
	c := exec.CommandContext(ctx, bin, args...)
	c.Stdout = nil
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start smtp-sink: %w", err)
	}
	return c, waitPort(port)
}

func waitPort(port int) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on port %d after 10s", port)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func stopProc(c *exec.Cmd) {
	if c == nil || c.Process == nil {
		return
	}
	_ = c.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.Process.Kill()
	}
}

func mustCreate(p string) *os.File {
	f, err := os.Create(p)
	if err != nil {
		panic(err)
	}
	return f
}

// cpuSeconds reads utime+stime of pid from /proc.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// vmHWM is the peak resident set of pid in MB.
func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func maxRSSMB(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}
