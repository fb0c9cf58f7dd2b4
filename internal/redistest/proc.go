package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/childproc"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// binary returns the path of a Redis program (redis-server, redis-sentinel,
// redis-cli) found on PATH or in /usr/bin, or "" when there is none.
func binary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// need returns the path of a Redis program the test cannot run without.
// When it is missing the test fails under CI=true and is skipped elsewhere;
// pkg names the Debian package that ships it.
func need(t testing.TB, name, pkg string) string {
	t.Helper()
	if p := binary(name); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("redistest: no %s on PATH or in /usr/bin, and CI=true: install it (apt-get install %s)", name, pkg)
	}
	t.Skipf("redistest: no %s installed; this test needs a real one (apt-get install %s)", name, pkg)
	return ""
}

// errAddrInUse marks a start that failed because its port was taken.
var errAddrInUse = errors.New("address already in use")

// proc is one Redis process (redis-server or redis-sentinel) on a loopback
// address that stays the same when the process is killed and started again.
type proc struct {
	name    string   // in logs and errors: "master", "replica-1", "sentinel-2", "node-3"
	bin     string   // the program
	dir     string   // its working directory
	dataDir string   // where it keeps RDB/AOF files; emptied by restart(ctx, true); "" if none
	args    []string // the command line after bin; launch adds the ports and --bind
	addr    string   // 127.0.0.1:port, set by launch
	log     syncbuf.Buffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   <-chan struct{} // closed when the current process has exited
	paused bool            // stopped with SIGSTOP, not continued since
}

// launch starts p with p.args plus a free port on 127.0.0.1 (and a free port
// for each of portFlags, such as "--cluster-port") and waits until it answers
// PING. A port collision is retried with other ports; the ports that worked
// stay in p.args, so restart uses the same ones.
func launch(ctx context.Context, p *proc, portFlags ...string) error {
	base := p.args
	var err error
	for range 5 {
		p.args = slices.Clone(base)
		for _, flag := range append([]string{"--port"}, portFlags...) {
			port, perr := freeport.Port()
			if perr != nil {
				return perr
			}
			p.args = append(p.args, flag, strconv.Itoa(port))
			if flag == "--port" {
				p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			}
		}
		p.args = append(p.args, "--bind", "127.0.0.1")
		if err = p.start(ctx); !errors.Is(err, errAddrInUse) {
			return err
		}
	}
	return err
}

// start runs the process once with p.args and waits until it answers PING.
// Its output goes to p.log; on failure the error carries this start's part
// of it.
func (p *proc) start(ctx context.Context) error {
	from := p.log.Len()
	if from > 0 {
		_, _ = fmt.Fprintf(&p.log, "\n--- (redistest) %s started again ---\n", p.name)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = &p.log, &p.log
	// The kernel kills the process when the test binary dies, even on a
	// panic or a kill, and not before (childproc).
	child, err := childproc.Start(cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := child.Done()
	p.mu.Lock()
	p.cmd, p.done, p.paused = cmd, done, false
	p.mu.Unlock()
	err = waitReady(ctx, p.addr, cmd.Process.Pid, done)
	if err == nil {
		return nil
	}
	p.kill()
	out := p.log.From(from)
	if strings.Contains(out, "Address already in use") && !errors.Is(err, errAddrInUse) {
		err = fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return fmt.Errorf("%s on %s: %w; output:\n%s", p.name, p.addr, err, out)
}

// restart kills the process if it runs (SIGKILL, like a crash) and starts it
// again with the same command line, so on the same address. With empty, its
// data directory is emptied first. A port briefly taken by another process is
// retried until ctx ends or 20 seconds have passed.
func (p *proc) restart(ctx context.Context, empty bool) error {
	p.kill()
	if empty && p.dataDir != "" {
		if err := os.RemoveAll(p.dataDir); err != nil {
			return fmt.Errorf("empty %s: %w", p.name, err)
		}
		if err := os.MkdirAll(p.dataDir, 0o700); err != nil {
			return fmt.Errorf("empty %s: %w", p.name, err)
		}
	}
	return poll(ctx, 20*time.Second, "restart "+p.name+" on "+p.addr, func() error {
		err := p.start(ctx)
		if err != nil && !errors.Is(err, errAddrInUse) {
			return permanent{err}
		}
		return err
	})
}

// kill ends the process with SIGKILL and waits for it; it does nothing when
// the process is not running.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// pause stops the running process with SIGSTOP (paused) or continues it
// with SIGCONT.
func (p *proc) pause(paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s is not running", p.name)
	}
	sig := syscall.SIGCONT
	if paused {
		sig = syscall.SIGSTOP
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("send %s to %s: %w", sig, p.name, err)
	}
	p.paused = paused
	return nil
}

// answering reports whether the process is up and not paused.
func (p *proc) answering() bool {
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	return !paused && p.running()
}

// running reports whether the process is up (started and not exited).
func (p *proc) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// waitReady waits until addr answers PING, failing early when done closes
// (the process exited).
func waitReady(ctx context.Context, addr string, pid int, done <-chan struct{}) error {
	return poll(ctx, 20*time.Second, "answer on "+addr, func() error {
		select {
		case <-done:
			return permanent{errors.New("process exited")}
		default:
		}
		got, err := serverPID(ctx, addr)
		if err == nil && got != pid {
			// Another test's server took the port first: ours will
			// exit, unable to bind it.
			return permanent{fmt.Errorf("%w: %s is another server's (process %d, not %d)", errAddrInUse, addr, got, pid)}
		}
		return err
	})
}

// serverPID asks the server on addr for its process id with a raw INFO
// server (go-redis would log every refused connection): the server that
// answers on a port free a moment ago may be another test's.
func serverPID(ctx context.Context, addr string) (int, error) {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
	if !strings.HasPrefix(head, "$") || err != nil || size < 0 {
		return 0, fmt.Errorf("INFO server answered %q", strings.TrimSpace(head))
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO server has no process_id")
}

// permanent marks an error on which poll stops at once.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// poll calls check until it returns nil, returns a permanent error, ctx ends
// or limit has passed (or ctx's deadline, if earlier). The error names what
// was awaited and carries check's last error.
func poll(ctx context.Context, limit time.Duration, what string, check func() error) error {
	start := time.Now()
	deadline := start.Add(limit)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p, ok := errors.AsType[permanent](err); ok {
			return fmt.Errorf("%s: %w", what, p.err)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%s: not within %s: %w", what, time.Since(start).Round(time.Millisecond), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %w)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
