package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestRecoveryFromAFilteredReportMailsNobodyTwice: the on-call
// engineer saved the report the README tells them to look at
// (`tidings report CAMPAIGN --env ENV --outcome failed,in-doubt`: "decide
// about them with tidings report --outcome in-doubt", README "On-call";
// "--outcome failed,in-doubt filters", README "Operator's walk-through").
// Later Redis loses the campaign, and the journals went with the worker
// host. The refusal says "(only if every journal is gone: a report saved
// before the loss, --exclude-delivered report.csv)", and README ("When
// Redis loses a campaign") says --exclude-delivered takes "a report saved
// with tidings report before the loss"; the promise is "To send to
// everyone not yet delivered, and to nobody twice".
//
// What happens: the filtered report is read as if it listed every row. It
// records the one recipient in doubt and the one failed, nobody sent, so
// send says "Excluding 1 recipients already delivered (0 sent, 1 in
// doubt)" with no warning and stages the eight recipients the relay had
// accepted as new: the worker mails all eight a second time. The JSON
// report even says in its counts that eight were sent (docs/cli.md:
// "--outcome filters the recipients, not the counts"), and a CSV report
// of the campaign has a row for every row of the recipients file; here it
// has two of ten.
//
// Guessed cause: internal/launch/exclude.go readCSV/readJSON (LoadDelivered)
// trust whatever rows a report holds: readJSON ignores the report's
// counts, and nothing compares the rows a report covers with the rows
// staged (internal/launch/launch.go Plan/Stage), so a report filtered by
// --outcome (internal/report/report.go Write keeps o.Outcomes only) passes
// for a full one.
//
// Now a report written with --outcome says so (a filter column in CSV, a
// filter field in JSON), and --exclude-delivered refuses it, and a JSON
// report whose rows hold fewer deliveries than its counts, naming the
// file and saying to give the full report or the journals.
func TestRecoveryFromAFilteredReportMailsNobodyTwice(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			const name = "filtered"
			renv, rd := redisEnv(t)
			smtp := startSMTP(t, smtpcapture.Config{
				Fault: func(rcpt string) error {
					if strings.EqualFold(rcpt, "r2-de@example.org") {
						return smtpcapture.Reject(550, "5.1.1 no such user")
					}
					return nil
				},
				Drop: func(rcpt string) bool { return strings.EqualFold(rcpt, "r1-en@example.org") },
			})
			env := merge(renv, smtpEnv(smtp))
			rows := rowsIn(5, "en", "de")
			file := writeCampaign(t, campaignFile{name: name, rows: rows,
				batches: "  max_failure_rate: 0.5\n  interval: 0s", extra: "auto_pause:\n  error_rate: 0.5\n"})
			rejects := filepath.Join(t.TempDir(), "rejects.csv")

			stop, _ := sendUntil(t, env, file, name, "done")
			stop()
			if got := smtp.Count(); got != len(rows)-2 {
				t.Fatalf("the SMTP server received %d messages, want %d (one refused, one dropped after the data)", got, len(rows)-2)
			}
			report := filepath.Join(t.TempDir(), "on-call."+format)
			if r := cli(t, env, "report", name, "--env", "staging", "--outcome", "failed,in-doubt", "--format", format, "--out", report); r.code != 0 {
				t.Fatalf("report\n%s", r)
			}

			// The loss: Redis and the journals are gone.
			if err := rd.Wipe(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(env["TIDINGS_STATE_DIR"], "journal")); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if r := cli(t, env, "send", file, "--env", "staging"); r.code == 0 || !strings.Contains(r.stderr, "Redis lost its state") {
				t.Fatalf("send after the loss: want the state-loss refusal\n%s", r)
			}
			r := cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", report, "--rejects", rejects)
			t.Logf("send --exclude-delivered %s:\n%s", filepath.Base(report), r)
			if r.code == 0 {
				stop, log := startWorker(t, env)
				waitState(t, env, name, "done", log)
				stop()
			}
			per := map[string]int{}
			for _, m := range smtp.Messages() {
				for _, to := range m.To {
					per[strings.ToLower(to)]++
				}
			}
			var twice []string
			for to, n := range per {
				if n > 1 {
					twice = append(twice, to)
				}
			}
			if len(twice) > 0 {
				t.Errorf("%d recipients received two messages of campaign %s after a recovery from the report saved with --outcome failed,in-doubt: %v", len(twice), name, twice)
			}
		})
	}
}
