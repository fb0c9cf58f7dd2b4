// Package smtpcapture is an in-process SMTP server that captures every message
// it accepts, in memory and optionally as .eml files, with per-recipient fault
// injection.
//
// It backs `tidings rehearse` and `tidings demo` (nothing leaves the machine)
// and the tests of every package that sends mail: a real SMTP server on
// loopback, not a mock of the client. It is built on github.com/emersion/go-smtp.
package smtpcapture

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Config configures a capture server. The zero value is a plain, open server
// that keeps every message in memory.
type Config struct {
	// Dir, when set, receives every accepted message as <n>-<rcpt>.eml, where
	// n is the 1-based acceptance sequence number (zero-padded) and rcpt the
	// first recipient reduced to a safe file name. The file is written before
	// the server answers 250, so a client that saw acceptance finds the file.
	Dir string

	// Fault, when set, is called for every RCPT TO. A non-nil error rejects
	// that recipient: an error made with Reject (or any *smtp.SMTPError) is
	// answered with its code; ErrDropConnection closes the connection without
	// a reply (the client sees a dropped connection before sending any data);
	// any other error is answered with 451 4.0.0.
	Fault func(rcpt string) error

	// MailFault, when set, is called for every MAIL FROM with the sender
	// ("" for the null sender <>). A non-nil error refuses the transaction,
	// answered as Fault's are (Reject gives the code): a server's policy on
	// senders, checked after AUTH is (Username).
	MailFault func(from string) error

	// Drop, when set, is called during DATA for every recipient of the
	// message; if it returns true for any of them, the server reads the whole
	// message and closes the connection abruptly instead of replying. The
	// message is not captured, but the client cannot know that: for it the
	// delivery is in doubt.
	Drop func(rcpt string) bool

	// Username and Password, when Username is set, enable AUTH PLAIN and make
	// it mandatory before MAIL FROM. AUTH is allowed without TLS.
	Username, Password string

	// AuthOptional, with Username, offers AUTH but takes mail without it,
	// as a relay that relays for its own network does.
	AuthOptional bool

	// StartTLS enables the STARTTLS extension with a self-signed certificate
	// for 127.0.0.1 and localhost (clients must skip verification or trust
	// CertPool).
	StartTLS bool

	// Certificate, when set, is the certificate the server presents
	// (STARTTLS, or ImplicitTLS) instead of the self-signed one for
	// 127.0.0.1 and localhost: a test makes one for the names it needs
	// (SelfSigned; CertPool is then nil). It implies StartTLS unless
	// ImplicitTLS is set.
	Certificate *tls.Certificate

	// ImplicitTLS makes the server speak TLS from the first byte (SMTPS,
	// as on port 465) instead of offering STARTTLS, with Certificate or
	// the self-signed certificate StartTLS uses.
	ImplicitTLS bool

	// HideExtensions lists EHLO keywords ("PIPELINING", "8BITMIME",
	// "SIZE", ...) the server does not announce, as a server without them
	// would not; it still takes their parameters if a client gives them.
	// Only the announcement is changed, and only on a connection without
	// TLS: the capture server cannot rewrite what it encrypts, so Start
	// refuses HideExtensions with StartTLS, Certificate or ImplicitTLS.
	HideExtensions []string

	// MaxMessageBytes limits the size of a message (0: 32 MiB).
	MaxMessageBytes int64

	// IdleTimeout closes a connection that sends nothing for this long
	// (default 5 minutes).
	IdleTimeout time.Duration

	// DiscardData keeps only envelope and time in memory (Message.Data is
	// nil); use it for long runs where Dir holds the messages or nothing needs
	// them.
	DiscardData bool

	// NoSMTPUTF8 stops the server from offering SMTPUTF8 (RFC 6531), as many
	// servers do not: MAIL FROM with the SMTPUTF8 parameter is refused.
	NoSMTPUTF8 bool

	// MaxLineLength, when set, makes the server refuse a message with a
	// line longer than this many bytes, CRLF included (554), and a longer
	// command (500, closing the connection), as strict servers do: 1000
	// enforces RFC 5322's 998 characters a line.
	MaxLineLength int
}

// Message is one message the server accepted.
type Message struct {
	Seq  int64 // 1-based acceptance sequence number
	From string
	To   []string
	Data []byte
	At   time.Time
	// Body is the BODY parameter of MAIL FROM ("8BITMIME", "7BIT"), ""
	// when the client gave none.
	Body string
	// SMTPUTF8 is set when MAIL FROM had the SMTPUTF8 parameter.
	SMTPUTF8 bool
}

// FileName is the name of m's file in Config.Dir: <seq>-<first recipient
// as a safe name>.eml.
func FileName(m Message) string {
	return fmt.Sprintf("%06d-%s.eml", m.Seq, SafeName(m.To[0]))
}

// Server is a running capture server. It is safe for concurrent use.
type Server struct {
	cfg    Config
	srv    *smtp.Server
	ln     net.Listener
	done   chan struct{}
	pool   *x509.CertPool
	stop   func() bool
	closed atomic.Bool

	seq   atomic.Int64 // sequence numbers handed out (accepted messages)
	conns atomic.Int64 // connections accepted
	open  atomic.Int64 // connections open

	mu   sync.Mutex
	msgs []Message
}

// ErrDropConnection, returned by Config.Fault, makes the server close the
// connection at RCPT TO without replying.
var ErrDropConnection = errors.New("smtpcapture: drop connection")

// Reject returns an error that makes the server answer with code and msg, for
// use in Config.Fault: Reject(550, "no such user") is permanent, Reject(451,
// "try later") temporary. An enhanced status code at the start of msg
// ("5.1.1 no such user") is used as such; otherwise it is derived from the
// class (5.0.0, 4.0.0).
func Reject(code int, msg string) error {
	ec := smtp.EnhancedCode{code / 100, 0, 0}
	if first, rest, ok := strings.Cut(msg, " "); ok {
		var a, b, c int
		if n, err := fmt.Sscanf(first, "%d.%d.%d", &a, &b, &c); err == nil && n == 3 && a == code/100 {
			ec, msg = smtp.EnhancedCode{a, b, c}, rest
		}
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
}

// Start listens on 127.0.0.1 on a free port and serves until Close is called
// or ctx is done.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 32 << 20
	}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("create capture directory: %w", err)
		}
	}

	s := &Server{cfg: cfg, done: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = 1000
	srv.AllowInsecureAuth = true
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	srv.ReadTimeout = cfg.IdleTimeout
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = !cfg.NoSMTPUTF8
	if cfg.MaxLineLength > 0 {
		srv.MaxLineLength = cfg.MaxLineLength
	}
	tlsOn := cfg.StartTLS || cfg.Certificate != nil || cfg.ImplicitTLS
	if len(cfg.HideExtensions) > 0 && tlsOn {
		return nil, errors.New("smtpcapture: HideExtensions works only without TLS")
	}
	switch {
	case cfg.Certificate != nil:
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cfg.Certificate}, MinVersion: tls.VersionTLS12}
	case tlsOn:
		tc, pool, err := selfSigned()
		if err != nil {
			return nil, fmt.Errorf("create TLS certificate: %w", err)
		}
		srv.TLSConfig = tc
		s.pool = pool
	}
	s.srv = srv

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for SMTP: %w", err)
	}
	s.ln = ln
	var serve net.Listener = &countingListener{Listener: ln, s: s}
	if cfg.ImplicitTLS {
		// go-smtp offers STARTTLS while its TLSConfig is set and the
		// connection is not TLS yet; on a TLS listener it knows it is.
		serve = tls.NewListener(serve, srv.TLSConfig)
	}
	go func() {
		defer close(s.done)
		_ = srv.Serve(serve) // returns smtp.ErrServerClosed on Close
	}()
	s.stop = context.AfterFunc(ctx, func() { _ = s.Close() })
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the IP address the server listens on (127.0.0.1).
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// CertPool returns a pool that trusts the server's certificate when
// Config.StartTLS is set, else nil.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Messages returns a copy of the list of accepted messages, in acceptance
// order. The Data slices are shared and must not be modified.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// Count returns the number of accepted messages.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Connections returns the number of SMTP connections accepted so far.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Open returns the number of SMTP connections currently open.
func (s *Server) Open() int { return int(s.open.Load()) }

// Close stops the server and closes every open connection. It is safe to
// call more than once.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		<-s.done
		return nil
	}
	if s.stop != nil {
		s.stop()
	}
	err := s.srv.Close()
	// go-smtp's Close closes only the listeners its Serve has registered:
	// when Close comes before the serving goroutine got that far, Serve
	// would then accept for ever. Closing the listener here as well makes
	// that Serve's first Accept fail, and it returns (Close marked the
	// server done).
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	<-s.done
	if err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close SMTP server: %w", err)
	}
	return nil
}

func (s *Server) store(ss *session, to []string, data []byte) error {
	m := Message{Seq: s.seq.Add(1), From: ss.from, To: to, At: time.Now(), Body: ss.body, SMTPUTF8: ss.utf8}
	if s.cfg.Dir != "" {
		if err := os.WriteFile(filepath.Join(s.cfg.Dir, FileName(m)), data, 0o600); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store message"}
		}
	}
	if !s.cfg.DiscardData {
		m.Data = data
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	return nil
}

// SafeName reduces an address to a file-name-safe string: letters, digits and
// "@._+-" are kept, everything else becomes "_", and the result is at most 100
// bytes long and never starts with a dot.
func SafeName(addr string) string {
	var b strings.Builder
	for _, r := range addr {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '@', r == '.', r == '_', r == '+', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	out := b.String()
	if out == "" || out[0] == '.' {
		out = "_" + out
	}
	return out
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	authed bool
	from   string
	body   string // MAIL FROM BODY=
	utf8   bool   // MAIL FROM SMTPUTF8
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.cfg.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.cfg.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) ||
			username != ss.s.cfg.Username || password != ss.s.cfg.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.cfg.Username != "" && !ss.authed && !ss.s.cfg.AuthOptional {
		return smtp.ErrAuthRequired
	}
	if f := ss.s.cfg.MailFault; f != nil {
		if err := f(from); err != nil {
			return err
		}
	}
	ss.from = from
	ss.body, ss.utf8 = "", false
	if opts != nil {
		ss.body, ss.utf8 = string(opts.Body), opts.UTF8
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := ss.s.cfg.Fault; f != nil {
		if err := f(to); err != nil {
			if errors.Is(err, ErrDropConnection) {
				_ = ss.conn.Conn().Close()
			}
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err // go-smtp answers 552 for too-large messages
	}
	if d := ss.s.cfg.Drop; d != nil {
		for _, rcpt := range ss.to {
			if d(rcpt) {
				_ = ss.conn.Conn().Close()
				return ErrDropConnection
			}
		}
	}
	to := make([]string, len(ss.to))
	copy(to, ss.to)
	return ss.s.store(ss, to, data)
}

func (ss *session) Reset() {
	ss.from, ss.body, ss.utf8 = "", "", false
	ss.to = ss.to[:0]
}

func (ss *session) Logout() error { return nil }

func selfSigned() (*tls.Config, *x509.CertPool, error) {
	cert, pool, err := SelfSigned("localhost", "127.0.0.1")
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}, pool, nil
}

// SelfSigned returns a new self-signed server certificate for names (host
// names, or IP addresses as text), valid from an hour ago for a day, and a
// pool that trusts it: for Config.Certificate, e.g. one for another host
// than the one a client dials.
func SelfSigned(names ...string) (*tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtpcapture"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool, nil
}

// countingListener counts accepted and open connections.
type countingListener struct {
	net.Listener
	s *Server
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.conns.Add(1)
	l.s.open.Add(1)
	var conn net.Conn = &countedConn{Conn: c, s: l.s}
	if hide := l.s.cfg.HideExtensions; len(hide) > 0 {
		conn = &hidingConn{Conn: conn, hide: hide}
	}
	return conn, nil
}

// hidingConn leaves the keywords of hide out of the server's EHLO reply.
// go-smtp writes (and flushes) a reply line by line, so each Write is one
// line; a "250-" line is held until the next arrives, since it becomes
// the reply's last ("250 ") when every line after it is hidden.
type hidingConn struct {
	net.Conn
	hide    []string
	pending []byte // a "250-" line not written yet
}

func (c *hidingConn) Write(p []byte) (int, error) {
	more := bytes.HasPrefix(p, []byte("250-"))
	if !more && (c.pending == nil || !bytes.HasPrefix(p, []byte("250 "))) {
		return c.Conn.Write(p)
	}
	keyword, _, _ := strings.Cut(strings.TrimSpace(string(p[4:])), " ")
	var out []byte
	switch hidden := slices.ContainsFunc(c.hide, func(h string) bool { return strings.EqualFold(h, keyword) }); {
	case hidden && more:
		return len(p), nil
	case hidden: // the last line: the held one ends the reply
		out = c.pending
		out[3] = ' '
	case more:
		out = c.pending
		c.pending = slices.Clone(p)
		if out == nil {
			return len(p), nil
		}
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	default:
		out = append(c.pending, p...)
	}
	c.pending = nil
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

type countedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.s.open.Add(-1) })
	return c.Conn.Close()
}
