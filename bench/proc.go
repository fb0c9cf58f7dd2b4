package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tidings-mail/tidings/internal/childproc"
)

// proc is a process the bench started. Every proc is stopped when the bench
// ends, whatever the outcome (procSet.stopAll), and is killed with the bench
// should the bench itself be killed (childproc; not smtp-sink, which drops
// privileges and with them the parent-death signal).
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string          // where its output goes
	done <-chan struct{} // closed once it has exited (then cmd.ProcessState is set)
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail returns the last lines of the process's output, for errors.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// procSet is every process the bench started.
type procSet struct {
	mu    sync.Mutex
	procs []*proc
}

// start starts name (args...) with its output in logPath.
func (s *procSet) start(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer out.Close() // the child has its own copy
	c := exec.Command(bin, args...)
	c.Env = env
	c.Stdout, c.Stderr = out, out
	child, err := childproc.Start(c)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: c, log: logPath, done: child.Done()}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// stop ends p: SIGTERM, then SIGKILL after grace. It returns p's final
// state.
func (s *procSet) stop(p *proc, grace time.Duration) *os.ProcessState {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	return p.cmd.ProcessState
}

// stopAll stops every process still running, the last started first.
func (s *procSet) stopAll() {
	s.mu.Lock()
	ps := s.procs
	s.procs = nil
	s.mu.Unlock()
	for i := len(ps) - 1; i >= 0; i-- {
		s.stop(ps[i], 10*time.Second)
	}
}

// fsyncArgs returns redis-server's persistence arguments for the -fsync
// setting: "off" (no persistence, the default) or an appendfsync policy
// (always, everysec, no) with the append-only file on.
func fsyncArgs(fsync string) ([]string, error) {
	switch fsync {
	case "", "off":
		return []string{"--save", "", "--appendonly", "no"}, nil
	case "always", "everysec", "no":
		return []string{"--save", "", "--appendonly", "yes", "--appendfsync", fsync}, nil
	}
	return nil, fmt.Errorf("-fsync %q: use off, always, everysec or no", fsync)
}

// redisNode is a redis-server the bench started, with a client to read its
// INFO.
type redisNode struct {
	*proc
	port   int
	client *redis.Client
}

// startRedis starts redis-server on 127.0.0.1:port with its files in dir,
// as a replica of replicaOf when that is not 0.
func (s *procSet) startRedis(ctx context.Context, name, dir string, port int, fsync string, replicaOf int) (*redisNode, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found: apt-get install redis-server")
	}
	pers, err := fsyncArgs(fsync)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--maxmemory-policy", "noeviction", "--logfile", ""}, pers...)
	if replicaOf != 0 {
		args = append(args, "--replicaof", "127.0.0.1", strconv.Itoa(replicaOf))
	}
	p, err := s.start(name, filepath.Join(dir, "redis.log"), os.Environ(), bin, args...)
	if err != nil {
		return nil, err
	}
	n := &redisNode{proc: p, port: port, client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})}
	err = pollUntil(ctx, 10*time.Second, func() (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("%s exited: %s", name, p.logTail())
		}
		return n.client.Ping(ctx).Err() == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return n, nil
}

// info returns the fields of INFO section.
func (n *redisNode) info(ctx context.Context, section string) (map[string]string, error) {
	m, err := n.client.InfoMap(ctx, section).Result()
	if err != nil {
		return nil, fmt.Errorf("read INFO %s of redis on port %d: %w", section, n.port, err)
	}
	for _, fields := range m {
		return fields, nil
	}
	return nil, fmt.Errorf("read INFO %s of redis on port %d: empty", section, n.port)
}

// cpu returns used_cpu_sys + used_cpu_user in seconds (INFO cpu: getrusage
// of the whole redis-server process, background threads included).
func (n *redisNode) cpu(ctx context.Context) (float64, error) {
	sys, user, err := n.cpuSplit(ctx)
	return sys + user, err
}

// cpuSplit returns used_cpu_sys and used_cpu_user in seconds: the time in
// the kernel (system calls: reading requests, writing replies, epoll) and
// in Redis's own code.
func (n *redisNode) cpuSplit(ctx context.Context) (sys, user float64, err error) {
	f, err := n.info(ctx, "cpu")
	if err != nil {
		return 0, 0, err
	}
	sys, err1 := strconv.ParseFloat(f["used_cpu_sys"], 64)
	user, err2 := strconv.ParseFloat(f["used_cpu_user"], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("parse INFO cpu of redis on port %d: %w", n.port, err)
	}
	return sys, user, nil
}

// commands returns total_commands_processed (INFO stats), and the calls of
// each command and the microseconds it took (INFO commandstats), by
// lower-case name.
func (n *redisNode) commands(ctx context.Context) (total float64, calls, usec map[string]float64, err error) {
	st, err := n.info(ctx, "stats")
	if err != nil {
		return 0, nil, nil, err
	}
	if total, err = strconv.ParseFloat(st["total_commands_processed"], 64); err != nil {
		return 0, nil, nil, fmt.Errorf("parse INFO stats of redis on port %d: %w", n.port, err)
	}
	cs, err := n.info(ctx, "commandstats")
	if err != nil {
		return 0, nil, nil, err
	}
	calls, usec = map[string]float64{}, map[string]float64{}
	for k, v := range cs {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok {
			continue
		}
		for f := range strings.SplitSeq(v, ",") {
			key, val, _ := strings.Cut(f, "=")
			var into map[string]float64
			switch key {
			case "calls":
				into = calls
			case "usec":
				into = usec
			default:
				continue
			}
			if into[name], err = strconv.ParseFloat(val, 64); err != nil {
				return 0, nil, nil, fmt.Errorf("parse INFO commandstats of redis on port %d: %w", n.port, err)
			}
		}
	}
	return total, calls, usec, nil
}

// netBytes returns INFO stats total_net_input_bytes and
// total_net_output_bytes: what Redis read from its clients and wrote to
// them (replicas apart); and total_reads_processed: the read events it
// handled, one a request (a pipeline's commands one, as a rule).
func (n *redisNode) netBytes(ctx context.Context) (in, out, reads float64, err error) {
	st, err := n.info(ctx, "stats")
	if err != nil {
		return 0, 0, 0, err
	}
	in, err1 := strconv.ParseFloat(st["total_net_input_bytes"], 64)
	out, err2 := strconv.ParseFloat(st["total_net_output_bytes"], 64)
	reads, err3 := strconv.ParseFloat(st["total_reads_processed"], 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, 0, 0, fmt.Errorf("parse INFO stats of redis on port %d: %w", n.port, err)
	}
	return in, out, reads, nil
}

// usedMemory returns INFO memory's used_memory in bytes.
func (n *redisNode) usedMemory(ctx context.Context) (float64, error) {
	f, err := n.info(ctx, "memory")
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(f["used_memory"], 64)
	if err != nil {
		return 0, fmt.Errorf("parse INFO memory of redis on port %d: %w", n.port, err)
	}
	return v, nil
}

// waitReplica waits until master reports one online replica and the
// replica's link is up with the same offset.
func waitReplica(ctx context.Context, master, replica *redisNode) error {
	return pollUntil(ctx, 2*time.Minute, func() (bool, error) {
		if replica.exited() {
			return false, fmt.Errorf("replica exited: %s", replica.logTail())
		}
		m, err := master.info(ctx, "replication")
		if err != nil {
			return false, err
		}
		r, err := replica.info(ctx, "replication")
		if err != nil {
			return false, err
		}
		return m["connected_slaves"] == "1" && strings.Contains(m["slave0"], "state=online") &&
			r["master_link_status"] == "up" && r["master_repl_offset"] == m["master_repl_offset"], nil
	})
}

// startSink starts postfix's smtp-sink on 127.0.0.1:port. It counts
// messages (-c) into counterPath: one line "sess=.. quit=.. mesg=N" per
// message, which the bench reads to follow progress without asking tidings.
func (s *procSet) startSink(ctx context.Context, port int, counterPath string) (*proc, error) {
	bin := "/usr/sbin/smtp-sink"
	if _, err := os.Stat(bin); err != nil {
		return nil, errors.New("smtp-sink not found: apt-get install postfix (only its smtp-sink tool is used)")
	}
	// -c: count; -h: the name it greets with, which tells it from another
	// server that took the port first; backlog 256; 8BITMIME and
	// PIPELINING are announced by default, SMTPUTF8 is not.
	name := fmt.Sprintf("sink-%d.tidings.bench", port)
	args := []string{"-c", "-h", name, "127.0.0.1:" + strconv.Itoa(port), "256"}
	if os.Geteuid() == 0 {
		// smtp-sink refuses to run as root without dropping privileges.
		args = append([]string{"-u", "nobody"}, args...)
	}
	p, err := s.start("smtp-sink", counterPath, os.Environ(), bin, args...)
	if err != nil {
		return nil, err
	}
	if err := waitGreeting(ctx, port, name, p); err != nil {
		return nil, fmt.Errorf("start smtp-sink: %w", err)
	}
	return p, nil
}

// sinkCount reads the last count smtp-sink -c wrote to path: messages
// received since it started.
func sinkCount(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read smtp-sink's count: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("read smtp-sink's count: %w", err)
	}
	buf := make([]byte, 256)
	off := max(0, st.Size()-int64(len(buf)))
	k, err := f.ReadAt(buf, off)
	if k == 0 && err != nil && st.Size() > 0 {
		return 0, fmt.Errorf("read smtp-sink's count: %w", err)
	}
	return parseSinkCount(buf[:k])
}

// parseSinkCount returns the mesg= count of the last complete record of b
// (0 when b has none). smtp-sink ends each record with '\r' or '\n'.
func parseSinkCount(b []byte) (int, error) {
	s := strings.TrimRight(string(b[:bytes.LastIndexAny(b, "\r\n")+1]), "\r\n")
	if s == "" {
		return 0, nil
	}
	line := s[strings.LastIndexAny(s, "\r\n")+1:]
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "mesg="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("read smtp-sink's count %q: %w", line, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("read smtp-sink's count: no mesg= in %q", line)
}

// waitGreeting waits until the SMTP server on port greets naming name (p,
// not a server that took the port first), or p exits.
func waitGreeting(ctx context.Context, port int, name string, p *proc) error {
	return pollUntil(ctx, 10*time.Second, func() (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("%s exited: %s", p.name, p.logTail())
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return false, nil
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.HasPrefix(line, "220 ") && strings.Contains(line, name), nil
	})
}

// pollUntil calls cond every 20 ms until it returns true or an error, ctx
// ends or timeout passes.
func pollUntil(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cpuSeconds returns utime+stime of pid (all its threads) from /proc, in
// seconds; the kernel counts in USER_HZ (100 per second) ticks.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("read CPU time of %d: short /proc/%d/stat", pid, pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
	}
	return (ut + st) / 100, nil
}

// peakRSSMB returns the peak resident set (VmHWM) of pid in MB.
func peakRSSMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read peak RSS of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.Fields(v)[0], 64)
			if err != nil {
				return 0, fmt.Errorf("read peak RSS of %d: %w", pid, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("read peak RSS of %d: no VmHWM", pid)
}

// rusageCPU returns the user + system time of a finished process and its
// peak RSS in MB (getrusage, microsecond resolution).
func rusageCPU(ps *os.ProcessState) (cpu time.Duration, maxRSSMB float64) {
	if ps == nil {
		return 0, 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		maxRSSMB = float64(ru.Maxrss) / 1024
	}
	return ps.UserTime() + ps.SystemTime(), maxRSSMB
}

// selfCPU returns this process's user + system time (getrusage).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage returns the 1-minute load average.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return v
}
