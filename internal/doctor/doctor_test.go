package doctor_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestTemplates: an incomplete language fails when recipients need it (the
// demo's pt recipients, counted) or when that is not known, and is a
// warning when no recipient needs it; complete ones pass.
func TestTemplates(t *testing.T) {
	t.Parallel()
	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	need, known, err := b.NeedIncomplete()
	if err != nil || !known || need["pt"] == 0 {
		t.Fatalf("NeedIncomplete: %v %v %v, want the demo's pt recipients counted", need, known, err)
	}
	for _, tt := range []struct {
		name   string
		need   map[string]int
		known  bool
		status string
		msg    string
	}{
		{"pt recipients", need, true, doctor.Fail, "recipient(s) of this language would be refused"},
		{"recipients unknown", nil, false, doctor.Fail, "recipients of this language would be refused"},
		{"no pt recipient", map[string]int{}, true, doctor.Warn, "no recipient of the campaign needs it"},
	} {
		checks := doctor.Templates(b.Engine, tt.need, tt.known)
		if len(checks) != 10 {
			t.Fatalf("%s: %d checks, want 10", tt.name, len(checks))
		}
		for _, c := range checks {
			want := doctor.Pass
			if c.Name == "template pt" {
				want = tt.status
				if !strings.Contains(c.Message, tt.msg) {
					t.Errorf("%s: %+v, want %q", tt.name, c, tt.msg)
				}
			}
			if c.Status != want {
				t.Errorf("%s: %+v, want %s", tt.name, c, want)
			}
		}
	}
}

// TestSMTP: a plain server passes with a warning (mail would go
// unencrypted); a closed port fails as unreachable.
func TestSMTP(t *testing.T) {
	t.Parallel()
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Port()
	checks := doctor.SMTP(t.Context(), send.Config{Host: srv.Host(), Port: port, TLS: send.TLSNone}, "")
	status := map[string]string{}
	for _, c := range checks {
		status[c.Name] = c.Status
	}
	if status["smtp connect"] != doctor.Pass || status["smtp starttls"] != doctor.Warn {
		t.Errorf("checks %+v", checks)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(freeport.Closed(t))
	closed, _ := strconv.Atoi(p)
	checks = doctor.SMTP(t.Context(), send.Config{Host: "127.0.0.1", Port: closed, TLS: send.TLSNone}, "")
	if n, infra := doctor.Failed(checks); n != 1 || !infra {
		t.Errorf("closed port: %+v", checks)
	}
}

// TestJournal: the delivery journal's directory is created and written as
// a worker would (nothing is left in it); one that cannot be is a warning
// saying what a worker would do and what to fix; the fsync setting
// says what a crash of the host can lose.
func TestJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocked := filepath.Join(dir, "a-file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		j          environment.Journal
		status     string
		wantInText string
	}{
		{"interval", environment.Journal{Dir: filepath.Join(dir, "j1"), FsyncInterval: 200 * time.Millisecond}, doctor.Pass, "fsynced every 200ms"},
		{"always", environment.Journal{Dir: filepath.Join(dir, "j2"), FsyncAlways: true}, doctor.Pass, "loses no claim"},
		{"under a file", environment.Journal{Dir: filepath.Join(blocked, "journal"), FsyncAlways: true}, doctor.Warn, "a worker here would not start"},
		{"none", environment.Journal{}, doctor.Warn, "neither detected nor recovered"},
	}
	for _, tt := range tests {
		c := doctor.Journal(tt.j)
		if c.Status != tt.status || !strings.Contains(c.Message, tt.wantInText) || !strings.Contains(c.Message, tt.j.Dir) {
			t.Errorf("%s: %s %q; want %s with %q and the directory", tt.name, c.Status, c.Message, tt.status, tt.wantInText)
		}
		if tt.status == doctor.Pass {
			if !strings.Contains(c.Message, "a directory that no running worker reads is checked by nobody") {
				t.Errorf("%s: %q does not say that a directory no running worker reads is checked by nobody", tt.name, c.Message)
			}
			if left, err := os.ReadDir(tt.j.Dir); err != nil || len(left) != 0 {
				t.Errorf("%s: the check left %v in %s (%v)", tt.name, left, tt.j.Dir, err)
			}
		}
	}
}
