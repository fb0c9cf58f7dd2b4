package cli

import (
	"encoding/json"
	"os/user"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestApproveAsRecordsTheSignOff: QA's sign-off was recorded only as the
// account that ran `tidings approve` (root@ops1 on a shared host), not as
// the person who checked the canary. `approve --as NAME` records NAME with
// that account, host and time in the audit log, which status (text and
// JSON) and the report show; without --as, the account alone, as before;
// a name with a line break is recorded on one line.
func TestApproveAsRecordsTheSignOff(t *testing.T) {
	t.Parallel()
	account := "unknown"
	if u, err := user.Current(); err == nil {
		account = u.Username
	}
	for _, tt := range []struct {
		name, campaign string
		args           []string
		who            string
	}{
		{"as a QA engineer", "qa-as", []string{"--as", "ana.qa"}, "ana.qa (" + account + ")"},
		{"without --as", "qa-plain", nil, account},
		{"a name on two lines", "qa-lines", []string{"--as", "ana\nqa"}, "ana qa (" + account + ")"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			renv, _ := redisEnv(t)
			env := merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
			file := writeCampaign(t, campaignFile{name: tt.campaign, rows: rowsIn(2, "en"), batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
			stop, _ := sendUntil(t, env, file, tt.campaign, "awaiting-approval")
			stop()
			if r := cli(t, env, append([]string{"approve", tt.campaign, "--env", "staging"}, tt.args...)...); r.code != 0 {
				t.Fatalf("approve\n%s", r)
			}
			var st struct {
				Audit []struct{ Action, Who, Host string }
			}
			if r := cli(t, env, "status", tt.campaign, "--env", "staging", "--json"); json.Unmarshal([]byte(r.stdout), &st) != nil {
				t.Fatalf("status --json\n%s", r)
			}
			var got []string
			for _, e := range st.Audit {
				if e.Action == "approve" {
					got = append(got, e.Who)
					if e.Host == "" {
						t.Errorf("the approval's audit entry names no host: %+v", e)
					}
				}
			}
			if len(got) != 1 || got[0] != tt.who {
				t.Errorf("approvals recorded by %q, want one by %q", got, tt.who)
			}
			contains(t, "status", cli(t, env, "status", tt.campaign, "--env", "staging").stdout, "approve  by "+tt.who+"@")
			contains(t, "report --format json", cli(t, env, "report", tt.campaign, "--env", "staging", "--format", "json").stdout, `"who":"`+tt.who+`"`)
		})
	}
}
