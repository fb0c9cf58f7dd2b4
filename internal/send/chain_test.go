package send_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// chainMessages are messages of each kind a campaign mixes: 7bit, 8bit
// text, and an address that needs SMTPUTF8, each to its own recipient.
func chainMessages() []*send.Message {
	ascii := sampleMessage("ann@example.org")
	ascii.ToName, ascii.Subject, ascii.Text, ascii.HTML = "Ann", "Welcome back", "Hello Ann,\n.\nplease register again.\n", "<p>Hello</p>"
	eight := sampleMessage("zoe@example.org")
	utf8 := sampleMessage("zoë@example.org")
	last := sampleMessage("bob@example.org")
	for i, m := range []*send.Message{ascii, eight, utf8, last} {
		m.MessageID = fmt.Sprintf("altea.%d@tidings.example", i)
	}
	return []*send.Message{ascii, eight, utf8, last}
}

var boundaryRE = regexp.MustCompile(`boundary="?([0-9a-f]+)`)

// sameBytes strips the random multipart boundary, the only bytes of a
// message that differ between two sends.
func sameBytes(data []byte) string {
	s := string(data)
	if m := boundaryRE.FindStringSubmatch(s); m != nil {
		s = regexp.MustCompile(m[1]).ReplaceAllString(s, "BOUNDARY")
	}
	return s
}

// sendChain sends msgs in turn on one connection, each with the next one
// chained (SendThen), and returns each one's error and whether the
// connection held the next one after it.
func sendChain(t *testing.T, p *send.Pool, msgs []*send.Message) ([]error, []bool) {
	t.Helper()
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatalf("get connection: %v", err)
	}
	defer p.Put(c)
	errs, chained := make([]error, len(msgs)), make([]bool, len(msgs))
	for i, m := range msgs {
		var next *send.Message
		if i+1 < len(msgs) {
			next = msgs[i+1]
		}
		errs[i] = c.SendThen(t.Context(), m, next, nil)
		chained[i] = c.Chained()
	}
	return errs, chained
}

// TestSendThenWritesTodaysBytes: messages sent with the next one's
// commands chained after their data (RFC 2920, 3.1) arrive at a go-smtp
// server byte for byte as Send writes them one at a time, with the same
// envelope and the same BODY and SMTPUTF8 parameters on MAIL FROM (each
// message's own, as composed), on one connection; without PIPELINING,
// or without 8BITMIME, nothing is chained or each is written 7bit as
// Send would. A next message that needs SMTPUTF8 the server lacks is not
// chained: its own call refuses it, and the others go.
func TestSendThenWritesTodaysBytes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		cfg   smtpcapture.Config
		chain bool // messages are chained
	}{
		{"pipelining, 8bitmime, smtputf8", smtpcapture.Config{}, true},
		{"no 8bitmime", smtpcapture.Config{HideExtensions: []string{"8BITMIME"}}, true},
		{"no smtputf8", smtpcapture.Config{NoSMTPUTF8: true}, true},
		{"no pipelining", smtpcapture.Config{HideExtensions: []string{"PIPELINING"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			today := startCapture(t, tt.cfg)
			tp := newPool(t, plainConfig(today), 1)
			var want []error
			for _, m := range chainMessages() {
				want = append(want, sendOne(t, tp, m))
			}
			chained := startCapture(t, tt.cfg)
			errs, held := sendChain(t, newPool(t, plainConfig(chained), 1), chainMessages())
			for i := range errs {
				if (errs[i] == nil) != (want[i] == nil) {
					t.Errorf("message %d: SendThen = %v, Send = %v", i, errs[i], want[i])
				}
				wantHeld := tt.chain && i+1 < len(errs) && want[i] == nil && want[i+1] == nil
				if held[i] != wantHeld {
					t.Errorf("message %d: the next one chained = %v, want %v", i, held[i], wantHeld)
				}
			}
			got, exp := chained.Messages(), today.Messages()
			if len(got) != len(exp) || len(exp) == 0 {
				t.Fatalf("chained: %d messages arrived, one at a time %d", len(got), len(exp))
			}
			for i := range exp {
				g, w := got[i], exp[i]
				if g.From != w.From || fmt.Sprint(g.To) != fmt.Sprint(w.To) || g.Body != w.Body || g.SMTPUTF8 != w.SMTPUTF8 {
					t.Errorf("message %d: envelope %q -> %q BODY=%q SMTPUTF8=%v, one at a time %q -> %q BODY=%q SMTPUTF8=%v",
						i, g.From, g.To, g.Body, g.SMTPUTF8, w.From, w.To, w.Body, w.SMTPUTF8)
				}
				if sameBytes(g.Data) != sameBytes(w.Data) {
					t.Errorf("message %d to %v: chained bytes differ from Send's:\n%s\n--- Send's:\n%s", i, w.To, g.Data, w.Data)
				}
			}
			if n := chained.Connections(); n != 1 {
				t.Errorf("chained on %d connections, want 1", n)
			}
		})
	}
}

// TestSendThenNextFailureIsTheNextOnes: a refusal of the chained
// message's RCPT (550) or MAIL (451) is read after this message's final
// reply and is the next message's outcome alone: this one is sent, the
// next one fails with the server's code, and the one after goes, on the
// same connection.
func TestSendThenNextFailureIsTheNextOnes(t *testing.T) {
	t.Parallel()
	msgs := chainMessages()
	msgs = []*send.Message{msgs[0], msgs[1], msgs[3]}
	for _, tt := range []struct {
		name string
		cfg  smtpcapture.Config
		code int
	}{
		{"RCPT refused", smtpcapture.Config{Fault: func(rcpt string) error {
			if rcpt == "zoe@example.org" {
				return smtpcapture.Reject(550, "5.1.1 no such user")
			}
			return nil
		}}, 550},
		{"MAIL refused", smtpcapture.Config{MailFault: mailFaultOnCall(2, 451)}, 451},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startCapture(t, tt.cfg)
			errs, _ := sendChain(t, newPool(t, plainConfig(srv), 1), msgs)
			if errs[0] != nil || errs[2] != nil {
				t.Errorf("first and last: %v, %v; want both sent", errs[0], errs[2])
			}
			if e := send.Classify(errs[1]); e == nil || e.Code != tt.code || e.InDoubt {
				t.Errorf("the chained message: %v, want its own %d", errs[1], tt.code)
			}
			to := arrived(srv)
			if fmt.Sprint(to) != "[ann@example.org bob@example.org]" {
				t.Errorf("arrived for %v, want ann and bob once each", to)
			}
			if n := srv.Connections(); n != 1 {
				t.Errorf("%d connections, want 1", n)
			}
		})
	}
}

// arrived lists the envelope recipients of the messages srv took, in order.
func arrived(srv *smtpcapture.Server) []string {
	var to []string
	for _, m := range srv.Messages() {
		to = append(to, m.To...)
	}
	return to
}

// mailFaultOnCall refuses the n-th MAIL FROM (1-based) with code.
func mailFaultOnCall(n int64, code int) func(string) error {
	var calls atomic.Int64
	return func(string) error {
		if calls.Add(1) == n {
			return smtpcapture.Reject(code, "4.3.2 try again")
		}
		return nil
	}
}

// TestSendThenNextNotSentAfterAll: when the chained message must not go
// after all (the caller stops: a pause, a cancel, shutdown; it Puts the
// connection, sends another message, or its ctx is done), the
// connection is closed without the chained message's data or final dot:
// the server delivers nothing of it. The message sent before it arrives
// once, and the one sent instead arrives once, on a new connection.
func TestSendThenNextNotSentAfterAll(t *testing.T) {
	t.Parallel()
	msgs := chainMessages()
	first, next, other := msgs[0], msgs[1], msgs[3]
	for _, tt := range []struct {
		name string
		then func(ctx context.Context, p *send.Pool, c *send.Conn) error // after first went with next chained
		want []string                                                    // recipients arrived
	}{
		{"connection put back", func(_ context.Context, p *send.Pool, c *send.Conn) error {
			p.Put(c)
			return nil
		}, []string{"ann@example.org"}},
		{"another message sent", func(ctx context.Context, p *send.Pool, c *send.Conn) error {
			defer p.Put(c)
			return c.SendThen(ctx, other, nil, nil)
		}, []string{"ann@example.org", "bob@example.org"}},
		{"ctx done", func(ctx context.Context, p *send.Pool, c *send.Conn) error {
			defer p.Put(c)
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := c.SendThen(ctx, next, nil, nil); !errors.Is(err, context.Canceled) {
				return fmt.Errorf("SendThen with ctx done = %v, want context.Canceled", err)
			}
			return nil
		}, []string{"ann@example.org"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startCapture(t, smtpcapture.Config{})
			p := newPool(t, plainConfig(srv), 1)
			c, err := p.Get(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.SendThen(t.Context(), first, next, nil); err != nil || !c.Chained() {
				t.Fatalf("first: %v, next chained %v; want sent, chained", err, c.Chained())
			}
			if err := tt.then(t.Context(), p, c); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			wait.For(t, 10*time.Second, "the server to see every connection closed", func() bool { return srv.Open() == 0 })
			to := arrived(srv)
			if fmt.Sprint(to) != fmt.Sprint(tt.want) {
				t.Errorf("arrived for %v, want %v (the chained message must not arrive)", to, tt.want)
			}
		})
	}
}

// TestSendThenMissingFinalReply: when this message's final reply never
// comes (the server read the data and dropped the connection), this
// message is in doubt and the chained one was not sent: the connection
// is closed, nothing chained is left on it, and the chained message, sent
// afterwards, arrives once.
func TestSendThenMissingFinalReply(t *testing.T) {
	t.Parallel()
	msgs := chainMessages()
	first, next := msgs[0], msgs[1]
	srv := startCapture(t, smtpcapture.Config{Drop: func(rcpt string) bool { return rcpt == first.To }})
	p := newPool(t, plainConfig(srv), 1)
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Put(c)
	err = c.SendThen(t.Context(), first, next, nil)
	if e := send.Classify(err); e == nil || !e.InDoubt {
		t.Fatalf("first: %v, want in doubt", err)
	}
	if !c.Broken() || c.Chained() {
		t.Fatalf("after a missing final reply: broken %v, next chained %v; want closed, nothing chained", c.Broken(), c.Chained())
	}
	if n := srv.Count(); n != 0 {
		t.Fatalf("%d messages arrived before the next was sent, want 0", n)
	}
	if err := c.SendThen(t.Context(), next, nil, nil); err != nil {
		t.Fatalf("the next message, sent on its own: %v", err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != next.To {
		t.Errorf("arrived: %d messages, want the next one once", len(msgs))
	}
}

// TestSendThen421OnChainedMAIL: a 421 to the chained message's MAIL FROM
// (a relay that ends the session after a number of messages) keeps
// Send's rule for a reused connection's first MAIL: nothing was sent, so
// it is dialled again and the message sent once, on a second connection.
func TestSendThen421OnChainedMAIL(t *testing.T) {
	t.Parallel()
	msgs := chainMessages()
	srv := startCapture(t, smtpcapture.Config{MailFault: mailFaultOnCall(2, 421)})
	errs, _ := sendChain(t, newPool(t, plainConfig(srv), 1), []*send.Message{msgs[0], msgs[1], msgs[3]})
	for i, err := range errs {
		if err != nil {
			t.Errorf("message %d: %v, want sent", i, err)
		}
	}
	to := arrived(srv)
	if fmt.Sprint(to) != "[ann@example.org zoe@example.org bob@example.org]" {
		t.Errorf("arrived for %v, want each once", to)
	}
	if n := srv.Connections(); n != 2 {
		t.Errorf("%d connections, want 2 (a redial after the 421)", n)
	}
}

// TestSendThenRefusedDataKeepsTheNext: a message whose data the server
// refuses (554 after the final dot) fails alone; the chained message's
// commands, written after its final dot, began a transaction of their
// own, which no RSET may interrupt (a relay reading that message's data
// would take it as a line of it): the next message is sent on the same
// connection, and no RSET is written.
func TestSendThenRefusedDataKeepsTheNext(t *testing.T) {
	t.Parallel()
	var finals atomic.Int64
	r := rawsmtp.Start(t, rawsmtp.Options{Final: func() (string, bool) {
		if finals.Add(1) == 1 {
			return "554 5.7.1 Rejected by content filter\r\n", false
		}
		return "250 2.0.0 Ok\r\n", false
	}})
	msgs := chainMessages()
	errs, held := sendChain(t, newPool(t, r.Config(), 1), []*send.Message{msgs[0], msgs[3]})
	if e := send.Classify(errs[0]); e == nil || e.Code != 554 || !held[0] {
		t.Fatalf("the first message: %v, next chained %v; want 554, chained", errs[0], held[0])
	}
	if errs[1] != nil {
		t.Errorf("the next message: %v, want sent", errs[1])
	}
	if got := r.Received(); got[msgs[3].To] != 1 || got[msgs[0].To] != 1 {
		t.Errorf("the relay read %v, want each message's data once", got)
	}
	for _, cmd := range r.Commands() {
		if cmd == "RSET" {
			t.Errorf("commands %q: an RSET after the chained commands", r.Commands())
			break
		}
	}
}

// TestSendThenWriteFailsAfterTheFinalDot: the message's data, its final
// dot and the next message's commands go out in one write; when the
// connection breaks after the final dot reached the server but before
// the next message's commands did (the write fails part-way), the server
// has the whole message and may deliver it: the message is in doubt, like
// one whose final reply never came, never a temporary failure that a
// retry would send a second time. The next message was not sent, and
// goes once on its own.
func TestSendThenWriteFailsAfterTheFinalDot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		size int // the write buffer: where the write fails
	}{{"the commands' write fails", 64}, {"the flush fails", 1 << 16}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msgs := chainMessages()
			first, next := msgs[0], msgs[3]
			srv := startCapture(t, smtpcapture.Config{})
			p := newPool(t, plainConfig(srv), 1)
			c, err := p.Get(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Put(c)
			send.FailWritesAfterFinalDot(c, tc.size)
			err = c.SendThen(t.Context(), first, next, nil)
			wait.For(t, 10*time.Second, "the server to see the connection closed", func() bool { return srv.Open() == 0 })
			if got := arrived(srv); fmt.Sprint(got) != "[ann@example.org]" {
				t.Fatalf("arrived for %v, want the first message (its data and final dot reached the server)", got)
			}
			if e := send.Classify(err); e == nil || !e.InDoubt || e.Temporary {
				t.Fatalf("first: %v (%+v), want in doubt: the server has the whole message", err, e)
			}
			if c.Chained() {
				t.Fatal("the next message is still chained on a broken connection")
			}
			if err := c.SendThen(t.Context(), next, nil, nil); err != nil {
				t.Fatalf("the next message, on its own: %v", err)
			}
			if got := arrived(srv); fmt.Sprint(got) != "[ann@example.org bob@example.org]" {
				t.Errorf("arrived for %v, want each message once", got)
			}
		})
	}
}

// TestSendThenOneWrite: a message's data, its final dot and the next
// message's MAIL, RCPT and DATA reach the connection in one write, for a
// message smaller and one larger than the connection's 4 KiB write
// buffer (in two writes, the small second one waits on Nagle's algorithm
// against the relay's delayed ACK: docs/benchmarks.md). The bytes are
// the message as Send writes it, then the next one's commands.
func TestSendThenOneWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		text string
	}{
		{"small", "Hello Ann,\nplease register again.\n"},
		{"larger than the write buffer", strings.Repeat("Hello Ann, please register again.\n", 400)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msgs := chainMessages()
			first, next := msgs[0], msgs[3]
			first.Text = tc.text
			var writes func() [][]byte
			srv, c := sendChained(t, first, next, func(c *send.Conn) { writes = send.RecordWrites(c) })
			cmds := "MAIL FROM:<community@altea.example> BODY=8BITMIME\r\nRCPT TO:<" + next.To + ">\r\nDATA\r\n"
			var found bool
			for _, w := range writes() {
				if i := bytes.Index(w, []byte("\r\n.\r\n")); i >= 0 {
					found = true
					if got := string(w[i+5:]); got != cmds {
						t.Errorf("the write with the final dot ends in %q, want the next message's commands %q", got, cmds)
					}
				}
			}
			if !found {
				t.Fatalf("no write holds the final dot: %q", writes())
			}
			if err := c.SendThen(t.Context(), next, nil, nil); err != nil {
				t.Fatalf("next: %v", err)
			}
			if got := arrived(srv); fmt.Sprint(got) != "[ann@example.org bob@example.org]" {
				t.Errorf("arrived for %v, want each once", got)
			}
		})
	}
}

// TestSendThenKeepsNoHugeBuffer: a message larger than any buffer kept for
// reuse (maxPooledData), sent with the next one's commands chained, does
// not leave its copy on the connection, which the pool keeps for as long
// as it lives: the room for it is given up, as the message's own buffers
// are.
func TestSendThenKeepsNoHugeBuffer(t *testing.T) {
	t.Parallel()
	msgs := chainMessages()
	first, next := msgs[0], msgs[3]
	first.Text = strings.Repeat("Hello Ann, please register again.\n", send.MaxPooledData/30)
	srv, c := sendChained(t, first, next, nil)
	if err := c.SendThen(t.Context(), next, nil, nil); err != nil {
		t.Fatalf("next: %v", err)
	}
	if n := send.HeldBuffer(c); n > send.MaxPooledData {
		t.Errorf("the connection keeps a %d-byte buffer after a %d-byte message, want at most %d", n, len(first.Text), send.MaxPooledData)
	}
	if got := arrived(srv); fmt.Sprint(got) != "[ann@example.org bob@example.org]" {
		t.Errorf("arrived for %v, want each once", got)
	}
}

// sendChained sends first with next chained on a connection to a new
// capture server (before, when not nil, is given the connection first),
// and returns the server and the connection, put back when t ends.
func sendChained(t *testing.T, first, next *send.Message, before func(*send.Conn)) (*smtpcapture.Server, *send.Conn) {
	t.Helper()
	srv := startCapture(t, smtpcapture.Config{})
	p := newPool(t, plainConfig(srv), 1)
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Put(c) })
	if before != nil {
		before(c)
	}
	if err := c.SendThen(t.Context(), first, next, nil); err != nil || !c.Chained() {
		t.Fatalf("first: %v, next chained %v; want sent, chained", err, c.Chained())
	}
	return srv, c
}
