package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestRedteam12BLoneCRRowIsInTheReport: the operator's view of the fault
// TestRedteam12BLoneCRInAnLFFileIsNotAHiddenRow (internal/recipient) shows:
// a recipients file with LF line ends in which one row ends in a lone CR.
// plan says "3 rows: 2 accepted, 0 refused, 1 invalid" for four recipients;
// `send --skip-invalid` (the documented way to send to the others) and a
// worker deliver to two of them, and `report` lists three rows: the fourth
// recipient, bob, is neither sent nor refused nor invalid, nowhere in the
// report or the rejects file, and nothing says he was left out.
//
// The promise (README, Operator's walk-through, step 2): "Rows read always
// equal accepted + refused + invalid (+ skipped)"; step 8: "`tidings report`
// ... lists every recipient row with its outcome"; README, Campaign file
// reference: "CRLF, LF or CR line endings"; the house rule: "every
// recipient row is accounted for".
//
// What happens: the row "ada...,en,1<CR>bob...,de,2" is one invalid row
// (line 2, "the row has 7 fields, the header has 4: quote values that
// contain commas"), reported under ada's address only; bob@example.org is
// in no output of plan, send, the rejects file or report.
//
// Guessed cause: internal/recipient/recipient.go:259 (crLineEnds) reads a
// lone CR as a line end only when the first line ends in one; encoding/csv
// keeps any other lone CR inside the field, joining two rows into one.
func TestRedteam12BLoneCRRowIsInTheReport(t *testing.T) {
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
	sent := r.stdout + r.stderr
	stop, log := startWorker(t, env)
	waitState(t, env, "lonecr", "done", log)
	stop()
	rep := cli(t, env, "report", "lonecr", "--env", "staging")
	if rep.code != 0 {
		t.Fatalf("report\n%s", rep)
	}
	if !strings.Contains(rep.stdout, "bob@example.org") {
		t.Errorf("bob@example.org, a recipient row of the file (line 3 to any editor that shows the CR as a line break), is not in the report: %d messages sent, the report is\n%s\nsend said:\n%s",
			smtp.Count(), rep.stdout, sent)
	}
}
