// Package rawsmtp is a real SMTP server on loopback, written by hand for
// tests, so that it can answer what a proper server library never would:
// a 251 or a 354 to the end of the message, a dropped connection before
// the reply, a multi-line reply of mixed codes. It offers PIPELINING and
// 8BITMIME and answers every command as a well-behaved server does, but
// for those its Options script.
package rawsmtp

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
)

// Options script the relay's answers.
type Options struct {
	// Final answers the end of each message's data: the reply written
	// (with its line ends), and whether the connection is then closed.
	// nil: "250 2.0.0 Ok".
	Final func() (reply string, close bool)
	// RCPT is the reply to every RCPT ("": 250).
	RCPT string
	// EHLO is the reply to EHLO, with its line ends ("": the name, then
	// PIPELINING, 8BITMIME and ENHANCEDSTATUSCODES).
	EHLO string
	// Reply, when not nil, is asked first for the reply to each command
	// (as received, without its line end; "DATA" is answered 354 and its
	// message read only when Reply returns ""): the reply written as is,
	// and whether the connection is then closed. "": answer as usual.
	Reply func(cmd string) (reply string, close bool)
	// Dribble writes every reply one byte at a time, one write each, so
	// that the client reads replies split anywhere.
	Dribble bool
}

// Relay is a running server.
type Relay struct {
	ln   net.Listener
	opts Options
	mu   sync.Mutex
	got  map[string]int // messages whose whole data was read, by envelope recipient
	cmds []string       // every command line received, in order, without its line end
	// ahead counts the messages whose final dot came with more bytes
	// behind it in the same read: the client wrote the next commands
	// before it could have read this message's final reply (one write a
	// message, RFC 2920 3.1).
	ahead int
}

// Start runs a relay until the test ends.
func Start(t testing.TB, opts Options) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Final == nil {
		opts.Final = func() (string, bool) { return "250 2.0.0 Ok\r\n", false }
	}
	r := &Relay{ln: ln, opts: opts, got: map[string]int{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

// Config is a send.Config for the relay: no TLS, a timeout of a second.
func (r *Relay) Config() send.Config {
	return send.Config{Host: "127.0.0.1", Port: r.ln.Addr().(*net.TCPAddr).Port, TLS: send.TLSNone, HeloName: "test.local", Timeout: time.Second}
}

// Accepted is how many messages' whole data the relay read.
func (r *Relay) Accepted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.got {
		n += c
	}
	return n
}

// Received is how many messages' whole data the relay read, by envelope
// recipient.
func (r *Relay) Received() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.got))
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

// CommandsAhead is how many messages' final dot the relay read with the
// client's next commands already behind it, before it replied: a client
// that waits for each final reply before its next command makes none,
// whatever the timing (it has written nothing more yet).
func (r *Relay) CommandsAhead() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ahead
}

// Commands returns every command line the relay received (not message
// data), in order, without line ends.
func (r *Relay) Commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cmds...)
}

func (r *Relay) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	var w io.Writer = c
	if r.opts.Dribble {
		w = dribbler{c}
	}
	io.WriteString(w, "220 relay.example ESMTP\r\n")
	rcpt := ""
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimSpace(line)
		up := strings.ToUpper(cmd)
		r.mu.Lock()
		r.cmds = append(r.cmds, cmd)
		r.mu.Unlock()
		if r.opts.Reply != nil {
			if reply, closing := r.opts.Reply(cmd); reply != "" {
				io.WriteString(w, reply)
				if closing {
					return
				}
				continue
			}
		}
		switch {
		case strings.HasPrefix(up, "EHLO") && r.opts.EHLO != "":
			io.WriteString(w, r.opts.EHLO)
		case strings.HasPrefix(up, "EHLO"):
			io.WriteString(w, "250-relay.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n")
		case strings.HasPrefix(up, "RCPT TO:"):
			rcpt, _, _ = strings.Cut(strings.TrimPrefix(cmd[len("RCPT TO:"):], "<"), ">")
			if r.opts.RCPT != "" {
				io.WriteString(w, r.opts.RCPT)
			} else {
				io.WriteString(w, "250 2.1.5 Ok\r\n")
			}
		case strings.HasPrefix(up, "MAIL"), strings.HasPrefix(up, "RSET"), strings.HasPrefix(up, "NOOP"):
			io.WriteString(w, "250 2.0.0 Ok\r\n")
		case up == "DATA":
			io.WriteString(w, "354 End data with <CR><LF>.<CR><LF>\r\n")
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			r.mu.Lock()
			r.got[rcpt]++
			if br.Buffered() > 0 {
				r.ahead++
			}
			r.mu.Unlock()
			reply, closing := r.opts.Final()
			io.WriteString(w, reply)
			if closing {
				return
			}
		case up == "QUIT":
			io.WriteString(w, "221 2.0.0 Bye\r\n")
			return
		default:
			io.WriteString(w, "502 5.5.2 Error: command not recognized\r\n")
		}
	}
}

// dribbler writes one byte a write.
type dribbler struct{ w io.Writer }

func (d dribbler) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := d.w.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}
