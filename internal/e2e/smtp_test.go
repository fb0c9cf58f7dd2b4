package e2e

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/childproc"
	"github.com/tidings-mail/tidings/internal/freeport"
)

// mailServer is an SMTP server we did not write, capturing every message to
// files.
type mailServer interface {
	// Port is the loopback port it listens on.
	Port() int
	// Count is how many messages it has captured so far.
	Count() int
	// Messages parses every captured message.
	Messages(t *testing.T) []*captured
}

// captured is one message as an SMTP server stored it.
type captured struct {
	file   string
	rcpts  []string // envelope recipients, lower-cased
	header mail.Header
	raw    []byte
	// rawHeader is the header section as received, folded lines included.
	rawHeader string
	body      []byte
	// err is set when the file is not a complete message.
	err error
}

const (
	aiosmtpdPython = "/usr/bin/python3"
	smtpSinkPath   = "/usr/sbin/smtp-sink"
)

// need reports a missing server: a failure under CI=true, else a skip.
func need(t *testing.T, what, install string) {
	t.Helper()
	if inCI() {
		t.Fatalf("%s is not installed and CI=true: install it (%s); end-to-end tests never skip in CI", what, install)
	}
	t.Skipf("%s is not installed: install it (%s) to run this end-to-end test (under CI=true it is a failure)", what, install)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startServer runs a server process built by mk for a free port, retrying on
// another port if it exits before answering, and waits until it greets with
// a 220 reply containing the greeting mk returned: a port taken meanwhile by
// another test's server is not mistaken for this one.
func startServer(t *testing.T, name string, mk func(port int) (cmd *exec.Cmd, greeting string)) int {
	t.Helper()
	var lastOut string
	for range 3 {
		port := freePort(t)
		cmd, greeting := mk(port)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		child, err := childproc.Start(cmd)
		if err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		done := child.Done()
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
		if waitGreeting(port, greeting, done) {
			t.Cleanup(stop)
			return port
		}
		stop()
		lastOut = out.String()
	}
	t.Fatalf("%s did not start and answer on a loopback port; its output:\n%s", name, lastOut)
	return 0
}

// waitGreeting waits up to 20 s for an SMTP 220 greeting containing want on
// port.
func waitGreeting(port int, want string, exited <-chan struct{}) bool {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 256)
			n, _ := c.Read(buf)
			_, _ = c.Write([]byte("QUIT\r\n"))
			c.Close()
			if g := string(buf[:n]); strings.HasPrefix(g, "220") && strings.Contains(g, want) {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// aiosmtpd is Debian's python3-aiosmtpd with its Mailbox handler: every
// message lands in a Maildir, with X-RcptTo naming the envelope recipients.
type aiosmtpd struct {
	port    int
	maildir string
}

// needAiosmtpd skips t (fails it under CI=true) when Debian's
// python3-aiosmtpd cannot run.
func needAiosmtpd(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(aiosmtpdPython); err != nil {
		need(t, aiosmtpdPython, "apt-get install python3 python3-aiosmtpd")
	}
	if out, err := exec.Command(aiosmtpdPython, "-m", "aiosmtpd", "--help").CombinedOutput(); err != nil {
		t.Logf("%s -m aiosmtpd --help: %v\n%s", aiosmtpdPython, err, out)
		need(t, "aiosmtpd for "+aiosmtpdPython, "apt-get install python3-aiosmtpd")
	}
}

func startAiosmtpd(t *testing.T) *aiosmtpd {
	t.Helper()
	needAiosmtpd(t)
	s := &aiosmtpd{maildir: filepath.Join(t.TempDir(), "Maildir")}
	s.port = startServer(t, "aiosmtpd", func(port int) (*exec.Cmd, string) {
		return exec.Command(aiosmtpdPython, "-m", "aiosmtpd", "-n",
			"-l", fmt.Sprintf("127.0.0.1:%d", port), "-c", "aiosmtpd.handlers.Mailbox", s.maildir), " Python SMTP "
	})
	return s
}

func (s *aiosmtpd) Port() int { return s.port }

// Count counts the delivered messages: Python's mailbox writes each into
// tmp/ and renames it into new/ before aiosmtpd answers 250.
func (s *aiosmtpd) Count() int {
	es, _ := os.ReadDir(filepath.Join(s.maildir, "new"))
	return len(es)
}

func (s *aiosmtpd) Messages(t *testing.T) []*captured {
	t.Helper()
	return readCaptured(t, filepath.Join(s.maildir, "new"), func(h mail.Header) []string {
		var out []string
		for _, a := range strings.Split(h.Get("X-RcptTo"), ",") {
			if a = strings.TrimSpace(a); a != "" {
				out = append(out, strings.ToLower(a))
			}
		}
		return out
	})
}

// smtpSink is postfix's smtp-sink dumping every mail transaction into a file
// of its own (-d), headed by X-Rcpt-Args lines naming the envelope
// recipients.
type smtpSink struct {
	port int
	dir  string
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	bin := smtpSinkPath
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("smtp-sink")
		if lerr != nil {
			need(t, "postfix's smtp-sink", "apt-get install postfix")
		}
		bin = p
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	s := &smtpSink{dir: filepath.Join(t.TempDir(), "sink")}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.port = startServer(t, "smtp-sink", func(port int) (*exec.Cmd, string) {
		// -u is required as root; switching to ourselves is harmless
		// otherwise. -d writes one file per transaction: DIR/m.<random hex>.
		// -h names the server in its greeting.
		name := sinkName(port)
		return exec.Command(bin, "-u", u.Username, "-h", name, "-d", s.dir+"/m.", fmt.Sprintf("127.0.0.1:%d", port), "256"), name
	})
	return s
}

func (s *smtpSink) Port() int { return s.port }

// sinkName is the name an smtp-sink on port greets with (its -h).
func sinkName(port int) string { return fmt.Sprintf("sink-%d.tidings.test", port) }

// Count counts the dump files; a file appears when a transaction starts.
func (s *smtpSink) Count() int {
	es, _ := os.ReadDir(s.dir)
	return len(es)
}

// files returns the names of the dump files there are now.
func (s *smtpSink) files(t *testing.T) map[string]bool {
	t.Helper()
	es, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatalf("read captured mail: %v", err)
	}
	names := make(map[string]bool, len(es))
	for _, e := range es {
		names[e.Name()] = true
	}
	return names
}

// filesSince returns the dump files there are now that were not in
// before: the transactions begun since.
func (s *smtpSink) filesSince(t *testing.T, before map[string]bool) []string {
	t.Helper()
	var since []string
	for name := range s.files(t) {
		if !before[name] {
			since = append(since, name)
		}
	}
	return since
}

var rcptArg = regexp.MustCompile(`<([^>]*)>`)

func (s *smtpSink) Messages(t *testing.T) []*captured {
	t.Helper()
	return readCaptured(t, s.dir, func(h mail.Header) []string {
		var out []string
		for _, v := range h["X-Rcpt-Args"] {
			if m := rcptArg.FindStringSubmatch(v); m != nil {
				out = append(out, strings.ToLower(m[1]))
			} else {
				out = append(out, strings.ToLower(strings.TrimSpace(v)))
			}
		}
		return out
	})
}

// readCaptured reads every file of dir as a message. A file that does not
// parse (smtp-sink leaves a partial dump when a client dies mid-transaction)
// is kept with err set, so that it still counts for its recipients.
func readCaptured(t *testing.T, dir string, rcpts func(mail.Header) []string) []*captured {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read captured mail: %v", err)
	}
	var out []*captured
	for _, e := range es {
		if e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		raw, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			// smtp-sink removes the dump of a transaction its client
			// abandoned before the final dot, after ReadDir listed it:
			// nothing was delivered, so it is no message.
			continue
		}
		if err != nil {
			t.Fatalf("read captured mail: %v", err)
		}
		c := parseCaptured(p, raw)
		c.rcpts = rcpts(c.header)
		out = append(out, c)
	}
	return out
}

// parseCaptured parses raw; on error it still returns the header lines it
// could read, with err set.
func parseCaptured(file string, raw []byte) *captured {
	norm := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	head := string(norm)
	if i := strings.Index(head, "\n\n"); i >= 0 {
		head = head[:i+1]
	}
	c := &captured{file: file, raw: raw, rawHeader: head}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		c.err = fmt.Errorf("parse message: %w", err)
		c.header = lenientHeader(head)
		return c
	}
	c.header = m.Header
	if c.body, err = io.ReadAll(m.Body); err != nil {
		c.err = fmt.Errorf("read body: %w", err)
	}
	return c
}

// lenientHeader reads "Name: value" lines, ignoring anything else.
func lenientHeader(head string) mail.Header {
	h := mail.Header{}
	for _, line := range strings.Split(head, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		k := textproto.CanonicalMIMEHeaderKey(name)
		h[k] = append(h[k], strings.TrimSpace(value))
	}
	return h
}

var wordDecoder = &mime.WordDecoder{}

// subject returns the decoded Subject header.
func (c *captured) subject() (string, error) {
	s, err := wordDecoder.DecodeHeader(c.header.Get("Subject"))
	if err != nil {
		return "", fmt.Errorf("decode subject %q: %w", c.header.Get("Subject"), err)
	}
	return s, nil
}

// parts is the decoded body of a multipart/alternative message.
type parts struct {
	mediaType string // of the whole message
	types     []string
	text      string
	html      string
}

// parts decodes the message body: the top-level media type, every part's
// media type, and the text/plain and text/html contents (transfer encoding
// undone, CRLF turned into LF).
func (c *captured) parts() (*parts, error) {
	mt, params, err := mime.ParseMediaType(c.header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("content type %q: %w", c.header.Get("Content-Type"), err)
	}
	p := &parts{mediaType: mt}
	if !strings.HasPrefix(mt, "multipart/") {
		b, err := decodeTransfer(c.header.Get("Content-Transfer-Encoding"), c.body)
		if err != nil {
			return nil, err
		}
		p.types = append(p.types, mt)
		if mt == "text/html" {
			p.html = b
		} else {
			p.text = b
		}
		return p, nil
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read part: %w", err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("read part: %w", err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return nil, fmt.Errorf("part content type %q: %w", part.Header.Get("Content-Type"), err)
		}
		// multipart.Reader undoes quoted-printable itself and drops the
		// header; base64 is left to us.
		s, err := decodeTransfer(part.Header.Get("Content-Transfer-Encoding"), b)
		if err != nil {
			return nil, err
		}
		p.types = append(p.types, pt)
		switch pt {
		case "text/plain":
			p.text = s
		case "text/html":
			p.html = s
		}
	}
	return p, nil
}

func decodeTransfer(enc string, b []byte) (string, error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
		if err != nil {
			return "", fmt.Errorf("decode base64 part: %w", err)
		}
		b = d
	case "quoted-printable":
		// Only reached for a single-part message.
		d, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		if err != nil {
			return "", fmt.Errorf("decode quoted-printable part: %w", err)
		}
		b = d
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// htmlLang extracts the lang attribute of the <html> element.
var htmlLang = regexp.MustCompile(`<html[^>]*\blang="([^"]*)"`)

func langOfHTML(html string) string {
	if m := htmlLang.FindStringSubmatch(html); m != nil {
		return m[1]
	}
	return ""
}

// byRecipient counts messages per envelope recipient.
func byRecipient(msgs []*captured) map[string]int {
	n := map[string]int{}
	for _, m := range msgs {
		for _, r := range m.rcpts {
			n[r]++
		}
	}
	return n
}
