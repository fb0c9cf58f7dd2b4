package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
)

// TestPlanAndSendWordTheRowsNotSentAlike: `plan` and `send` of the same
// campaign say where its rows not sent are in the same words, from one
// place (plan.Summary.RejectsLine); before, plan said "All 1 refused and
// 1 invalid rows: PATH" and send "Rows not sent written to PATH"
// (golden files of both outputs; DIR is the campaign's directory,
// STATE_DIR the environment's state_dir).
func TestPlanAndSendWordTheRowsNotSentAlike(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "words", locales: filepath.Join(repoRoot(t), "testdata", "locales-incomplete"),
		rows: []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt,3", "bad-email,Bob,de,2"}})
	dir := filepath.Dir(file)
	rejects := filepath.Join(dir, "rejects.csv")
	said := map[string]string{} // command -> its line naming the rejects file
	run := regexp.MustCompile(`\(run [^)]*\)`)
	for _, tt := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"rejects-plan.golden", []string{"plan", file, "--rejects", rejects}, 1},
		{"rejects-send.golden", []string{"send", file, "--env", "staging", "--skip-refused", "--skip-invalid", "--rejects", rejects}, 0},
	} {
		res := cli(t, env, tt.args...)
		for _, l := range strings.Split(res.stdout, "\n") {
			if strings.Contains(l, rejects) {
				said[tt.args[0]] = l
			}
		}
		if res.code != tt.code {
			t.Errorf("%s: want exit %d\n%s", tt.args[0], tt.code, res)
		}
		out := strings.NewReplacer(dir, "DIR", env["TIDINGS_STATE_DIR"], "STATE_DIR").Replace(res.stdout)
		out = run.ReplaceAllString(out, "(run RUN)")
		golden.Check(t, filepath.Join("testdata", tt.golden), out)
	}
	if said["plan"] != said["send"] || said["plan"] == "" {
		t.Errorf("plan says %q, send says %q of the same rows not sent: want one wording", said["plan"], said["send"])
	}
}
