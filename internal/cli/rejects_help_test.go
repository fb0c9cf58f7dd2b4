package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/plan"
)

// TestRejectsHelpSaysWhatBothDo: `plan --help` and `send --help` describe
// --rejects in one wording (plan said "when there are any", send did not
// say what happens with none), and it is what both do: with no refused or
// invalid row, each writes nothing and removes the campaign's rejects file
// an earlier plan or send left at that path.
func TestRejectsHelpSaysWhatBothDo(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	help := map[string]string{}
	for _, tt := range []struct {
		cmd  string
		args []string
	}{
		{"plan", nil},
		{"send", []string{"--env", "staging"}},
	} {
		res := cli(t, nil, tt.cmd, "--help")
		for _, l := range strings.Split(res.stdout, "\n") {
			if strings.Contains(l, "--rejects") && strings.Contains(l, "default CAMPAIGN-NAME.rejects.csv") {
				help[tt.cmd] = strings.Join(strings.Fields(l), " ") // the columns differ
			}
		}
		if !strings.Contains(help[tt.cmd], "with none, write nothing and remove this campaign's rejects file") {
			t.Errorf("%s --help: --rejects is %q; want what it does with no refused or invalid row\n%s", tt.cmd, help[tt.cmd], res)
		}
		file := writeCampaign(t, campaignFile{name: "clean-" + tt.cmd, rows: []string{"ada@example.org,Ada,en,1"}})
		rejects := filepath.Join(t.TempDir(), "rejects.csv")
		earlier := strings.Join(plan.RejectsHeader, ",") + "\n3,x,not-an-address,en,invalid,,email,not an address,clean-" + tt.cmd + ",staging\n"
		if err := os.WriteFile(rejects, []byte(earlier), 0o600); err != nil {
			t.Fatal(err)
		}
		res = cli(t, env, append([]string{tt.cmd, file, "--rejects", rejects}, tt.args...)...)
		if _, err := os.Stat(rejects); res.code != 0 || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s with no rejected row: the earlier rejects file: %v; want it removed, exit 0\n%s", tt.cmd, err, res)
		}
	}
	if help["plan"] != help["send"] {
		t.Errorf("--rejects: plan says %q, send says %q: want one wording", help["plan"], help["send"])
	}
}
