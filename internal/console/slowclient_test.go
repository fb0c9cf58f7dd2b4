package console_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/preview"
)

// patience is how long a test waits for the console to end a connection
// it should end by itself (its own waits are 200 ms here); a console
// that never does fails the test then.
const patience = 2 * time.Minute

// fileOf is a campaign file of a new world, as a console of a campaign
// file (tidings console --campaign) has it.
func fileOf(t *testing.T) *console.CampaignFile {
	t.Helper()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "file", N: 2})
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}
}

// servedConsole serves a console of a campaign file with Serve, as a
// console process does, with its waits for a body and for an idle
// connection shortened; it returns its address.
func servedConsole(t *testing.T) string {
	t.Helper()
	srv, err := console.New(console.Config{Users: users(t), Compose: compose, Samples: preview.DefaultSamples(), File: fileOf(t)})
	if err != nil {
		t.Fatal(err)
	}
	console.SetWaits(srv, 200*time.Millisecond, 200*time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// rawConn opens a TCP connection to addr, writes req, and returns a
// reader of what the console answers, bounded by patience.
func rawConn(t *testing.T, addr, req string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

// closedByServer reports whether the console closed the connection (the
// reader ends) rather than holding it until patience ran out.
func closedByServer(t *testing.T, r *bufio.Reader) {
	t.Helper()
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the console still holds the connection after %s", patience)
	}
}

func status(t *testing.T, r *bufio.Reader) int {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("no answer after %s: the console waits for ever", patience)
		}
		t.Fatalf("read the answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSlowClientsLetGo: a client on the network, not signed in, cannot
// hold the console's connections and memory: a sign-in form whose body
// never comes is answered 408 and its connection closed; a body larger
// than any form of the console (a Content-Length, or chunks without
// end) is refused with 413 without being read whole; a kept-alive
// connection that sends nothing more is closed.
func TestSlowClientsLetGo(t *testing.T) {
	t.Parallel()
	addr := servedConsole(t)
	const head = "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"

	t.Run("body never sent", func(t *testing.T) {
		t.Parallel()
		_, r := rawConn(t, addr, head+"Content-Length: 100\r\n\r\nnonce=")
		if code := status(t, r); code != http.StatusRequestTimeout {
			t.Errorf("a body that never comes: %d, want 408", code)
		}
		closedByServer(t, r)
	})
	t.Run("huge Content-Length", func(t *testing.T) {
		t.Parallel()
		_, r := rawConn(t, addr, head+"Content-Length: 1073741824\r\n\r\nnonce=")
		if code := status(t, r); code != http.StatusRequestEntityTooLarge {
			t.Errorf("a 1 GiB form: %d, want 413", code)
		}
	})
	t.Run("endless chunks", func(t *testing.T) {
		t.Parallel()
		c, r := rawConn(t, addr, head+"Transfer-Encoding: chunked\r\n\r\n")
		go func() { // writes until the console stops reading
			chunk := fmt.Sprintf("%x\r\n%s\r\n", 4096, strings.Repeat("a", 4096))
			for {
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
		}()
		if code := status(t, r); code != http.StatusRequestEntityTooLarge {
			t.Errorf("an endless chunked form: %d, want 413", code)
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		t.Parallel()
		_, r := rawConn(t, addr, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		if code := status(t, r); code != http.StatusOK {
			t.Fatalf("GET /healthz: %d", code)
		}
		closedByServer(t, r)
	})
}
