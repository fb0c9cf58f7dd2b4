package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestOnCallStormWithTheBinary: the on-call red team's SMTP error storm,
// end to end: the binary's send, worker, status, resume and report on a
// real redis-server and aiosmtpd (testdata/stormrelay.py, a relay whose
// behaviour the test switches). Every RCPT is answered 421 4.7.0 / 451
// 4.7.1: the campaign pauses itself and status says why, naming the
// reply. Then the relay refuses a third with 550 5.7.1 and drops the
// connection after the whole message of every seventh; on-call resumes
// and the campaign ends. Every recipient has an outcome, report gives
// each refused one its 550 5.7.1, each dropped one is in doubt and was
// never offered to the relay again, and nobody received two messages.
func TestOnCallStormWithTheBinary(t *testing.T) {
	t.Parallel()
	const (
		name = "e2e-storm"
		n    = 300
	)
	relay, phase, port := startScriptRelay(t, "stormrelay.Storm", "4xx")
	e := newEnv(t, port, 4)
	cdir := filepath.Join(e.dir, "campaign")
	bundledCampaignDirs(t, cdir, false)
	var csv strings.Builder
	csv.WriteString("email,name,locale,posts\n")
	for i := range n {
		fmt.Fprintf(&csv, "u%05d@example.com,User %d,en,%d\n", i, i, i%4)
	}
	file := writeCampaign(t, cdir, campaignSpec{name: name, templatesDir: "templates", localesDir: "locales", size: n}, csv.String())
	e.mustRun("send", file, "--env", envName)
	w := e.startWorker("worker-1", 4)

	// The 4xx storm: paused by itself, saying why.
	st := e.waitState(name, "paused", 2*time.Minute, w)
	t.Logf("4xx storm: %s; counts %v", st.Reason, st.Counts)
	if !strings.HasPrefix(st.Reason, "auto-pause:") || !strings.Contains(st.Reason, " 4.7.") {
		t.Errorf("paused for %q, want the auto-pause naming the relay's 421/451", st.Reason)
	}
	if r := e.mustRun("status", name, "--env", envName); !strings.Contains(r.stdout, "4.7.") {
		t.Errorf("status does not show the 4xx replies:\n%s", r.stdout)
	}
	if got := lines(t, filepath.Join(relay, "delivered")); len(got) != 0 {
		t.Errorf("%d messages delivered while the relay refused every recipient", len(got))
	}

	// 550 for a third, drops after the dot; on-call resumes.
	phase("drop")
	e.mustRun("resume", name, "--env", envName, "--reason", "relay answers again")
	st = e.waitState(name, "done", 4*time.Minute, w)
	t.Logf("done: %v", st.Counts)

	rcpts, dropped, delivered := lines(t, filepath.Join(relay, "rcpt")), lines(t, filepath.Join(relay, "dropped")), lines(t, filepath.Join(relay, "delivered"))
	gone := map[string]bool{} // dropped after the dot so far
	for _, r := range rcpts {
		if a, ok := strings.CutPrefix(r, "dropped:"); ok {
			if gone[a] {
				t.Errorf("%s: its message was dropped after the dot twice", a)
			}
			gone[a] = true
		} else if gone[r] {
			t.Errorf("%s offered to the relay again after its message was dropped after the dot", r)
		}
	}
	once := map[string]int{}
	for _, d := range delivered {
		if once[d]++; once[d] == 2 {
			t.Errorf("%s received two messages", d)
		}
	}
	rep := e.report(name)
	if len(rep.Recipients) != n {
		t.Errorf("report lists %d recipients, want %d", len(rep.Recipients), n)
	}
	var sum int64
	for _, c := range rep.Counts {
		sum += c
	}
	if sum != n || rep.Counts["pending"] != 0 {
		t.Errorf("report counts %v: want all %d accounted for, none pending", rep.Counts, n)
	}
	if rep.Counts["sent"] != int64(len(delivered)) {
		t.Errorf("report counts %d sent, the relay delivered %d", rep.Counts["sent"], len(delivered))
	}
	var refused, doubt int
	for _, r := range rep.Recipients {
		var i int
		fmt.Sscanf(r.Email, "u%05d", &i)
		switch {
		case slices.Contains(dropped, r.Email):
			doubt++
			if r.Outcome != "in-doubt" {
				t.Errorf("%s: its message was dropped after the dot, report says %s", r.Email, r.Outcome)
			}
		case i%3 == 0:
			refused++
			if r.Outcome != "failed" || !strings.Contains(r.Code+" "+r.Response, "5.7.1") {
				t.Errorf("%s: refused 550 5.7.1, report says %s %q %q", r.Email, r.Outcome, r.Code, r.Response)
			}
		case r.Outcome != "sent":
			t.Errorf("%s: report says %s %q %q, want sent", r.Email, r.Outcome, r.Code, r.Response)
		}
	}
	if refused == 0 || doubt == 0 || doubt != len(dropped) {
		t.Errorf("%d refused, %d in doubt of %d dropped: the storm did not happen as planned", refused, doubt, len(dropped))
	}
}

// startScriptRelay runs aiosmtpd with the handler class (module.Class,
// a script in testdata taking its directory as argument, as
// testdata/stormrelay.py) in a directory of its own whose file `phase`
// starts as first; it returns the directory, a function that switches
// the phase, and the relay's port.
func startScriptRelay(t *testing.T, class, first string) (dir string, phase func(string), port int) {
	t.Helper()
	needAiosmtpd(t)
	dir = t.TempDir()
	phase = func(p string) { fixture.Write(t, filepath.Join(dir, "phase"), p+"\n") }
	phase(first)
	scripts, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	port = startServer(t, "aiosmtpd ("+class+")", func(port int) (*exec.Cmd, string) {
		cmd := exec.Command(aiosmtpdPython, "-m", "aiosmtpd", "-n",
			"-l", fmt.Sprintf("127.0.0.1:%d", port), "-c", class, dir)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+scripts)
		return cmd, " Python SMTP "
	})
	return dir, phase, port
}

// lines returns the lines of the file at path (none when it does not exist).
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}
