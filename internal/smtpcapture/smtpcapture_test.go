package smtpcapture_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

func start(t *testing.T, cfg smtpcapture.Config) *smtpcapture.Server {
	t.Helper()
	s, err := smtpcapture.Start(context.WithoutCancel(t.Context()), cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func body(to string) []byte {
	return []byte("From: a@example.org\r\nTo: " + to + "\r\nSubject: hi\r\n\r\nhello " + to + "\r\n")
}

func TestCapturesViaNetSMTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := start(t, smtpcapture.Config{Dir: dir})
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org", "c@example.org"}, body("b@example.org")); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"../../evil/x@example.org"}, body("x")); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || s.Count() != 2 {
		t.Fatalf("captured %d (Count %d), want 2", len(msgs), s.Count())
	}
	m := msgs[0]
	if m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.org,c@example.org" ||
		!strings.Contains(string(m.Data), "hello b@example.org") || m.At.IsZero() {
		t.Errorf("message = %+v", m)
	}
	names := fixture.Names(t, dir)
	want := []string{"000001-b@example.org.eml", "000002-_.._.._evil_x@example.org.eml"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("files = %v, want %v", names, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, want[0]))
	if err != nil || string(data) != string(m.Data) {
		t.Errorf("file content differs from captured data (%v)", err)
	}
}

func TestSafeName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"b@example.org":          "b@example.org",
		"../x":                   "_.._x",
		"a/b\\c d\x00e":          "a_b_c_d_e",
		"zoë@example.org":        "zo_@example.org",
		"":                       "_",
		strings.Repeat("a", 300): strings.Repeat("a", 100),
	}
	for in, want := range tests {
		if got := smtpcapture.SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	s := start(t, smtpcapture.Config{
		Fault: func(rcpt string) error {
			switch rcpt {
			case "perm@example.org":
				return smtpcapture.Reject(550, "5.1.1 no such user")
			case "temp@example.org":
				return smtpcapture.Reject(451, "try later")
			case "other@example.org":
				return errors.New("disk full")
			case "drop@example.org":
				return smtpcapture.ErrDropConnection
			}
			return nil
		},
	})
	tests := []struct {
		rcpt     string
		wantCode int
		wantMsg  string
	}{
		{"perm@example.org", 550, "5.1.1 no such user"},
		{"temp@example.org", 451, "4.0.0 try later"},
		{"other@example.org", 451, "4.0.0 disk full"},
		{"drop@example.org", 0, ""},
		{"ok@example.org", 0, ""},
	}
	for _, tt := range tests {
		err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{tt.rcpt}, body(tt.rcpt))
		var te *textproto.Error
		switch {
		case tt.rcpt == "ok@example.org":
			if err != nil {
				t.Errorf("%s: %v", tt.rcpt, err)
			}
		case tt.wantCode == 0:
			if err == nil || errors.As(err, &te) {
				t.Errorf("%s: err = %v, want a dropped connection", tt.rcpt, err)
			}
		case !errors.As(err, &te) || te.Code != tt.wantCode || te.Msg != tt.wantMsg:
			t.Errorf("%s: err = %v, want %d %s", tt.rcpt, err, tt.wantCode, tt.wantMsg)
		}
	}
	if s.Count() != 1 {
		t.Errorf("captured %d, want 1", s.Count())
	}
}

func TestDropMidData(t *testing.T) {
	t.Parallel()
	s := start(t, smtpcapture.Config{Drop: func(rcpt string) bool { return rcpt == "drop@example.org" }})
	err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"drop@example.org"}, body("x"))
	var te *textproto.Error
	if err == nil || errors.As(err, &te) {
		t.Fatalf("err = %v, want connection closed without reply", err)
	}
	if s.Count() != 0 {
		t.Errorf("dropped message captured")
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := start(t, smtpcapture.Config{Username: "u", Password: "p"})
	tests := []struct {
		name string
		auth smtp.Auth
		code int
	}{
		{"none", nil, 502},
		{"wrong", smtp.PlainAuth("", "u", "x", "127.0.0.1"), 535},
		{"right", smtp.PlainAuth("", "u", "p", "127.0.0.1"), 0},
	}
	for _, tt := range tests {
		err := smtp.SendMail(s.Addr(), tt.auth, "a@example.org", []string{"b@example.org"}, body("b"))
		var te *textproto.Error
		if tt.code == 0 && err != nil || tt.code != 0 && (!errors.As(err, &te) || te.Code != tt.code) {
			t.Errorf("%s: err = %v, want code %d", tt.name, err, tt.code)
		}
	}
	if s.Count() != 1 {
		t.Errorf("captured %d, want 1", s.Count())
	}
}

func TestMaxMessageBytes(t *testing.T) {
	t.Parallel()
	s := start(t, smtpcapture.Config{MaxMessageBytes: 1024})
	big := append(body("b"), []byte(strings.Repeat("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 100))...)
	err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, big)
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 552 {
		t.Fatalf("err = %v, want 552", err)
	}
}

// TestCapabilities: the MAIL FROM parameters are recorded, SMTPUTF8 can be
// withheld, and a line limit refuses long lines as strict servers do.
func TestCapabilities(t *testing.T) {
	t.Parallel()
	long := []byte("Subject: " + strings.Repeat("x", 1000) + "\r\n\r\nhi\r\n")
	tests := []struct {
		name     string
		cfg      smtpcapture.Config
		msg      []byte
		wantCode int // 0: accepted
		wantUTF8 bool
	}{
		{"default", smtpcapture.Config{}, body("b"), 0, true},
		{"no SMTPUTF8", smtpcapture.Config{NoSMTPUTF8: true}, body("b"), 0, false},
		{"long line accepted by default", smtpcapture.Config{}, long, 0, true},
		{"long line refused with a limit", smtpcapture.Config{MaxLineLength: 1000}, long, 554, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tt.cfg)
			// net/smtp sends BODY=8BITMIME and SMTPUTF8 when offered.
			err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, tt.msg)
			var te *textproto.Error
			if tt.wantCode != 0 {
				if !errors.As(err, &te) || te.Code != tt.wantCode {
					t.Fatalf("err = %v, want %d", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			m := s.Messages()
			if len(m) != 1 || m[0].Body != "8BITMIME" || m[0].SMTPUTF8 != tt.wantUTF8 {
				t.Errorf("captured %+v, want Body 8BITMIME and SMTPUTF8 %v", m, tt.wantUTF8)
			}
		})
	}
}

func TestManyConcurrentClientsThroughGoMail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := start(t, smtpcapture.Config{Dir: dir, StartTLS: true})
	p := send.NewPool(send.Config{Host: s.Host(), Port: s.Port(), TLS: send.TLSStartTLS, InsecureSkipVerify: true}, 16)
	t.Cleanup(func() { _ = p.Close() })
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Get(t.Context())
			if err != nil {
				errs <- err
				return
			}
			defer p.Put(c)
			errs <- c.Send(t.Context(), &send.Message{
				From: "a@example.org", To: fmt.Sprintf("r%03d@example.org", i),
				Subject: "Grüße 🎉", Text: "hi", HTML: "<p>hi</p>", MessageID: fmt.Sprintf("%d@t", i),
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	seen := map[string]bool{}
	for _, m := range s.Messages() {
		seen[m.To[0]] = true
	}
	entries, _ := os.ReadDir(dir)
	if len(seen) != n || len(entries) != n {
		t.Errorf("distinct recipients %d, files %d, want %d", len(seen), len(entries), n)
	}
	if c := s.Connections(); c > 16 {
		t.Errorf("connections = %d, want at most 16", c)
	}
}

func TestCloseAndContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	s, err := smtpcapture.Start(ctx, smtpcapture.Config{DiscardData: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, body("b")); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(); len(m) != 1 || m[0].Data != nil {
		t.Errorf("DiscardData kept data: %+v", m)
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, body("b")) == nil {
		if time.Now().After(deadline) {
			t.Fatal("server still accepting after its context was cancelled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseRightAfterStart: Close returns even when it runs before the
// server's goroutine started accepting (go-smtp's Close does not know a
// listener its Serve has not registered yet). Each round closes at once, so
// that some close before Serve runs; a hang is reported after a generous
// deadline.
func TestCloseRightAfterStart(t *testing.T) {
	t.Parallel()
	const rounds = 200
	done := make(chan error)
	go func() {
		for range rounds {
			s, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
			if err != nil {
				done <- err
				return
			}
			if err := s.Close(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Close right after Start did not return within 30 s (%d rounds)", rounds)
	}
}

// TestHideExtensions: the keywords HideExtensions names are not in the
// EHLO reply, every other one still is, and the reply is still one a
// client reads (net/smtp parses it; its last line is "250 "); mail still
// goes through. With TLS, Start refuses it.
func TestHideExtensions(t *testing.T) {
	t.Parallel()
	for _, hide := range [][]string{{"PIPELINING"}, {"8bitmime", "SIZE"}, {"SMTPUTF8", "LIMITS"}} {
		t.Run(strings.Join(hide, ","), func(t *testing.T) {
			t.Parallel()
			s := start(t, smtpcapture.Config{HideExtensions: hide})
			c, err := smtp.Dial(s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Hello("test.local"); err != nil {
				t.Fatal(err)
			}
			for _, ext := range []string{"PIPELINING", "8BITMIME", "SIZE", "SMTPUTF8", "ENHANCEDSTATUSCODES", "LIMITS"} {
				hidden := slices.ContainsFunc(hide, func(h string) bool { return strings.EqualFold(h, ext) })
				if ok, _ := c.Extension(ext); ok == hidden {
					t.Errorf("%s announced: %v, want %v", ext, ok, !hidden)
				}
			}
			if err := c.Mail("a@example.org"); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := smtpcapture.Start(t.Context(), smtpcapture.Config{StartTLS: true, HideExtensions: []string{"SIZE"}}); err == nil {
		t.Error("Start took HideExtensions with StartTLS")
	}
}

// TestCertificateAndImplicitTLS: the server presents Config.Certificate,
// over STARTTLS or from the first byte (ImplicitTLS), and takes mail
// there.
func TestCertificateAndImplicitTLS(t *testing.T) {
	t.Parallel()
	cert, pool, err := smtpcapture.SelfSigned("relay.test")
	if err != nil {
		t.Fatal(err)
	}
	client := &tls.Config{ServerName: "relay.test", RootCAs: pool, MinVersion: tls.VersionTLS12}
	for _, implicit := range []bool{false, true} {
		t.Run(fmt.Sprintf("implicit %v", implicit), func(t *testing.T) {
			t.Parallel()
			s := start(t, smtpcapture.Config{Certificate: cert, ImplicitTLS: implicit})
			var c *smtp.Client
			if implicit {
				conn, err := tls.Dial("tcp", s.Addr(), client)
				if err != nil {
					t.Fatal(err)
				}
				if c, err = smtp.NewClient(conn, "relay.test"); err != nil {
					t.Fatal(err)
				}
				if ok, _ := c.Extension("STARTTLS"); ok {
					t.Error("STARTTLS offered on a TLS connection")
				}
			} else {
				if c, err = smtp.Dial(s.Addr()); err != nil {
					t.Fatal(err)
				}
				if err := c.StartTLS(client); err != nil {
					t.Fatal(err)
				}
			}
			defer c.Close()
			if st, ok := c.TLSConnectionState(); !ok || st.PeerCertificates[0].DNSNames[0] != "relay.test" {
				t.Fatalf("TLS %v, certificate %+v: want the configured one", ok, st.PeerCertificates)
			}
			if err := c.Mail("a@example.org"); err != nil {
				t.Fatal(err)
			}
			if err := c.Rcpt("b@example.org"); err != nil {
				t.Fatal(err)
			}
			w, err := c.Data()
			if err != nil {
				t.Fatal(err)
			}
			_, _ = w.Write(body("b"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if s.Count() != 1 {
				t.Errorf("%d messages captured, want 1", s.Count())
			}
		})
	}
}
