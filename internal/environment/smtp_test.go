package environment

import (
	"strings"
	"testing"
	"time"
)

// TestSMTPHostWithoutPortAndHELOOneName: smtp.host (TIDINGS_SMTP_HOST) holding a
// port, "smtp.example.com:2525" or "127.0.0.1:1025" (a very common way to
// write where a relay is), and an smtp.helo that is no name ("my host",
// which EHLO cannot carry) load without a word. `send` then stages the
// campaign, `doctor` calls it infrastructure (exit 3: "lookup
// 127.0.0.1:41211: no such host"), and a worker's every dial fails as a
// temporary SMTP failure ("address 127.0.0.1:41211:25: too many colons in
// address") until the batch gate pauses the campaign. The README promises
// a configuration error (exit 2) naming the file, line and field (or the
// variable) and what to do (use smtp.port).
func TestSMTPHostWithoutPortAndHELOOneName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		file string
		vars map[string]string
		want string
	}{
		{name: "variable", vars: map[string]string{"TIDINGS_SMTP_HOST": "127.0.0.1:1025"}, want: "TIDINGS_SMTP_HOST: "},
		{name: "config file", file: "environments:\n  staging:\n    smtp:\n      host: smtp.example.com:2525\n", want: "t.yaml:4: environments.staging.smtp.host: "},
		{name: "helo", file: "environments:\n  staging:\n    smtp:\n      helo: my host\n", want: "t.yaml:4: environments.staging.smtp.helo: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load([]byte(tt.file), "t.yaml", "staging", func(k string) string { return tt.vars[k] })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				addr := ""
				if e != nil {
					addr = e.SMTP.Addr() + " helo " + e.SMTP.HELO
				}
				t.Errorf("got %v (SMTP %s), want an error containing %q", err, addr, tt.want)
			}
		})
	}
}

// TestSMTPHostsAndHELOsThatWork: what hostProblem and validHELO must let
// through (an IPv6 address is a host with colons; address literals are
// HELO names), and what else they refuse, with what to write.
func TestSMTPHostsAndHELOsThatWork(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		vars map[string]string
		want string // "" loads
	}{
		{vars: map[string]string{"TIDINGS_SMTP_HOST": "::1"}},
		{vars: map[string]string{"TIDINGS_SMTP_HOST": "2001:db8::25", "TIDINGS_SMTP_HELO": "[IPv6:2001:db8::1]"}},
		{vars: map[string]string{"TIDINGS_SMTP_HOST": "smtp.example.com", "TIDINGS_SMTP_HELO": "mail-1.example.com"}},
		{vars: map[string]string{"TIDINGS_SMTP_HELO": "[192.0.2.1]"}},
		{vars: map[string]string{"TIDINGS_SMTP_HOST": "[::1]:2525"}, want: `TIDINGS_SMTP_HOST: "[::1]:2525" holds a port: write the host alone (::1) and the port (2525) in smtp.port`},
		{vars: map[string]string{"TIDINGS_SMTP_HOST": "[::1]"}, want: "without them (::1)"},
		{vars: map[string]string{"TIDINGS_SMTP_HOST": "smtp://smtp.example.com"}, want: "is a URL: write the host alone"},
		{vars: map[string]string{"TIDINGS_SMTP_HOST": "smtp example"}, want: "is not a host name"},
		{vars: map[string]string{"TIDINGS_SMTP_HELO": "bücher.example"}, want: "TIDINGS_SMTP_HELO: "},
		{vars: map[string]string{"TIDINGS_SMTP_HELO": "[192.0.2.1"}, want: "TIDINGS_SMTP_HELO: "},
		{vars: map[string]string{"TIDINGS_SMTP_HELO": "-x.example"}, want: "TIDINGS_SMTP_HELO: "},
	} {
		_, err := Load(nil, "", "staging", func(k string) string { return tt.vars[k] })
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v, want it to load", tt.vars, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: got %v, want an error containing %q", tt.vars, err, tt.want)
		}
	}
}

// TestIntegerVariablesNameThemselves: a wrong number of SMTP connections
// given by TIDINGS_SMTP_CONNECTIONS is reported at that variable, not as
// the concurrency (which follows it) nobody wrote; a variable that is no
// number says what to write.
func TestIntegerVariablesNameThemselves(t *testing.T) {
	t.Parallel()
	_, err := Load(nil, "", "staging", func(k string) string { return map[string]string{"TIDINGS_SMTP_CONNECTIONS": "-3"}[k] })
	if err == nil || !strings.Contains(err.Error(), "TIDINGS_SMTP_CONNECTIONS: -3: use 1 or more") || strings.Contains(err.Error(), "concurrency") {
		t.Errorf("TIDINGS_SMTP_CONNECTIONS=-3: got %v, want it named, and no concurrency", err)
	}
	_, err = Load(nil, "", "staging", func(k string) string {
		return map[string]string{"TIDINGS_SMTP_CONNECTIONS": "8", "TIDINGS_CONCURRENCY": "-1"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "TIDINGS_CONCURRENCY: -1: use 1 or more") {
		t.Errorf("TIDINGS_CONCURRENCY=-1: got %v, want it named", err)
	}
	_, err = Load(nil, "", "staging", func(k string) string { return map[string]string{"TIDINGS_SMTP_PORT": "submission"}[k] })
	if err == nil || !strings.Contains(err.Error(), `TIDINGS_SMTP_PORT: "submission" is not a whole number: write digits only, e.g. 587`) {
		t.Errorf("TIDINGS_SMTP_PORT=submission: got %v, want what to write", err)
	}
}

// TestSMTPTimeout: smtp.timeout (TIDINGS_SMTP_TIMEOUT) bounds how long a
// worker waits for the relay to connect, greet and answer each command: a
// relay that never answers fails each attempt after it, so on-call
// shortens the auto-pause against one with it (README, "A relay that never
// answers"). It defaults to 30 s, the sender's own default, and a value
// under a second is refused at its line or variable with what to write.
func TestSMTPTimeout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		file string
		vars map[string]string
		want time.Duration
		err  string
	}{
		{name: "default", want: DefaultSMTPTimeout},
		{name: "config file", file: "environments:\n  staging:\n    smtp:\n      timeout: 10s\n", want: 10 * time.Second},
		{name: "variable over the file", file: "environments:\n  staging:\n    smtp:\n      timeout: 10s\n", vars: map[string]string{"TIDINGS_SMTP_TIMEOUT": "5s"}, want: 5 * time.Second},
		{name: "under a second", file: "environments:\n  staging:\n    smtp:\n      timeout: 500ms\n", err: "t.yaml:4: environments.staging.smtp.timeout: 500ms is under a second: use e.g. 10s"},
		{name: "negative variable", vars: map[string]string{"TIDINGS_SMTP_TIMEOUT": "-5s"}, err: "TIDINGS_SMTP_TIMEOUT: -5s is under a second"},
		{name: "no duration", vars: map[string]string{"TIDINGS_SMTP_TIMEOUT": "30"}, err: `TIDINGS_SMTP_TIMEOUT: "30" is not a duration: write e.g. 500ms, 30s or 10m`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load([]byte(tt.file), "t.yaml", "staging", func(k string) string { return tt.vars[k] })
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %v, want an error containing %q", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			case e.SMTP.Timeout != tt.want:
				t.Errorf("smtp.timeout %s, want %s", e.SMTP.Timeout, tt.want)
			}
		})
	}
}
