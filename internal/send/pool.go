package send

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/textproto"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// ErrPoolClosed is returned by Get after Close.
var ErrPoolClosed = errors.New("smtp connection pool closed")

// Pool hands out up to size SMTP connections and keeps released ones open
// for reuse. It is safe for concurrent use; a Conn is not.
type Pool struct {
	cfg    Config
	cfgErr error
	client *mail.Client

	slots chan struct{} // one token per connection that may be checked out
	idle  chan *Conn

	mu     sync.Mutex
	closed bool

	noPipelining bool // for tests: never pipeline, even when offered
	no8BitMIME   bool // for tests and benchmarks: never send 8bit, even when offered
}

// NewPool returns a pool of at most size (default 1) connections to the
// server in cfg. Connections are dialled on first use. A configuration error
// is returned by every Get.
func NewPool(cfg Config, size int) *Pool {
	if size < 1 {
		size = 1
	}
	p := &Pool{slots: make(chan struct{}, size), idle: make(chan *Conn, size)}
	p.cfg, p.cfgErr = cfg.WithDefaults()
	if p.cfgErr == nil {
		p.client, p.cfgErr = newClient(p.cfg)
	}
	return p
}

func newClient(cfg Config) (*mail.Client, error) {
	opts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTimeout(cfg.Timeout),
		mail.WithTLSConfig(&tls.Config{
			ServerName:         cfg.Host,
			InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // opt-in for test servers
			MinVersion:         tls.VersionTLS12,
		}),
		// No NOOP before each message and no RSET after each accepted one:
		// both cost a round trip and buy nothing on a connection we watch
		// ourselves (see Conn.Send).
		mail.WithoutNoop(),
		mail.WithoutRset(),
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL(), mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if cfg.HeloName != "" {
		opts = append(opts, mail.WithHELO(cfg.HeloName))
	}
	if cfg.Username != "" {
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
				mail.SMTPAuthCramMD5, mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	c, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// Get returns a connected Conn, reusing an idle one when there is one. It
// blocks while size connections are checked out. Dial failures are returned
// as is (Classify them: they are temporary).
func (p *Pool) Get(ctx context.Context) (*Conn, error) {
	if p.cfgErr != nil {
		return nil, p.cfgErr
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for an SMTP connection: %w", ctx.Err())
	}
	if p.isClosed() {
		<-p.slots
		return nil, ErrPoolClosed
	}
	var c *Conn
	select {
	case c = <-p.idle:
		c.fresh = false // idle since: the server may have closed it (Send redials)
	default:
		c = &Conn{p: p}
	}
	if c.sc == nil {
		if err := c.dial(ctx); err != nil {
			<-p.slots
			return nil, err
		}
	}
	return c, nil
}

// Put returns c to the pool. A broken connection, or any connection after
// Close, is closed instead. Put(nil) does nothing.
func (p *Pool) Put(c *Conn) {
	if c == nil {
		return
	}
	defer func() { <-p.slots }()
	if c.pending != nil {
		c.drop() // the server is in DATA for a message that will not go: no final dot
	}
	if c.sc == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.quit()
		return
	}
	select {
	case p.idle <- c:
	default:
		c.quit()
	}
}

// Close closes the idle connections with QUIT and makes further Get calls
// fail; connections still checked out are closed when they are Put back.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	var errs []error
	for {
		select {
		case c := <-p.idle:
			if err := c.quit(); err != nil {
				errs = append(errs, err)
			}
		default:
			return errors.Join(errs...)
		}
	}
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Conn is one SMTP connection checked out of a Pool. It sends any number of
// messages in turn; it is not safe for concurrent use.
type Conn struct {
	p        *Pool
	sc       *smtp.Client
	fresh    bool // dialled and not used for a transaction yet
	response string

	pipelining bool   // the server offers PIPELINING (RFC 2920)
	eightBit   bool   // the server offers 8BITMIME (RFC 6152)
	smtputf8   bool   // the server offers SMTPUTF8 (RFC 6531)
	cmd        []byte // scratch space for commands
	// txs are the transactions of the message being sent and of the next
	// one (SendThen); each keeps the room of its last prepared headers
	// and List-Unsubscribe URIs for the next message it holds
	// (prepareInto).
	txs [2]tx
	// pending is the transaction whose MAIL, RCPT and DATA went out with
	// the last message's data (SendThen), their replies not read yet: the
	// server waits for its data, which only SendThen for its message
	// sends. Any other use of the connection closes it first.
	pending *tx
	chain   []byte // scratch: a message's data and the next message's commands, when chainOf finds no room after the data
}

// dialError marks errors that happened while setting up the connection;
// advice, when not empty, says what to do (tlsRefusal).
type dialError struct {
	err    error
	advice string
}

func (e *dialError) Error() string {
	if e.advice != "" {
		return "connect to SMTP server: " + e.err.Error() + "; " + e.advice
	}
	return "connect to SMTP server: " + e.err.Error()
}
func (e *dialError) Unwrap() error { return e.err }

func (c *Conn) dial(ctx context.Context) error {
	sc, err := c.p.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return &dialError{err: err, advice: tlsRefusal(err, c.p.cfg)}
	}
	c.sc, c.fresh = sc, true
	c.pipelining = !c.p.noPipelining && hasExt(sc, "PIPELINING")
	c.eightBit = !c.p.no8BitMIME && hasExt(sc, "8BITMIME")
	c.smtputf8 = hasExt(sc, "SMTPUTF8")
	return nil
}

func (c *Conn) capability() capability { return capability{eightBit: c.eightBit} }

// Broken reports whether a failure closed the connection (no reply, or a
// 421): the next Send dials again first, which against a relay that never
// greets costs Config.Timeout. Callers holding work for it give that back
// and Put it, so that the dial is made before they take more.
func (c *Conn) Broken() bool { return c.sc == nil }

// drop closes the connection without QUIT; the next Send redials.
func (c *Conn) drop() {
	c.pending = nil // a server waiting for its data gets none: nothing is delivered
	if c.sc != nil {
		_ = c.sc.Close()
		c.sc = nil
	}
}

func (c *Conn) quit() error {
	if c.pending != nil {
		c.drop() // QUIT would be read as a line of the pending message's data
	}
	if c.sc == nil {
		return nil
	}
	defer c.drop()
	// The deadline of the last transaction may have passed while idle.
	if err := c.sc.UpdateDeadline(c.p.cfg.Timeout); err != nil {
		return fmt.Errorf("quit SMTP connection: %w", err)
	}
	if err := c.sc.Quit(); err != nil {
		return fmt.Errorf("quit SMTP connection: %w", err)
	}
	return nil
}

// Response returns the server's reply to the last accepted message, e.g.
// "2.0.0 Ok: queued as 4BX2", for the ledger.
func (c *Conn) Response() string { return c.response }

// Send delivers m on this connection, dialling again first if an earlier
// failure broke it. It drives the SMTP transaction itself (MAIL, RCPT, DATA,
// no NOOP before and no RSET after each message), so it knows exactly how far
// a failed transaction got:
//
//   - nil: the server accepted the message (Response holds its reply);
//   - the server rejected it with a reply code: Classify gives the code,
//     temporary for 4xx, permanent for 5xx;
//   - the connection failed before the end of the data was sent: nothing can
//     have been delivered; Classify says temporary;
//   - the whole message was sent but no reply came (connection dropped or
//     timed out while waiting for the final reply): the server may have
//     accepted it. Classify reports InDoubt (and not Temporary): retrying could
//     deliver it twice.
//
// go-mail's own Send is not used because it reports the last two cases alike
// (IsDelivered is false and the error is "not temporary, code 0" in both), so a
// caller could not keep the at-most-once promise.
//
// When the server advertises PIPELINING (RFC 2920), MAIL, RCPT and DATA go out
// in one write and their three replies are read in order; the message data
// and its final dot go out in a second write. The outcomes above stay exact:
// a rejected MAIL or RCPT means the server refuses the DATA that followed it
// (and should it answer 354 anyway, the connection is closed before any data
// is sent), so nothing was transmitted.
//
// ctx is checked before the transaction starts; a transaction in progress is
// bounded by Config.Timeout per command rather than abandoned midway, since
// abandoning it after DATA would leave delivery in doubt.
//
// A pooled connection that the server closed while idle is detected on MAIL
// FROM (no reply, or 421) and redialled once, transparently: nothing had been
// transmitted, so the retry cannot duplicate the message.
func (c *Conn) Send(ctx context.Context, m *Message) error {
	return c.SendChecked(ctx, m, nil)
}

// SendChecked is Send with a check for callers whose right to send can end
// while a connection is dialled (a relay slow to greet holds a dial for up
// to Config.Timeout per step): check, when not nil, is called after every
// dial the call makes (a connection broken by an earlier failure, or one
// the server closed while idle) and before the transaction on the new
// connection. When it returns an error nothing has been sent, the new
// connection is kept, and SendChecked returns that error as is.
func (c *Conn) SendChecked(ctx context.Context, m *Message, check func(context.Context) error) error {
	return c.SendThen(ctx, m, nil, check)
}

// SendThen is SendChecked that, when next is not nil and the server offers
// PIPELINING, writes next's MAIL FROM, RCPT TO and DATA in the same write as
// m's data and final dot (RFC 2920, 3.1: one write a message instead of
// two). A MAIL FROM delivers nothing: the caller must hold next's claim
// already. m's outcome is exactly SendChecked's; the replies to next's
// commands are read by the next call, SendThen(ctx, next, ...), and their
// failures are next's alone. Any other use of the connection first
// (SendThen for another message, Put, a ctx done) closes it without
// next's data nor a final dot, so that the server delivers nothing of
// next: a caller that must not send next after all gives its recipient
// back and Puts the connection. After m's final reply went missing (in
// doubt) the connection is closed, and next was not sent. next is not
// chained when it is invalid, or needs SMTPUTF8 the server lacks: its own
// call reports that.
func (c *Conn) SendThen(ctx context.Context, m, next *Message, check func(context.Context) error) error {
	t := c.pending
	c.pending = nil
	if t != nil && (t.m != m || ctx.Err() != nil) {
		// The server waits for the data of a message that is not sent
		// now: close the connection without it.
		c.drop()
		t.release()
		t = nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send to %s: %w", m.To, err)
	}
	if t == nil {
		t = &c.txs[0]
		if err := t.prepare(m); err != nil {
			return err
		}
	}
	defer t.release()
	for attempt := 0; ; attempt++ {
		if c.sc == nil {
			t.sent = false
			if err := c.dial(ctx); err != nil {
				return err
			}
			if check != nil {
				if err := check(ctx); err != nil {
					return err
				}
			}
		}
		if t.p.utf8Addr != "" && !c.smtputf8 {
			return fmt.Errorf("send to %s: %w", m.To, smtputf8Error(&t.p))
		}
		// The bytes depend on what the server offers (a redialled
		// connection offers the same, normally).
		t.build(c.capability())
		var nt *tx
		if next != nil && c.pipelining {
			nt = c.other(t)
			if nt.prepare(next) != nil || nt.p.utf8Addr != "" && !c.smtputf8 {
				nt = nil
			} else {
				nt.build(c.capability())
			}
		}
		reused := !c.fresh
		c.fresh = false
		err := c.transact(t, nt)
		if cap(c.chain) > maxPooledData {
			c.chain = nil // a huge message's copy is not kept, as its own buffers are not (tx.release)
		}
		if nt != nil && c.pending != nt {
			nt.release()
		}
		if err == nil {
			return nil
		}
		var te *txError
		if errors.As(err, &te) && te.stage == stageMail && te.closing() && reused && attempt == 0 {
			c.drop()
			continue
		}
		c.afterFailure(err)
		return fmt.Errorf("send to %s: %w", m.To, err)
	}
}

// envelope is the SMTP envelope of a message: the arguments of MAIL FROM
// (with its parameters, e.g. " BODY=8BITMIME") and RCPT TO.
type envelope struct {
	from, to string // as written between the angle brackets (bracketAddr)
	params   string
}

// mailParams returns MAIL FROM's parameters for a message written in 8bit
// (eightBit) or needing SMTPUTF8 (utf8), each preceded by a space: one of
// four constants, so that a message does not build them.
func mailParams(eightBit, utf8 bool) string {
	switch {
	case eightBit && utf8:
		return " BODY=8BITMIME SMTPUTF8"
	case eightBit:
		return " BODY=8BITMIME"
	case utf8:
		return " SMTPUTF8"
	}
	return ""
}

// finalReplyTimeout is how long to wait for the reply to the end of data
// (RFC 5321, 4.5.3.2.6: 10 minutes).
const finalReplyTimeout = 10 * time.Minute

// Transaction stages, for errors.
const (
	stageConn  = "connection"
	stageMail  = "MAIL FROM"
	stageRcpt  = "RCPT TO"
	stageData  = "DATA"
	stageBody  = "message data"
	stageReply = "final reply"
)

// txError is a failed transaction: the stage it reached and the cause.
type txError struct {
	stage string
	err   error
}

func (e *txError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *txError) Unwrap() error { return e.err }

// replied reports whether the server answered with an SMTP reply.
func (e *txError) replied() bool {
	var te *textproto.Error
	return errors.As(e.err, &te)
}

// closing reports whether the server closed the connection: no reply, or
// 421 (service closing, e.g. after an idle timeout).
func (e *txError) closing() bool {
	var te *textproto.Error
	return !errors.As(e.err, &te) || te.Code == 421
}

// inDoubt reports whether the message was sent completely but its fate is
// unknown.
func (e *txError) inDoubt() bool { return e.stage == stageReply && !e.replied() }

// afterFailure keeps the connection when the server answered with an SMTP
// reply (the session is intact; RSET clears the transaction) and drops it
// otherwise.
func (c *Conn) afterFailure(err error) {
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code == 421 || c.sc == nil {
		c.drop()
		return
	}
	if c.pending != nil {
		// The final reply failed; the next message's commands went out
		// after the data and start a transaction of their own: an RSET
		// now would be read as a line of its data.
		return
	}
	if rerr := c.sc.Reset(); rerr != nil {
		c.drop()
	}
}

func hasExt(sc *smtp.Client, ext string) bool {
	ok, _ := sc.Extension(ext)
	return ok
}

// transact runs one mail transaction for t; when next is not nil, next's
// MAIL, RCPT and DATA go out in the same write as t's data and final dot,
// and next becomes the pending transaction (SendThen). When t.sent, t's
// commands went out with the previous message's data: only their replies
// are read.
func (c *Conn) transact(t, next *tx) error {
	c.response = ""
	if err := c.sc.UpdateDeadline(c.p.cfg.Timeout); err != nil {
		return &txError{stageConn, err}
	}
	text := c.sc.Text
	w := text.W

	switch {
	case t.sent:
		if err := c.replies(); err != nil {
			return err
		}
	case c.pipelining:
		c.cmd, _, _ = t.env.commands(c.cmd[:0])
		if err := c.pipeline(); err != nil {
			return err
		}
	default:
		var mailEnd, rcptEnd int
		c.cmd, mailEnd, rcptEnd = t.env.commands(c.cmd[:0])
		steps := [...]struct {
			stage  string
			cmd    []byte
			expect int
		}{
			{stageMail, c.cmd[:mailEnd], 250},
			{stageRcpt, c.cmd[mailEnd:rcptEnd], 25},
			{stageData, c.cmd[rcptEnd:], 354},
		}
		for _, s := range steps {
			if _, err := w.Write(s.cmd); err != nil {
				return &txError{s.stage, err}
			}
			if err := w.Flush(); err != nil {
				return &txError{s.stage, err}
			}
			if err := readReplyCode(&text.Reader, s.expect); err != nil {
				return c.replyError(s.stage, s.expect, err)
			}
		}
	}

	// The data and the final dot in one write (with the next message's
	// commands). A failure to write means the final dot may not have gone
	// out: not delivered; only a missing reply after it means "in doubt".
	// Each command has its own deadline.
	if err := c.sc.UpdateDeadline(c.p.cfg.Timeout); err != nil {
		return &txError{stageBody, err}
	}
	if next == nil {
		if _, err := w.Write(t.body); err != nil {
			return &txError{stageBody, err}
		}
	} else {
		// One buffer, so one write(2): with the data in one write and
		// the commands in another, the server answers the final dot
		// before it reads the commands, and its second small reply
		// waits for our ACK (Nagle's algorithm against delayed ACK):
		// a stall on every message.
		c.cmd, _, _ = next.env.commands(c.cmd[:0])
		var chain []byte
		chain, c.chain = chainOf(t.body, c.cmd, c.chain)
		if n, err := w.Write(chain); err != nil {
			return c.chainWriteError(err, len(chain)-n)
		}
	}
	if err := w.Flush(); err != nil {
		if next != nil {
			return c.chainWriteError(err, 0)
		}
		return &txError{stageBody, err}
	}
	if next != nil {
		next.sent = true
		c.pending = next // closing the connection from here on sends it no data
	}
	// Servers may scan the message before they answer; a reply that comes
	// after our deadline would make the message in doubt, so wait as long as
	// RFC 5321 (4.5.3.2.6) asks for the end of data.
	if err := c.sc.UpdateDeadline(max(c.p.cfg.Timeout, finalReplyTimeout)); err != nil {
		return &txError{stageBody, err}
	}
	// Any 2xx is success (RFC 5321 4.2.1): a relay answering 251 took the
	// message, and must not be sent it again.
	resp, err := readReply(&text.Reader, 2)
	if err != nil {
		return &txError{stageReply, err}
	}
	c.response = resp
	if next == nil && text.R.Buffered() > 0 {
		// More than the reply: the next command would read what is left
		// as its own reply (a relay that answered twice). The message
		// is sent; the connection is out of step, close it. (With the
		// next message's commands out, their replies may be buffered
		// already: a second reply then shows as DATA's not being 354.)
		c.drop()
	}
	return nil
}

// chainWriteError is the error of a write that failed after a message's
// data, while the next message's commands (c.cmd) chained after its final
// dot were being written; uncopied is how many bytes of them the writer
// never took. The bytes that did not reach the connection are the last
// ones: when they are within the commands, the message's data and its
// final dot went out, and the server may deliver it (RFC 5321 4.1.1.4):
// the message is in doubt, as when its final reply is missing, never a
// temporary failure that a retry would send again. Otherwise its final dot
// did not go out: nothing was delivered.
func (c *Conn) chainWriteError(err error, uncopied int) error {
	if c.sc.Text.W.Buffered()+uncopied <= len(c.cmd) {
		return &txError{stageReply, fmt.Errorf("the message and its final dot were written, the next message's commands after them were not: %w", err)}
	}
	return &txError{stageBody, err}
}

// pipeline sends MAIL, RCPT and DATA (in c.cmd) in one write and reads
// their three replies in order. It returns nil when DATA was answered 354,
// else the first failure.
func (c *Conn) pipeline() error {
	text := c.sc.Text
	if _, err := text.W.Write(c.cmd); err != nil {
		return &txError{stageMail, err}
	}
	if err := text.W.Flush(); err != nil {
		return &txError{stageMail, err}
	}
	return c.replies()
}

// replies reads the replies to MAIL, RCPT and DATA, in order. It returns
// nil when DATA was answered 354, else the first failure.
func (c *Conn) replies() error {
	text := c.sc.Text
	steps := [...]struct {
		stage  string
		expect int
	}{{stageMail, 250}, {stageRcpt, 25}, {stageData, 354}}
	var first error
	for _, s := range steps {
		err := readReplyCode(&text.Reader, s.expect)
		if err == nil {
			if s.stage == stageData && first != nil {
				// MAIL or RCPT failed but DATA was accepted (a server
				// that breaks RFC 2920): it waits for data that must not
				// be sent. Close the connection: without a final dot
				// nothing is delivered.
				c.drop()
			}
			continue
		}
		e := c.replyError(s.stage, s.expect, err)
		if c.sc == nil {
			// Out of step (replyError closed the connection): no reply
			// can be trusted, whatever came before.
			return e
		}
		if first == nil {
			first = e
		}
		var te *textproto.Error
		if !errors.As(err, &te) {
			// No reply: the connection is broken; later replies will not
			// come either.
			return first
		}
	}
	return first
}
