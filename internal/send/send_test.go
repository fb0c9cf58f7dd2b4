package send_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

func startCapture(t testing.TB, cfg smtpcapture.Config) *smtpcapture.Server {
	t.Helper()
	srv, err := smtpcapture.Start(context.WithoutCancel(t.Context()), cfg)
	if err != nil {
		t.Fatalf("start capture server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func plainConfig(srv *smtpcapture.Server) send.Config {
	return send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone, HeloName: "test.local", Timeout: 5 * time.Second}
}

func newPool(t testing.TB, cfg send.Config, size int) *send.Pool {
	t.Helper()
	p := send.NewPool(cfg, size)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func sampleMessage(to string) *send.Message {
	return &send.Message{
		From:      "Altea Community <community@altea.example>",
		ReplyTo:   "support@altea.example",
		To:        to,
		ToName:    "Zoë Müller 🎉",
		Subject:   "Willkommen zurück 🎉 – bitte neu registrieren",
		Text:      "Hallo Zoë,\nbitte registrieren Sie sich neu.\n",
		HTML:      "<p>Hallo Zo&euml;, <b>bitte</b> registrieren Sie sich neu.</p>",
		MessageID: "altea.42@tidings.example",
		Date:      time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
		Headers: []send.Header{
			{Name: "X-Tidings-Campaign", Value: "altea-reregistration"},
			{Name: "List-Unsubscribe", Value: "<https://altea.example/unsub?id=42>"},
		},
	}
}

func sendOne(t *testing.T, p *send.Pool, m *send.Message) error {
	t.Helper()
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatalf("get connection: %v", err)
	}
	defer p.Put(c)
	return c.Send(t.Context(), m)
}

func TestSendBuildsMultipartMessage(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{})
	p := newPool(t, plainConfig(srv), 1)
	if err := sendOne(t, p, sampleMessage("zoe@example.org")); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("captured %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "community@altea.example" || len(got.To) != 1 || got.To[0] != "zoe@example.org" {
		t.Fatalf("envelope = %q -> %q", got.From, got.To)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
	if err != nil {
		t.Fatalf("parse captured message: %v", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	to, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil {
		t.Fatalf("parse To: %v", err)
	}
	headers := map[string]string{
		"Subject":            subject,
		"To name":            to.Name,
		"To address":         to.Address,
		"Message-ID":         m.Header.Get("Message-ID"),
		"Reply-To":           m.Header.Get("Reply-To"),
		"X-Tidings-Campaign": m.Header.Get("X-Tidings-Campaign"),
		"List-Unsubscribe":   m.Header.Get("List-Unsubscribe"),
		"Date":               m.Header.Get("Date"),
	}
	want := map[string]string{
		"Subject":            "Willkommen zurück 🎉 – bitte neu registrieren",
		"To name":            "Zoë Müller 🎉",
		"To address":         "zoe@example.org",
		"Message-ID":         "<altea.42@tidings.example>",
		"Reply-To":           "<support@altea.example>",
		"X-Tidings-Campaign": "altea-reregistration",
		"List-Unsubscribe":   "<https://altea.example/unsub?id=42>",
		"Date":               "Sat, 21 Nov 2026 09:00:00 +0000",
	}
	for k, w := range want {
		if headers[k] != w {
			t.Errorf("%s = %q, want %q", k, headers[k], w)
		}
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		body, _ := io.ReadAll(part)
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cp["charset"] != "UTF-8" {
			t.Errorf("%s charset = %q, want UTF-8", ct, cp["charset"])
		}
		types = append(types, ct)
		switch ct {
		case "text/plain":
			if !strings.Contains(string(body), "Hallo Zoë,") {
				t.Errorf("text part = %q", body)
			}
		case "text/html":
			if !strings.Contains(string(body), "<b>bitte</b>") {
				t.Errorf("html part = %q", body)
			}
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts = %v, want text/plain,text/html", types)
	}
}

func TestSendPreventsHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{})
	p := newPool(t, plainConfig(srv), 1)
	tests := []struct {
		name string
		edit func(m *send.Message)
	}{
		{"to name", func(m *send.Message) { m.ToName = "Eve\r\nBcc: x@y" }},
		{"to name lf only", func(m *send.Message) { m.ToName = "Eve\nBcc: x@y" }},
		{"subject", func(m *send.Message) { m.Subject = "Hello\r\nBcc: x@y" }},
		{"subject non-ascii", func(m *send.Message) { m.Subject = "Grüße\r\nBcc: x@y" }},
		{"header value", func(m *send.Message) {
			m.Headers = []send.Header{{Name: "List-Unsubscribe", Value: "<https://u.example/x>\r\nBcc: x@y"}}
		}},
		{"from name", func(m *send.Message) { m.From = `"Altea\r\nBcc: x@y" <community@altea.example>` }},
		{"message id", func(m *send.Message) { m.MessageID = "a@b>\r\nBcc: x@y" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := fmt.Sprintf("rcpt%d@example.org", i)
			m := sampleMessage(to)
			tt.edit(m)
			err := sendOne(t, p, m)
			if err != nil {
				if !errors.Is(err, send.ErrInvalidMessage) {
					t.Fatalf("send: %v, want nil or ErrInvalidMessage", err)
				}
				return // refused: nothing was sent
			}
			var found *smtpcapture.Message
			for _, c := range srv.Messages() {
				if c.To[0] == to {
					found = &c
				}
			}
			if found == nil {
				t.Fatalf("no message for %s", to)
			}
			if len(found.To) != 1 {
				t.Errorf("envelope recipients = %v, want only %s", found.To, to)
			}
			pm, err := mail.ReadMessage(strings.NewReader(string(found.Data)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if v, ok := pm.Header["Bcc"]; ok {
				t.Errorf("injected Bcc header: %q", v)
			}
			for _, line := range strings.Split(string(found.Data), "\r\n") {
				if strings.HasPrefix(strings.ToLower(line), "bcc:") {
					t.Errorf("injected line %q", line)
				}
			}
		})
	}
}

func TestSendRefusesInvalidMessages(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{})
	p := newPool(t, plainConfig(srv), 1)
	tests := []struct {
		name string
		edit func(m *send.Message)
	}{
		{"two recipients", func(m *send.Message) { m.To = "a@example.org, b@example.org" }},
		{"recipient with name", func(m *send.Message) { m.To = "Eve <eve@example.org>" }},
		{"recipient with newline", func(m *send.Message) { m.To = "eve@example.org\r\nRCPT TO:<x@y>" }},
		{"empty recipient", func(m *send.Message) { m.To = "" }},
		{"bad from", func(m *send.Message) { m.From = "not an address" }},
		{"header name with colon", func(m *send.Message) { m.Headers = []send.Header{{Name: "X-A: b", Value: "c"}} }},
		{"header name with newline", func(m *send.Message) { m.Headers = []send.Header{{Name: "X-A\r\nBcc", Value: "c"}} }},
		{"reserved header", func(m *send.Message) { m.Headers = []send.Header{{Name: "bcc", Value: "x@y"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleMessage("ok@example.org")
			tt.edit(m)
			err := sendOne(t, p, m)
			if !errors.Is(err, send.ErrInvalidMessage) {
				t.Fatalf("send: %v, want ErrInvalidMessage", err)
			}
			if ce := send.Classify(err); ce.Temporary || ce.InDoubt {
				t.Errorf("Classify = %+v, want permanent", ce)
			}
		})
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("server captured %d messages, want 0", n)
	}
}

func TestSendClassifiesFailures(t *testing.T) {
	t.Parallel()
	// smtpcapture (go-smtp) offers PIPELINING: test both ways of talking.
	for _, pipelining := range []bool{true, false} {
		t.Run(map[bool]string{true: "pipelining", false: "one command at a time"}[pipelining], func(t *testing.T) {
			t.Parallel()
			testSendClassifiesFailures(t, pipelining)
		})
	}
}

func testSendClassifiesFailures(t *testing.T, pipelining bool) {
	t.Helper()
	srv := startCapture(t, smtpcapture.Config{
		Fault: func(rcpt string) error {
			switch {
			case strings.HasPrefix(rcpt, "perm"):
				return smtpcapture.Reject(550, "5.1.1 no such user")
			case strings.HasPrefix(rcpt, "temp"):
				return smtpcapture.Reject(451, "greylisted, try later")
			case strings.HasPrefix(rcpt, "drop"):
				return smtpcapture.ErrDropConnection
			}
			return nil
		},
		Drop: func(rcpt string) bool { return strings.HasPrefix(rcpt, "doubt") },
	})
	p := newPool(t, plainConfig(srv), 1)
	if !pipelining {
		send.DisablePipelining(p)
	}
	tests := []struct {
		to   string
		want send.Error
	}{
		{"perm@example.org", send.Error{Code: 550, Enhanced: "5.1.1", Msg: "no such user"}},
		{"temp@example.org", send.Error{Code: 451, Enhanced: "4.0.0", Temporary: true, Msg: "greylisted, try later"}},
		{"drop@example.org", send.Error{Temporary: true}},
		{"doubt@example.org", send.Error{InDoubt: true}},
	}
	// One connection for all: after each failure the next message must go
	// through (the connection is reset or redialled).
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	defer p.Put(c)
	for _, tt := range tests {
		err := c.Send(t.Context(), sampleMessage(tt.to))
		got := send.Classify(err)
		if got == nil {
			t.Fatalf("%s: sent, want failure", tt.to)
		}
		if got.Code != tt.want.Code || got.Enhanced != tt.want.Enhanced || got.Temporary != tt.want.Temporary || got.InDoubt != tt.want.InDoubt {
			t.Errorf("%s: Classify = %+v, want %+v", tt.to, got, tt.want)
		}
		if tt.want.Msg != "" && got.Msg != tt.want.Msg {
			t.Errorf("%s: Msg = %q, want %q", tt.to, got.Msg, tt.want.Msg)
		}
		if err := c.Send(t.Context(), sampleMessage("ok-after-"+tt.to)); err != nil {
			t.Errorf("send after %s failure: %v", tt.to, err)
		}
		if !strings.Contains(c.Response(), "queued") {
			t.Errorf("Response() = %q", c.Response())
		}
	}
	if n := srv.Count(); n != len(tests) {
		t.Errorf("captured %d messages, want %d", n, len(tests))
	}
}

func TestClassifyConnectionFailures(t *testing.T) {
	t.Parallel()
	_, p, _ := net.SplitHostPort(freeport.Closed(t))
	port, _ := strconv.Atoi(p)
	authSrv := startCapture(t, smtpcapture.Config{Username: "u", Password: "right"})
	tests := []struct {
		name     string
		cfg      send.Config
		wantCode int
	}{
		{"connection refused", send.Config{Host: "127.0.0.1", Port: port, TLS: send.TLSNone}, 0},
		{"starttls not offered", send.Config{Host: authSrv.Host(), Port: authSrv.Port(), TLS: send.TLSStartTLS}, 0},
		{"wrong password", send.Config{Host: authSrv.Host(), Port: authSrv.Port(), TLS: send.TLSNone, Username: "u", Password: "wrong"}, 535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPool(t, tt.cfg, 1)
			_, err := p.Get(t.Context())
			ce := send.Classify(err)
			if ce == nil || !ce.Temporary || ce.Code != tt.wantCode {
				t.Fatalf("Classify(%v) = %+v, want temporary with code %d", err, ce, tt.wantCode)
			}
		})
	}
}

// TestClassifyMailFromRejection: a 5xx to MAIL FROM (here: the server
// requires AUTH and none was configured) is about the sender, not the
// recipient, so it is temporary: no recipient is failed for good by it.
func TestClassifyMailFromRejection(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{Username: "u", Password: "right"})
	p := newPool(t, send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}, 1)
	err := sendOne(t, p, sampleMessage("ada@altea.example"))
	ce := send.Classify(err)
	if ce == nil || ce.Code/100 != 5 || !ce.Temporary || ce.InDoubt {
		t.Fatalf("Classify(%v) = %+v, want a temporary 5xx", err, ce)
	}
	if srv.Count() != 0 {
		t.Fatalf("the server captured %d messages", srv.Count())
	}
}

func TestClassifyConfigError(t *testing.T) {
	t.Parallel()
	p := send.NewPool(send.Config{Host: "smtp.example", TLS: "maybe"}, 1)
	_, err := p.Get(t.Context())
	if !errors.Is(err, send.ErrConfig) || !strings.Contains(err.Error(), `"maybe"`) {
		t.Fatalf("Get = %v, want ErrConfig naming the value", err)
	}
	if ce := send.Classify(err); ce.Temporary {
		t.Errorf("config error classified temporary")
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       send.Config
		wantPort int
		wantTLS  string
	}{
		{send.Config{Host: "h"}, 587, send.TLSStartTLS},
		{send.Config{Host: "h", TLS: "TLS"}, 465, send.TLSImplicit},
		{send.Config{Host: "h", TLS: "none"}, 25, send.TLSNone},
		{send.Config{Host: "h", TLS: "opportunistic", Port: 2525}, 2525, send.TLSOpportunistic},
	}
	for _, tt := range tests {
		got, err := tt.in.WithDefaults()
		if err != nil {
			t.Fatalf("%+v: %v", tt.in, err)
		}
		if got.Port != tt.wantPort || got.TLS != tt.wantTLS || got.Timeout != 30*time.Second {
			t.Errorf("%+v -> port %d tls %q timeout %v", tt.in, got.Port, got.TLS, got.Timeout)
		}
	}
	for _, bad := range []send.Config{{}, {Host: "h", Port: 70000}, {Host: "h", Password: "p"}, {Host: "h\r\n"}} {
		if _, err := bad.WithDefaults(); !errors.Is(err, send.ErrConfig) {
			t.Errorf("%+v: err = %v, want ErrConfig", bad, err)
		}
	}
}

func TestPoolReusesConnections(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{})
	p := newPool(t, plainConfig(srv), 3)
	const workers, each = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				c, err := p.Get(t.Context())
				if err != nil {
					errs <- err
					return
				}
				errs <- c.Send(t.Context(), sampleMessage(fmt.Sprintf("w%d-%d@example.org", w, i)))
				p.Put(c)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if n := srv.Count(); n != workers*each {
		t.Errorf("captured %d, want %d", n, workers*each)
	}
	if n := srv.Connections(); n > 3 {
		t.Errorf("server saw %d connections, want at most the pool size 3", n)
	}
}

// idleClosing returns a server that closes a connection idle for 100 ms,
// a pool of one connection to it, and that connection.
func idleClosing(t *testing.T) (*smtpcapture.Server, *send.Pool, *send.Conn) {
	t.Helper()
	srv := startCapture(t, smtpcapture.Config{IdleTimeout: 100 * time.Millisecond})
	p := newPool(t, plainConfig(srv), 1)
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatalf("get connection: %v", err)
	}
	return srv, p, c
}

// TestSendRedialsConnectionClosedWhileIdle: a pooled connection the
// server closed while idle is redialled, whether it sent a message before
// or was put back unused (its sender stopped after the dial: it is no
// longer fresh once idle).
func TestSendRedialsConnectionClosedWhileIdle(t *testing.T) {
	t.Parallel()
	for _, used := range []bool{true, false} {
		t.Run(fmt.Sprintf("used=%v", used), func(t *testing.T) {
			t.Parallel()
			srv, p, c := idleClosing(t)
			var err error
			if used {
				err = c.Send(t.Context(), sampleMessage("first@example.org"))
			}
			p.Put(c)
			if err != nil {
				t.Fatalf("first send: %v", err)
			}
			wait.For(t, 10*time.Second, "server to close the idle connection", func() bool { return srv.Open() == 0 })
			if err := sendOne(t, p, sampleMessage("second@example.org")); err != nil {
				t.Fatalf("send on a connection the server closed: %v", err)
			}
			if want := map[bool]int{true: 2, false: 1}[used]; srv.Count() != want || srv.Connections() != 2 {
				t.Errorf("messages %d connections %d, want %d and 2", srv.Count(), srv.Connections(), want)
			}
		})
	}
}

// TestSendCheckedChecksAfterEveryDial: SendChecked calls its check after
// a dial and before the transaction, never on a connection it did not
// dial; a check that fails ends it with nothing sent, and the connection
// it dialled serves the next message.
func TestSendCheckedChecksAfterEveryDial(t *testing.T) {
	t.Parallel()
	srv, p, c := idleClosing(t)
	defer p.Put(c)
	stop := errors.New("stop")
	checks := 0
	check := func(context.Context) error { checks++; return stop }
	if err := c.SendChecked(t.Context(), sampleMessage("first@example.org"), check); err != nil || checks != 0 {
		t.Fatalf("send on the connection Get dialled: %v, %d checks; want it sent, no check", err, checks)
	}
	wait.For(t, 10*time.Second, "server to close the idle connection", func() bool { return srv.Open() == 0 })
	if err := c.SendChecked(t.Context(), sampleMessage("second@example.org"), check); !errors.Is(err, stop) || checks != 1 {
		t.Fatalf("send on a connection the server closed: %v, %d checks; want the check's error after one check", err, checks)
	}
	if srv.Count() != 1 || srv.Connections() != 2 {
		t.Errorf("messages %d connections %d, want 1 and 2 (redialled, nothing sent)", srv.Count(), srv.Connections())
	}
	if err := c.SendChecked(t.Context(), sampleMessage("second@example.org"), check); err != nil || checks != 1 {
		t.Fatalf("send on the redialled connection: %v, %d checks; want it sent, no check", err, checks)
	}
	if srv.Count() != 2 || srv.Connections() != 2 {
		t.Errorf("messages %d connections %d, want 2 and 2", srv.Count(), srv.Connections())
	}
}

func TestSendOverStartTLSWithAuth(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{StartTLS: true, Username: "mailer", Password: "s3cret"})
	cfg := send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSStartTLS, InsecureSkipVerify: true,
		Username: "mailer", Password: "s3cret", Timeout: 5 * time.Second}
	p := newPool(t, cfg, 1)
	for i := range 3 {
		if err := sendOne(t, p, sampleMessage(fmt.Sprintf("tls%d@example.org", i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if srv.Count() != 3 || srv.Connections() != 1 {
		t.Errorf("messages %d connections %d, want 3 and 1", srv.Count(), srv.Connections())
	}
}

func TestSendHonoursCancelledContext(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{})
	p := newPool(t, plainConfig(srv), 1)
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Put(c)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = c.Send(ctx, sampleMessage("x@example.org"))
	if !errors.Is(err, context.Canceled) || !send.Classify(err).Temporary {
		t.Fatalf("Send = %v, want temporary context.Canceled", err)
	}
	if srv.Count() != 0 {
		t.Errorf("message sent despite cancelled context")
	}
}

func TestPoolClose(t *testing.T) {
	t.Parallel()
	srv := startCapture(t, smtpcapture.Config{})
	p := send.NewPool(plainConfig(srv), 2)
	if err := sendOne(t, p, sampleMessage("a@example.org")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := p.Get(t.Context()); !errors.Is(err, send.ErrPoolClosed) {
		t.Fatalf("Get after Close = %v, want ErrPoolClosed", err)
	}
	wait.For(t, 10*time.Second, "connections to close", func() bool { return srv.Open() == 0 })
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tlsAuth := startCapture(t, smtpcapture.Config{StartTLS: true, Username: "mailer", Password: "s3cret"})
	plain := startCapture(t, smtpcapture.Config{})
	tlsOpen := startCapture(t, smtpcapture.Config{StartTLS: true}) // STARTTLS, no AUTH needed
	_, p, _ := net.SplitHostPort(freeport.Closed(t))
	closedPort, _ := strconv.Atoi(p)

	base := func(s *smtpcapture.Server) send.Config {
		return send.Config{Host: s.Host(), Port: s.Port(), TLS: send.TLSStartTLS, InsecureSkipVerify: true,
			Username: "mailer", Password: "s3cret", Timeout: 5 * time.Second}
	}
	tests := []struct {
		name     string
		cfg      send.Config
		wantOK   []string
		wantFail string // the failed step; "" for none
		wantWarn string // the step that passed with a warning; "" for none
	}{
		{"all pass", base(tlsAuth), []string{"connect", "ehlo", "starttls", "auth"}, "", ""},
		{"wrong password", func() send.Config { c := base(tlsAuth); c.Password = "nope"; return c }(),
			[]string{"connect", "ehlo", "starttls"}, "auth", ""},
		{"no starttls", func() send.Config { c := base(plain); c.Username, c.Password = "", ""; return c }(),
			[]string{"connect", "ehlo"}, "starttls", ""},
		{"opportunistic without starttls", func() send.Config {
			c := base(plain)
			c.TLS, c.Username, c.Password = send.TLSOpportunistic, "", ""
			return c
		}(), []string{"connect", "ehlo", "starttls", "auth"}, "", "starttls"},
		// Unencrypted on purpose still passes, but warns and says why.
		{"tls none", func() send.Config {
			c := base(tlsOpen)
			c.TLS, c.Username, c.Password = send.TLSNone, "", ""
			return c
		}(), []string{"connect", "ehlo", "starttls", "auth"}, "", "starttls"},
		// No credentials for a server that refuses mail without AUTH: every
		// message would be refused (the probe's MAIL FROM says so).
		{"no credentials, auth required", func() send.Config {
			c := base(tlsAuth)
			c.Username, c.Password = "", ""
			return c
		}(), []string{"connect", "ehlo", "starttls"}, "auth", ""},
		{"unreachable", send.Config{Host: "127.0.0.1", Port: closedPort, TLS: send.TLSNone}, nil, "connect", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := send.Check(t.Context(), tt.cfg, "")
			var ok []string
			failed, warned := "", ""
			for _, s := range rep.Steps {
				if s.Msg == "" {
					t.Errorf("step %s has no message", s.Name)
				}
				if s.Warn {
					warned = s.Name
					if !strings.Contains(s.Msg, "unencrypted") {
						t.Errorf("warning %q does not say why", s.Msg)
					}
				}
				if s.OK {
					ok = append(ok, s.Name)
				} else {
					failed = s.Name
				}
			}
			if strings.Join(ok, ",") != strings.Join(tt.wantOK, ",") || failed != tt.wantFail || warned != tt.wantWarn {
				t.Errorf("steps passed %v failed %q warned %q, want %v, %q and %q (%+v)", ok, failed, warned, tt.wantOK, tt.wantFail, tt.wantWarn, rep.Steps)
			}
			if (err == nil) != (tt.wantFail == "") || rep.OK() != (tt.wantFail == "") {
				t.Errorf("err = %v, OK() = %v", err, rep.OK())
			}
			if strings.Contains(fmt.Sprint(rep, err), "s3cret") {
				t.Errorf("report or error reveals the password")
			}
		})
	}
}
