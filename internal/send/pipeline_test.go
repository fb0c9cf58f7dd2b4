package send_test

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
)

// strictServer is a minimal SMTP server for the pipelining tests. With
// pipelining on it advertises PIPELINING and, like a real pipelining server
// that answers when its input runs dry, holds back its replies to MAIL and
// RCPT until DATA arrives: a client that waits for each reply before the next
// command hangs (and fails on its timeout). Recipients steer faults:
// rej550*/rej451* are rejected at RCPT; rej354* is rejected at RCPT but DATA
// is answered 354 anyway (a server breaking RFC 2920); droprcpt* closes the
// connection at RCPT; dropbody* reads the whole message and closes without a
// reply. With no8BitMIME it does not offer 8BITMIME and refuses
// BODY=8BITMIME and messages with 8-bit bytes, as a 7-bit server must.
type strictServer struct {
	ln         net.Listener
	pipelining bool
	no8BitMIME bool // do not offer 8BITMIME
	conns      atomic.Int64

	mu   sync.Mutex
	msgs [][]byte // message data, dots un-stuffed
}

func startStrict(t *testing.T, pipelining bool) (*strictServer, send.Config) {
	t.Helper()
	return startStrictServer(t, &strictServer{pipelining: pipelining})
}

// startStrictServer starts s (its options set, ln not) on a free port.
func startStrictServer(t *testing.T, s *strictServer) (*strictServer, send.Config) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	return s, send.Config{Host: a.IP.String(), Port: a.Port, TLS: send.TLSNone, HeloName: "test.local", Timeout: 5 * time.Second}
}

func (s *strictServer) messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.msgs...)
}

func (s *strictServer) serve(c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(line string, flush bool) bool {
		_, _ = w.WriteString(line + "\r\n")
		if flush || !s.pipelining {
			return w.Flush() == nil
		}
		return true
	}
	reply("220 strict ESMTP", true)
	var rcpts []string
	mailOK := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimRight(line, "\r\n"))
		arg := strings.ToLower(strings.TrimRight(line, "\r\n"))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			ext := "250-strict"
			if s.pipelining {
				ext += "\r\n250-PIPELINING"
			}
			if !s.no8BitMIME {
				ext += "\r\n250-8BITMIME"
			}
			reply(ext+"\r\n250 SIZE 10240000", true)
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			if s.no8BitMIME && strings.Contains(cmd, "BODY=8BITMIME") {
				reply("555 5.5.4 BODY=8BITMIME not offered", false)
				continue
			}
			mailOK, rcpts = true, nil
			reply("250 2.1.0 ok", false)
		case strings.HasPrefix(cmd, "RCPT TO:"):
			to := strings.Trim(arg[len("RCPT TO:"):], "<>")
			switch {
			case !mailOK:
				reply("503 5.5.1 need MAIL", false)
			case strings.HasPrefix(to, "droprcpt"):
				_ = w.Flush() // MAIL was answered; RCPT never is
				return
			case strings.HasPrefix(to, "rej550"), strings.HasPrefix(to, "rej354"):
				reply("550 5.1.1 no such user", false)
				if strings.HasPrefix(to, "rej354") {
					rcpts = append(rcpts, "!broken")
				}
			case strings.HasPrefix(to, "rej451"):
				reply("451 4.7.1 try later", false)
			default:
				rcpts = append(rcpts, to)
				reply("250 2.1.5 ok", false)
			}
		case cmd == "DATA":
			if len(rcpts) == 0 {
				reply("554 5.5.1 no valid recipients", true)
				continue
			}
			if !reply("354 go ahead", true) {
				return
			}
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return // the client gave up: nothing is delivered
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			if strings.HasPrefix(rcpts[0], "dropbody") {
				return
			}
			if s.no8BitMIME && bytes.ContainsFunc(data.Bytes(), func(r rune) bool { return r >= 0x80 }) {
				mailOK, rcpts = false, nil
				reply("554 5.6.0 8-bit data, but 8BITMIME was not offered", true)
				continue
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, data.Bytes())
			s.mu.Unlock()
			mailOK, rcpts = false, nil
			reply("250 2.0.0 queued as 1", true)
		case cmd == "RSET":
			mailOK, rcpts = false, nil
			reply("250 2.0.0 ok", true)
		case cmd == "NOOP":
			reply("250 2.0.0 ok", true)
		case cmd == "QUIT":
			reply("221 2.0.0 bye", true)
			return
		default:
			reply("500 5.5.2 unknown command", true)
		}
	}
}

// dottyText has lines that start with dots, which must arrive intact.
const dottyText = ".\n..\n.hidden line\nmiddle\n.\nend.\n"

func TestSendPipelining(t *testing.T) {
	t.Parallel()
	for _, pipelining := range []bool{true, false} {
		name := map[bool]string{true: "pipelining", false: "one command at a time"}[pipelining]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, cfg := startStrict(t, pipelining)
			p := newPool(t, cfg, 1)
			c, err := p.Get(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Put(c)
			tests := []struct {
				to        string
				want      send.Error // zero: accepted
				redialled bool       // the failure breaks the connection
			}{
				{to: "ok@example.org"},
				{to: "rej550@example.org", want: send.Error{Code: 550, Enhanced: "5.1.1", Msg: "no such user"}},
				{to: "rej451@example.org", want: send.Error{Code: 451, Enhanced: "4.7.1", Temporary: true, Msg: "try later"}},
				{to: "droprcpt@example.org", want: send.Error{Temporary: true}, redialled: true},
				{to: "dropbody@example.org", want: send.Error{InDoubt: true}, redialled: true},
			}
			if pipelining {
				tests = append(tests, struct {
					to        string
					want      send.Error
					redialled bool
				}{to: "rej354@example.org", want: send.Error{Code: 550, Enhanced: "5.1.1", Msg: "no such user"}, redialled: true})
			}
			wantConns, delivered := int64(1), 0
			for _, tt := range tests {
				m := sampleMessage(tt.to)
				m.Text = dottyText
				err := c.Send(t.Context(), m)
				got := send.Classify(err)
				if tt.want == (send.Error{}) {
					if err != nil {
						t.Fatalf("%s: %v", tt.to, err)
					}
					delivered++
				} else {
					if got == nil {
						t.Fatalf("%s: sent, want failure", tt.to)
					}
					if got.Code != tt.want.Code || got.Enhanced != tt.want.Enhanced || got.Temporary != tt.want.Temporary || got.InDoubt != tt.want.InDoubt {
						t.Errorf("%s: Classify = %+v, want %+v", tt.to, got, tt.want)
					}
					if tt.want.Msg != "" && got.Msg != tt.want.Msg {
						t.Errorf("%s: Msg = %q, want %q", tt.to, got.Msg, tt.want.Msg)
					}
				}
				if tt.redialled {
					wantConns++
				}
				// The connection (or its replacement) carries the next one.
				next := sampleMessage("next-" + tt.to)
				next.Text = dottyText
				if err := c.Send(t.Context(), next); err != nil {
					t.Fatalf("send after %s: %v", tt.to, err)
				}
				delivered++
				if c.Response() != "2.0.0 queued as 1" {
					t.Errorf("Response() = %q", c.Response())
				}
			}
			if n := srv.conns.Load(); n != wantConns {
				t.Errorf("server saw %d connections, want %d (rejections must not cost the connection)", n, wantConns)
			}
			msgs := srv.messages()
			if len(msgs) != delivered {
				t.Fatalf("server stored %d messages, want %d", len(msgs), delivered)
			}
			for _, data := range msgs {
				if got := textPart(t, data); got != strings.ReplaceAll(dottyText, "\n", "\r\n") {
					t.Errorf("text part arrived as %q, want %q", got, dottyText)
				}
			}
		})
	}
}

// textPart returns the decoded text/plain part of a multipart/alternative
// message.
func textPart(t *testing.T, data []byte) string {
	t.Helper()
	for _, p := range readParts(t, data) {
		if strings.HasPrefix(p.contentType, "text/plain") {
			return string(p.body)
		}
	}
	t.Fatal("no text/plain part")
	return ""
}
