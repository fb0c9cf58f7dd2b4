package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestSendSaysChecksWarningsAndStagesAllTheSame: check warns of a data
// value that is prose printed for recipients of several languages (an
// English sentence every German and Japanese recipient gets as it is);
// send staged such a campaign without a word of it. It now prints
// check's warnings, counted, the first few and where the rest are, after
// the plan and before it stages, and stages all the same (a warning,
// not a refusal): in a dry run and in a real send on a real Redis.
func TestSendSaysChecksWarningsAndStagesAllTheSame(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tmpls := t.TempDir()
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := os.ReadFile(filepath.Join(root, "templates", "welcome", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "text.tmpl" {
			b = append(b, "\n{{.Data.n1}} {{.Data.n2}} {{.Data.n3}} {{.Data.n4}} {{.Data.n5}} {{.Data.n6}} {{.Data.brand}}\n"...)
		}
		fixture.Write(t, filepath.Join(tmpls, "welcome", f), string(b))
	}
	extra := "  brand: \"Altea Community\"\n"
	for i := 1; i <= 6; i++ {
		extra += fmt.Sprintf("  n%d: \"Please log in before Friday %d\"\n", i, i)
	}
	file := writeCampaign(t, campaignFile{tmpls: tmpls, extra: extra, rows: []string{"ada@example.org,Ada,en,1", "bea@example.org,Bea,de,2"}})
	rejects := filepath.Join(t.TempDir(), "r.csv")
	host, port := closedPort(t)
	offline := map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port), "TIDINGS_STATE_DIR": t.TempDir()}
	env, _ := redisEnv(t)
	env["TIDINGS_STATE_DIR"] = t.TempDir()
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		staged string
	}{
		{"dry run", offline, []string{"--dry-run"}, "Dry run"},
		{"send", env, nil, "Staged 2 recipients"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.env, append([]string{"send", file, "--env", "staging", "--rejects", rejects}, tc.args...)...)
			out := r.stdout
			warn := strings.Index(out, "Check: 6 warnings (a warning does not stop the send):")
			staged := strings.Index(out, tc.staged)
			if r.code != 0 || warn < 0 || staged < warn {
				t.Fatalf("want exit 0, check's 6 warnings, then %q\n%s", tc.staged, r)
			}
			if strings.Count(out, "warning: data.n") != 5 || !strings.Contains(out, "campaign.yaml:14: warning: data.n1 is prose (\"Please log in before Friday 1\") sent as it is to the recipients of") ||
				!strings.Contains(out, "  ... and 1 more: 'tidings check "+file+"' lists them all") || strings.Contains(out, "data.brand") {
				t.Errorf("want the first 5 of check's warnings (not brand, a name) and where the last one is\n%s", r)
			}
		})
	}
}
