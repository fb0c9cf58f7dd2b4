package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestLoneCRRowIsSentAndReported: in a recipients file whose lines end in
// LF, one row ends in a lone CR (two exports pasted together). The row
// after the CR is a row of its own: send --skip-invalid sends to all four
// recipients, and report lists each of them (found by a red team: bob was
// hidden inside ada's row, in no output of plan, send, the rejects file
// or report).
func TestLoneCRRowIsSentAndReported(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp))
	file := writeCampaign(t, campaignFile{name: "lonecr", rows: []string{
		"zoe@example.org,Zoe,en,4",
		"ada@example.org,Ada,en,1\rbob@example.org,Bob,de,2",
		"cy@example.org,Cy,en,3",
	}})
	rejects := filepath.Join(filepath.Dir(file), "rejects.csv")
	r := cli(t, env, "send", file, "--env", "staging", "--skip-invalid", "--rejects", rejects)
	if r.code != 0 {
		t.Fatalf("send --skip-invalid\n%s", r)
	}
	stop, log := startWorker(t, env)
	waitState(t, env, "lonecr", "done", log)
	stop()
	var to []string
	for _, m := range smtp.Messages() {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	want := []string{"ada@example.org", "bob@example.org", "cy@example.org", "zoe@example.org"}
	if !slices.Equal(to, want) {
		t.Errorf("sent to %q, want %q\nsend said:\n%s", to, want, r)
	}
	rep := cli(t, env, "report", "lonecr", "--env", "staging")
	if rep.code != 0 {
		t.Fatalf("report\n%s", rep)
	}
	for _, addr := range want {
		if !strings.Contains(rep.stdout, addr) {
			t.Errorf("%s, a recipient row of the file, is not in the report:\n%s", addr, rep.stdout)
		}
	}
}
