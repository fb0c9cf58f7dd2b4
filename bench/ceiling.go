package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// The ceiling is what the wire allows: a bare sender that replays
// pre-rendered messages to the same smtp-sink over the same number of
// connections, with the same SMTP exchange as tidings' send package
// (MAIL, RCPT and DATA pipelined in one write, the data and its final dot in
// a second write, the final reply awaited before the next message), and
// nothing else: no rendering, no MIME, no Redis, no queue.

// wireMessage is one pre-rendered message as the bare sender writes it.
type wireMessage struct {
	cmds []byte // "MAIL FROM:<..>[ BODY=8BITMIME]\r\nRCPT TO:<..>\r\nDATA\r\n"
	data []byte // dot-stuffed content and the final ".\r\n"
}

// poolIndexes returns which recipients of an n-recipient campaign make the
// ceiling's pool of about k messages: blocks of mixPeriod consecutive
// recipients (each block holds the bench's language mix exactly once) spread
// evenly over the campaign, so that the pool has the campaign's language mix
// and, within a few bytes, its sizes (ids and addresses grow with i). When
// k >= n the pool is the whole campaign.
func poolIndexes(n, k int) []int {
	if k >= n || k < mixPeriod {
		k = n
	}
	if k == n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	blocks := k / mixPeriod
	span := n / mixPeriod // whole blocks in the campaign
	idx := make([]int, 0, blocks*mixPeriod)
	for b := range blocks {
		start := (b * span / blocks) * mixPeriod
		for i := start; i < start+mixPeriod; i++ {
			idx = append(idx, i)
		}
	}
	return idx
}

// prepareCeiling renders and composes the messages of recipients idx of
// the campaign in campFile (campaign name name) with tidings' own render
// engine and send.Composer, and sends them with tidings' send package to an
// in-process capture server that announces what smtp-sink announces
// (PIPELINING and 8BITMIME, no SMTPUTF8): what it receives is what tidings
// puts on the wire to smtp-sink, transfer encodings included.
func prepareCeiling(ctx context.Context, campFile, name string, idx []int) ([]wireMessage, error) {
	msgs, _, err := prepareCeilingCaptured(ctx, campFile, name, idx)
	return msgs, err
}

// prepareCeilingCaptured is prepareCeiling that also returns the messages as
// the capture server received them.
func prepareCeilingCaptured(ctx context.Context, campFile, name string, idx []int) ([]wireMessage, []smtpcapture.Message, error) {
	raw, err := os.ReadFile(campFile)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare the ceiling's messages: %w", err)
	}
	c, err := campaign.Parse(raw, campFile)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare the ceiling's messages: %w", err)
	}
	eng, err := render.New(render.Config{
		Templates: os.DirFS(c.Path(c.TemplatesDir)), Locales: os.DirFS(c.Path(c.LocalesDir)),
		Template: c.Template, DefaultLocale: c.DefaultLocale,
		Policy: render.Policy{Aliases: c.LocalePolicy.Aliases, MissingLocale: c.LocalePolicy.MissingLocale},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("prepare the ceiling's messages: %w", err)
	}
	comp, err := send.NewComposer(send.ComposerConfig{Campaign: name, From: c.From, ReplyTo: c.ReplyTo, ListUnsubscribe: c.ListUnsubscribe})
	if err != nil {
		return nil, nil, fmt.Errorf("prepare the ceiling's messages: %w", err)
	}
	srv, err := smtpcapture.Start(ctx, smtpcapture.Config{NoSMTPUTF8: true})
	if err != nil {
		return nil, nil, fmt.Errorf("prepare the ceiling's messages: %w", err)
	}
	defer srv.Close()
	pool := send.NewPool(send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}, 1)
	defer pool.Close()
	conn, err := pool.Get(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare the ceiling's messages: %w", err)
	}
	for _, i := range idx {
		r := recipientAt(i)
		m, err := eng.Resolve(r.locale)
		if err != nil {
			return nil, nil, fmt.Errorf("prepare the ceiling's messages: recipient %s: %w", r.id, err)
		}
		out, err := eng.Render(m, render.Data{ID: r.id, Email: r.email, Name: r.name, Campaign: name,
			Fields: map[string]string{"posts": r.posts}, Data: c.Data})
		if err != nil {
			return nil, nil, fmt.Errorf("prepare the ceiling's messages: recipient %s: %w", r.id, err)
		}
		msg := comp.Message(r.id, r.email, r.name, send.Content{Lang: out.Lang, Subject: out.Subject, Text: out.Text, HTML: out.HTML}, time.Now())
		if err := conn.Send(ctx, msg); err != nil {
			return nil, nil, fmt.Errorf("prepare the ceiling's messages: %w", err)
		}
	}
	pool.Put(conn)
	got := srv.Messages()
	if len(got) != len(idx) {
		return nil, nil, fmt.Errorf("prepare the ceiling's messages: captured %d of %d", len(got), len(idx))
	}
	msgs := make([]wireMessage, len(got))
	for i, m := range got {
		msgs[i] = toWire(m)
	}
	return msgs, got, nil
}

// toWire turns a captured message back into what its sender wrote: the
// envelope commands with their parameters, and the data dot-stuffed (the
// capture server removed the stuffing, and kept CRLF line ends).
func toWire(m smtpcapture.Message) wireMessage {
	var cmds []byte
	cmds = append(append(append(cmds, "MAIL FROM:<"...), m.From...), '>')
	if m.Body != "" {
		cmds = append(append(cmds, " BODY="...), m.Body...)
	}
	if m.SMTPUTF8 {
		cmds = append(cmds, " SMTPUTF8"...)
	}
	cmds = append(cmds, "\r\n"...)
	for _, to := range m.To {
		cmds = append(append(append(cmds, "RCPT TO:<"...), to...), ">\r\n"...)
	}
	cmds = append(cmds, "DATA\r\n"...)
	return wireMessage{cmds: cmds, data: dotStuff(m.Data)}
}

// dotStuff returns data as SMTP DATA content (RFC 5321 4.5.2): a '.' added
// to every line that starts with one, the last line ended, then ".\r\n".
func dotStuff(data []byte) []byte {
	out := make([]byte, 0, len(data)+16)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		if line[0] == '.' {
			out = append(out, '.')
		}
		out = append(out, line...)
		data = data[len(line):]
	}
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, "\r\n"...)
	}
	return append(out, ".\r\n"...)
}

// ceilingResult is one run of the bare sender.
type ceilingResult struct {
	Conns    int
	Sent     int
	Elapsed  time.Duration // first command to last final reply
	Steady   float64       // msg/s between 10% and 90% of the messages
	CPU      time.Duration // of this process, getrusage
	BytesOut int64         // counted by the sender: commands and data written
	BytesIn  int64         // replies read
	Writes   int64         // write calls, the greetings' included
}

// bareSender is the ceiling's sender: conns connections to one SMTP
// server, set up before the timed run.
type bareSender struct {
	conns []*bareConn
	// chain writes each message's data and the next message's MAIL, RCPT
	// and DATA in one write (RFC 2920, 3.1: the message's content may
	// start a group of pipelined commands): one write a message instead of
	// two, as tidings' workers do within a claim window (the default;
	// -ceiling-chain=false gives the two-write ceiling of earlier records).
	chain bool
}

type bareConn struct {
	c      net.Conn
	r      *bufio.Reader
	in     int64 // bytes read
	out    int64 // bytes written
	writes int64 // write calls
	buf    []byte
}

// dialBare opens conns connections to addr and greets the server (EHLO); the
// server must offer PIPELINING.
func dialBare(ctx context.Context, addr string, conns int) (*bareSender, error) {
	s := &bareSender{}
	var d net.Dialer
	for range conns {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("bare sender: %w", err)
		}
		bc := &bareConn{c: c, r: bufio.NewReaderSize(c, 4096)}
		s.conns = append(s.conns, bc)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := bc.reply(); err != nil {
			s.close()
			return nil, fmt.Errorf("bare sender: greeting: %w", err)
		}
		if err := bc.write([]byte("EHLO bench.invalid\r\n")); err != nil {
			s.close()
			return nil, fmt.Errorf("bare sender: %w", err)
		}
		code, text, err := bc.reply()
		if err == nil && code != 250 {
			err = fmt.Errorf("EHLO: %d %s", code, text)
		}
		if err == nil && !strings.Contains(text, "PIPELINING") {
			err = errors.New("the server does not offer PIPELINING")
		}
		if err != nil {
			s.close()
			return nil, fmt.Errorf("bare sender: %w", err)
		}
		_ = c.SetDeadline(time.Time{})
	}
	return s, nil
}

func (bc *bareConn) write(b []byte) error {
	n, err := bc.c.Write(b)
	bc.out += int64(n)
	bc.writes++
	return err
}

// reply reads one (possibly multi-line) SMTP reply; text joins the lines.
func (bc *bareConn) reply() (code int, text string, err error) {
	var lines []string
	for {
		line, err := bc.r.ReadSlice('\n')
		bc.in += int64(len(line))
		if err != nil {
			return 0, "", fmt.Errorf("read reply: %w", err)
		}
		if len(line) < 5 {
			return 0, "", fmt.Errorf("read reply: short line %q", line)
		}
		code, err = strconv.Atoi(string(line[:3]))
		if err != nil {
			return 0, "", fmt.Errorf("read reply %q: %w", line, err)
		}
		lines = append(lines, strings.TrimRight(string(line[4:]), "\r\n"))
		if line[3] != '-' {
			return code, strings.Join(lines, "\n"), nil
		}
	}
}

// expect reads one reply and fails unless its code is want. It allocates
// nothing on success: the bare sender does no more work than it must.
func (bc *bareConn) expect(want int) error {
	for {
		line, err := bc.r.ReadSlice('\n')
		bc.in += int64(len(line))
		if err != nil {
			return fmt.Errorf("read reply: %w", err)
		}
		if len(line) < 4 || line[0] < '0' || line[0] > '9' || line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' {
			return fmt.Errorf("read reply: malformed line %q", line)
		}
		if code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0'); code != want {
			return fmt.Errorf("got %q, want %d", bytes.TrimRight(line, "\r\n"), want)
		}
		if line[3] != '-' {
			return nil
		}
	}
}

// run sends n messages, message j being msgs[j % len(msgs)], over every
// connection at once: each connection takes the next message as soon as its
// last one was accepted.
func (s *bareSender) run(ctx context.Context, n int, msgs []wireMessage) (ceilingResult, error) {
	var next, done atomic.Int64
	var t10, t90 atomic.Int64 // unix nanoseconds when 10% and 90% were accepted
	at10, at90 := int64(max(1, n/10)), int64(max(1, n*9/10))
	errs := make([]error, len(s.conns))
	// A server that stops answering must not hold the bench past its
	// timeout: closing the connections ends blocked reads.
	stop := context.AfterFunc(ctx, func() {
		for _, bc := range s.conns {
			_ = bc.c.Close()
		}
	})
	defer stop()
	cpu0 := selfCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for ci, bc := range s.conns {
		wg.Go(func() {
			j := next.Add(1) - 1
			var err error
			if j < int64(n) {
				err = bc.write(msgs[j%int64(len(msgs))].cmds)
			}
			for ctx.Err() == nil && err == nil && j < int64(n) {
				m := &msgs[j%int64(len(msgs))]
				for _, want := range []int{250, 250, 354} {
					if err == nil {
						err = bc.expect(want)
					}
				}
				following := next.Add(1) - 1
				if err == nil {
					if s.chain && following < int64(n) {
						bc.buf = append(append(bc.buf[:0], m.data...), msgs[following%int64(len(msgs))].cmds...)
						err = bc.write(bc.buf)
					} else {
						err = bc.write(m.data)
					}
				}
				if err == nil {
					err = bc.expect(250)
				}
				if err != nil {
					break
				}
				switch d := done.Add(1); d {
				case at10:
					t10.Store(time.Now().UnixNano())
				case at90:
					t90.Store(time.Now().UnixNano())
				}
				if !s.chain && following < int64(n) {
					err = bc.write(msgs[following%int64(len(msgs))].cmds)
				}
				j = following
			}
			if err != nil {
				errs[ci] = fmt.Errorf("bare sender: message %d: %w", j, err)
			}
		})
	}
	wg.Wait()
	res := ceilingResult{Conns: len(s.conns), Sent: int(done.Load()), Elapsed: time.Since(start), CPU: selfCPU() - cpu0}
	for _, bc := range s.conns {
		res.BytesOut += bc.out
		res.BytesIn += bc.in
		res.Writes += bc.writes
	}
	if a, b := t10.Load(), t90.Load(); b > a && a > 0 {
		res.Steady = float64(at90-at10) / (float64(b-a) / 1e9)
	}
	if err := ctx.Err(); err != nil { // the connections were closed under the sender
		return res, fmt.Errorf("bare sender: %w", err)
	}
	return res, errors.Join(errs...)
}

// close ends every connection with QUIT.
func (s *bareSender) close() {
	for _, bc := range s.conns {
		_ = bc.c.SetDeadline(time.Now().Add(5 * time.Second))
		if bc.write([]byte("QUIT\r\n")) == nil {
			_, _, _ = bc.reply()
		}
		_ = bc.c.Close()
	}
	s.conns = nil
}
