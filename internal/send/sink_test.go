package send_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/send"
)

const smtpSinkPath = "/usr/sbin/smtp-sink"

// startSMTPSink runs postfix's smtp-sink on a free loopback port with the
// extra options args (e.g. "-q", "." to drop the connection after the end of
// data) and returns a Config for it. smtp-sink advertises PIPELINING unless
// told otherwise (-p, or -f/-r, which imply it). Without smtp-sink the test
// is skipped, except under CI=true, where it fails.
func startSMTPSink(t testing.TB, args ...string) send.Config {
	t.Helper()
	if _, err := os.Stat(smtpSinkPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found and CI=true: install it (apt-get install postfix; only smtp-sink is used)", smtpSinkPath)
		}
		t.Skipf("%s not found: apt-get install postfix to run this test", smtpSinkPath)
	}
	if os.Geteuid() == 0 {
		// smtp-sink refuses to run as root without dropping privileges.
		args = append([]string{"-u", "nobody"}, args...)
	}
	// A port free a moment ago may be taken by another test's server before
	// smtp-sink binds it: smtp-sink then exits, and the greeting, which
	// names this smtp-sink (-h), tells it from another server.
	var failed string
	for range 3 {
		port, err := freeport.Port()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("sink-%d.tidings.test", port)
		argv := append(slices.Clone(args), "-h", name, "127.0.0.1:"+strconv.Itoa(port), "64")
		cmd := exec.CommandContext(context.WithoutCancel(t.Context()), smtpSinkPath, argv...)
		stderr := new(strings.Builder)
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start smtp-sink: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		if failed = greets(port, name, exited); failed == "" {
			t.Cleanup(stop)
			return send.Config{Host: "127.0.0.1", Port: port, TLS: send.TLSNone, HeloName: "test.local", Timeout: 5 * time.Second}
		}
		stop()
		failed += "; smtp-sink's errors: " + stderr.String()
	}
	t.Fatalf("smtp-sink did not start on a loopback port: %s", failed)
	return send.Config{}
}

// greets waits up to 10 s until the server on port greets with a 220 reply
// naming name; it returns "" then, else why not.
func greets(port int, name string, exited <-chan struct{}) string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Sprintf("it exited (port %d)", port)
		default:
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if strings.HasPrefix(line, "220 ") && strings.Contains(line, name) {
				return ""
			}
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("no greeting naming %s on port %d (last: %v)", name, port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSendToSMTPSink sends through postfix's smtp-sink, a real pipelining
// server: accepted messages on one connection, RCPT rejected (5xx and 4xx,
// with the session kept for the next message) and a connection dropped after
// the end of data (in doubt).
func TestSendToSMTPSink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string // smtp-sink options
		want send.Error
	}{
		{"accepted", nil, send.Error{}},
		{"accepted without 8BITMIME", []string{"-8"}, send.Error{}},
		{"rcpt rejected permanently", []string{"-f", "RCPT"}, send.Error{Code: 500}},
		{"rcpt rejected temporarily", []string{"-r", "RCPT"}, send.Error{Code: 450, Temporary: true}},
		{"dropped after the data", []string{"-q", "."}, send.Error{InDoubt: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPool(t, startSMTPSink(t, tt.args...), 1)
			c, err := p.Get(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Put(c)
			for i := range 3 { // the same connection, or its replacement
				m := sampleMessage("r" + strconv.Itoa(i) + "@example.org")
				m.Text = ".\n..\n.hidden\n"
				m.HTML = "<p>Grüße aus Zürich</p>\n" // 8bit where smtp-sink offers 8BITMIME
				err := c.Send(t.Context(), m)
				got := send.Classify(err)
				if tt.want == (send.Error{}) {
					if err != nil {
						t.Fatalf("send %d: %v", i, err)
					}
					if !strings.HasPrefix(c.Response(), "2.0.0 Ok") {
						t.Errorf("Response() = %q", c.Response())
					}
					continue
				}
				if got == nil || got.Code != tt.want.Code || got.Temporary != tt.want.Temporary || got.InDoubt != tt.want.InDoubt {
					t.Errorf("send %d: Classify = %+v, want %+v", i, got, tt.want)
				}
			}
		})
	}
}
