package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestRelayMisbehavesWithTheBinary: the protocol red team, end to end: the
// binary's send, worker and report on a real redis-server and an aiosmtpd
// relay (testdata/relaymisbehave.py) that, by recipient, answers the
// first RCPT 452 (too many recipients) or 421, holds the first RCPT past
// the worker's smtp.timeout (a tarpit), refuses the message 552 (too
// large), closes the connection after the message but before its reply
// (in doubt), or answers 250 and then closes before QUIT. The campaign
// ends (done: not hung on the tarpit); the report says sent for everyone
// the relay accepted, failed with the 552 5.3.4 for the large ones, and
// in-doubt for those whose reply never came, who were never offered to
// the relay again; nobody received two messages; status names the 552
// and the tarpit's timeouts, in one line of words; and the message the
// relay received for the first recipient decodes to what `preview`
// shows for that recipient (subject, text and HTML).
func TestRelayMisbehavesWithTheBinary(t *testing.T) {
	t.Parallel()
	const name = "e2e-relay"
	relay, port := startMisbehavingRelay(t)
	// The tarpit holds a RCPT 8 s, the worker's smtp.timeout is 2 s.
	e := newEnv(t, port, 2)
	smtpSetting(t, e, "timeout: 2s")

	kinds := map[string]int{"ok": 4, "full": 2, "shut": 2, "slow": 2, "big": 2, "lost": 2, "bye": 3}
	var csv strings.Builder
	csv.WriteString("email,name,locale,posts\n")
	// The first recipient (preview's sample for de) is accepted at once.
	csv.WriteString("ok-0@example.com,Zoë Dupont 🎉,de,3\n")
	var all []string
	all = append(all, "ok-0@example.com")
	for _, k := range []string{"full", "shut", "slow", "big", "lost", "bye", "ok"} {
		for i := range kinds[k] {
			if k == "ok" && i == 0 {
				continue
			}
			a := fmt.Sprintf("%s-%d@example.com", k, i)
			all = append(all, a)
			fmt.Fprintf(&csv, "%s,Jürgen Weiß %d,de,%d\n", a, i, i)
		}
	}
	file := relayCampaign(t, e, name, csv.String())
	e.mustRun("send", file, "--env", envName)
	w := e.startWorker("worker-1", 2)
	st := e.waitState(name, "done", 5*time.Minute, w)
	t.Logf("done: %s; counts %v", st.Reason, st.Counts)

	// The operator is told what the relay did.
	status := e.mustRun("status", name, "--env", envName).stdout
	t.Logf("status:\n%s", status)
	for _, want := range []string{"552", "5.3.4", "in doubt"} {
		if !strings.Contains(status, want) {
			t.Errorf("status does not say %q:\n%s", want, status)
		}
	}

	// The tarpit's two timeouts read alike: one line of recent errors.
	var tarpit []string
	for _, l := range strings.Split(status, "\n") {
		if strings.Contains(l, "timed out waiting for the relay") {
			tarpit = append(tarpit, strings.TrimSpace(l))
		}
	}
	if len(tarpit) != 1 || !strings.HasPrefix(tarpit[0], "2x RCPT TO: ") {
		t.Errorf("status lists the tarpit's timeouts as %q, want one line of 2x RCPT TO", tarpit)
	}

	// Nobody mailed twice; the lost ones offered to the relay once.
	delivered, dropped := lines(t, filepath.Join(relay, "delivered")), lines(t, filepath.Join(relay, "dropped"))
	got := map[string]int{}
	for _, d := range delivered {
		got[d]++
	}
	offered := map[string]int{}
	for _, r := range lines(t, filepath.Join(relay, "rcpt")) {
		offered[r]++
	}
	rep := e.report(name)
	outcome := map[string]string{}
	for _, r := range rep.Recipients {
		outcome[r.Email] = r.Outcome
		kind, _, _ := strings.Cut(r.Email, "-")
		switch kind {
		case "big":
			if r.Outcome != "failed" || !strings.HasPrefix(r.Code, "552") || !strings.Contains(r.Code+" "+r.Response, "5.3.4") {
				t.Errorf("%s: refused 552 5.3.4 after its data, report says %s %q %q", r.Email, r.Outcome, r.Code, r.Response)
			}
			if got[r.Email] != 0 || offered[r.Email] != 1 {
				t.Errorf("%s: refused for good, yet delivered %d, offered %d times", r.Email, got[r.Email], offered[r.Email])
			}
		case "lost":
			if r.Outcome != "in-doubt" {
				t.Errorf("%s: no reply after its data, report says %s %q %q, want in-doubt", r.Email, r.Outcome, r.Code, r.Response)
			}
			if offered[r.Email] != 1 {
				t.Errorf("%s: in doubt, offered to the relay %d times, want once", r.Email, offered[r.Email])
			}
		default:
			if r.Outcome != "sent" || got[r.Email] != 1 {
				t.Errorf("%s: report says %s %q %q, relay delivered %d; want sent, once", r.Email, r.Outcome, r.Code, r.Response, got[r.Email])
			}
		}
	}
	for _, a := range all {
		if _, ok := outcome[a]; !ok {
			t.Errorf("%s: not in the report", a)
		}
		if got[a] > 1 {
			t.Errorf("%s received %d messages", a, got[a])
		}
	}
	if len(dropped) != kinds["lost"] {
		t.Errorf("relay dropped %d messages after their data (%v), want %d", len(dropped), dropped, kinds["lost"])
	}
	for _, k := range []string{"full", "shut", "slow"} {
		if a := k + "-0@example.com"; offered[a] != 2 {
			t.Errorf("%s: offered %d times, want twice (refused for now, then accepted)", a, offered[a])
		}
	}

	// The bytes: what the relay received decodes to the preview.
	out := filepath.Join(e.dir, "preview")
	e.mustRun("preview", file, "--out", out)
	want := readEML(t, filepath.Join(out, "de.eml"))
	have := readEML(t, filepath.Join(relay, "msgs", "ok-0@example.com.1"))
	for _, f := range [][3]string{{"subject", want[0], have[0]}, {"text", want[1], have[1]}, {"html", want[2], have[2]}} {
		if f[1] != f[2] {
			t.Errorf("%s at the relay differs from the preview's:\n%q\nwant\n%q", f[0], f[2], f[1])
		}
	}
}

// TestRelayWithoutStartTLSWithTheBinary: an environment that requires
// TLS (smtp.tls: starttls) and a relay (aiosmtpd) that does not offer
// STARTTLS: the worker sends nothing in clear (the relay sees no MAIL,
// no RCPT, no message), the campaign pauses itself, and the reason and
// status say that the relay does not offer STARTTLS and what to do.
func TestRelayWithoutStartTLSWithTheBinary(t *testing.T) {
	t.Parallel()
	const name = "e2e-nostarttls"
	relay, port := startMisbehavingRelay(t)
	e := newEnv(t, port, 2)
	smtpSetting(t, e, "tls: starttls")
	var csv strings.Builder
	csv.WriteString("email,name,locale,posts\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "ok-%d@example.com,Jürgen Weiß %d,de,%d\n", i, i, i)
	}
	file := relayCampaign(t, e, name, csv.String())
	e.mustRun("send", file, "--env", envName)
	w := e.startWorker("worker-1", 2)
	st := e.waitState(name, "paused", 3*time.Minute, w)
	t.Logf("paused: %s; counts %v", st.Reason, st.Counts)
	for _, want := range []string{"auto-pause:", "does not offer STARTTLS", "tls: tls"} {
		if !strings.Contains(st.Reason, want) {
			t.Errorf("paused for %q, want it to say %q", st.Reason, want)
		}
	}
	if status := e.mustRun("status", name, "--env", envName).stdout; !strings.Contains(status, "nothing was sent, not even a login, in clear") {
		t.Errorf("status does not say that nothing was sent in clear:\n%s", status)
	}
	for _, f := range []string{"mail", "rcpt", "delivered", "dropped"} {
		if got := lines(t, filepath.Join(relay, f)); len(got) != 0 {
			t.Errorf("relay's %s log has %d lines, want none (nothing in clear): %v", f, len(got), got)
		}
	}
}

// readEML returns the decoded subject, text and HTML of the message in file.
func readEML(t *testing.T, file string) [3]string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c := parseCaptured(file, raw)
	if c.err != nil {
		t.Fatalf("%s: %v", file, c.err)
	}
	s, err := c.subject()
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	p, err := c.parts()
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if p.text == "" || p.html == "" || !strings.Contains(p.text, "Zoë") {
		t.Errorf("%s: text %q, HTML %q: want both, for Zoë", file, p.text, p.html)
	}
	return [3]string{s, p.text, p.html}
}

// startMisbehavingRelay starts aiosmtpd with testdata/relaymisbehave.py
// (its tarpit 8 s) and returns its directory and port.
func startMisbehavingRelay(t *testing.T) (string, int) {
	t.Helper()
	needAiosmtpd(t)
	relay := t.TempDir()
	script, err := filepath.Abs(filepath.Join("testdata", "relaymisbehave.py"))
	if err != nil {
		t.Fatal(err)
	}
	port := startServer(t, "aiosmtpd (misbehaving relay)", func(port int) (*exec.Cmd, string) {
		cmd := exec.Command(aiosmtpdPython, "-m", "aiosmtpd", "-n",
			"-l", fmt.Sprintf("127.0.0.1:%d", port), "-c", "relaymisbehave.Misbehave", relay, "8")
		cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Dir(script))
		return cmd, " Python SMTP "
	})
	return relay, port
}

// smtpSetting adds line (e.g. "timeout: 2s") to the environment's smtp
// settings in e's tidings.yaml, replacing the setting if it is there.
func smtpSetting(t *testing.T, e *env, line string) {
	t.Helper()
	b, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	key, _, _ := strings.Cut(line, ":")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "      "+key+":") {
			continue
		}
		if strings.HasPrefix(l, "      helo: ") {
			out = append(out, "      "+line)
		}
		out = append(out, l)
	}
	fixture.Write(t, e.config, strings.Join(out, "\n"))
}

// relayCampaign writes the bundled templates and catalogs, recipients
// (CSV) and a campaign file for them into e's directory, and returns the
// campaign file: one batch, no interval, gates that pause only at 90 %,
// three attempts a second apart.
func relayCampaign(t *testing.T, e *env, name, recipients string) string {
	t.Helper()
	cdir := filepath.Join(e.dir, "campaign")
	bundledCampaignDirs(t, cdir, false)
	fixture.Write(t, filepath.Join(cdir, "recipients.csv"), recipients)
	file := filepath.Join(cdir, "campaign.yaml")
	fixture.Write(t, file, fmt.Sprintf(`name: %s
environment: %s
template: welcome
default_locale: en
recipients: recipients.csv
from: "Altea Community <community@altea.example>"
reply_to: support@altea.example
batches:
  size: 500
  interval: 0s
  max_failure_rate: 0.9
auto_pause:
  error_rate: 0.9
  window: 200
retry:
  max_attempts: 3
  backoff: 1s
data:
  reregister_url: "%s"
`, name, envName, reregisterURL))
	return file
}
