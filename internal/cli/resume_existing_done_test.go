package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestResumeExistingOfADoneCampaignChecksEveryRow: README, "Operator's
// walk-through", step 4. send --resume-existing of a done campaign checks
// the file's rows against it before it says "nothing is left to send": an
// id that now names another address is refused as for a paused or
// cancelled campaign (exit 2); rows the campaign never had (new mailboxes)
// are refused, named by file:line, with what to do (exit 1), since a done
// campaign stays done and they would be sent nothing; only a file whose
// every row is the campaign's is "done: nothing is left to send" (exit 0).
// In every case the campaign stays done, with the same recipients. Found
// by hand (red team 12: exit 0, bob or dave never sent nor reported).
func TestResumeExistingOfADoneCampaignChecksEveryRow(t *testing.T) {
	t.Parallel()
	const header = "id,email,name,locale,posts\n"
	const sent = header + "user-1,alice@example.org,Alice,en,1\nuser-2,carol@example.org,Carol,de,2\n"
	tests := []struct {
		name, rows string
		code       int
		stream     string // "stdout" or "stderr"
		want       []string
		absent     string
	}{
		{"an id names another address", header + "user-1,bob@example.org,Bob,en,1\nuser-2,carol@example.org,Carol,de,2\n", 2, "stderr",
			[]string{`recipients.csv:2: id: "user-1" was staged before for alice@example.org, whose outcome is sent; this row is bob@example.org`}, "nothing is left to send"},
		{"new rows", sent + "user-3,dave@example.org,Dave,en,3\nuser-4,erin@example.org,Erin,fr,4\n", 1, "stderr",
			[]string{`recipients.csv:4: email: dave@example.org (id "user-3") is new to campaign done-rows-1, which is done`, `recipients.csv:5: email: erin@example.org (id "user-4")`,
				"Nothing was staged: 2 row(s) are new to campaign done-rows-1", "a copy of the campaign file with another name, whose recipients file holds only these rows"}, "nothing is left to send"},
		{"every row is the campaign's, one under a new id", header + "user-1,alice@example.org,Alice,en,1\nuser-9,carol@example.org,Carol,de,2\n", 0, "stdout",
			[]string{`is done: nothing is left to send.`}, "is new to"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			renv, _ := redisEnv(t)
			smtp := startSMTP(t, smtpcapture.Config{})
			env := merge(renv, smtpEnv(smtp))
			name := fmt.Sprint("done-rows-", i)
			file := writeCampaign(t, campaignFile{name: name})
			recipients := filepath.Join(filepath.Dir(file), "recipients.csv")
			fixture.Write(t, recipients, sent)
			stop, _ := sendUntil(t, env, file, name, "done")
			stop()

			fixture.Write(t, recipients, tt.rows)
			r := cli(t, env, "send", file, "--env", "staging", "--resume-existing")
			if r.code != tt.code {
				t.Errorf("send --resume-existing of a done campaign: exit %d, want %d\n%s", r.code, tt.code, r)
			}
			out := map[string]string{"stdout": r.stdout, "stderr": r.stderr}[tt.stream]
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "recipients.csv:", recipients+":"); !strings.Contains(out, w) {
					t.Errorf("%s lacks %q\n%s", tt.stream, w, r)
				}
			}
			if strings.Contains(r.stdout+r.stderr, tt.absent) {
				t.Errorf("output says %q\n%s", tt.absent, r)
			}
			if st := status(t, env, name); st.State != "done" || st.Counts["sent"] != 2 || st.Counts["pending"] != 0 {
				t.Errorf("after the refused send: state %s, counts %v; want done, 2 sent, none pending", st.State, st.Counts)
			}
			if n := len(smtp.Messages()); n != 2 {
				t.Errorf("%d messages at the relay, want the first send's 2", n)
			}
		})
	}
}
