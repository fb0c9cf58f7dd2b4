package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestReportOfACampaignBeingStaged: `tidings report C` of a campaign whose
// first staging runs says what status says, who stages it and since when,
// and to report it once its send ends, with exit 2: the operator asked
// too early, nothing failed (it was exit 3, an infrastructure failure, and
// the second send's refusal). It writes no rows (standard output empty, an
// --out file not made), so a script does not take an empty report for
// the campaign's.
func TestReportOfACampaignBeingStaged(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	ctx, s := context.Background(), store.New(r.Client())
	sg, err := s.NewStager(ctx, store.StageConfig{Campaign: "busy", Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "bob", Host: "box2", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer sg.Abort(ctx)
	out := filepath.Join(t.TempDir(), "busy.csv")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"csv", nil},
		{"json", []string{"--format", "json"}},
		{"to a file", []string{"--out", out}},
		{"some outcomes", []string{"--outcome", "failed"}},
	} {
		res := cli(t, env, append([]string{"report", "busy", "--env", "staging"}, tt.args...)...)
		for _, want := range []string{`campaign "busy" is being staged by bob@box2 since `, "report it once its send ends: tidings report busy --env staging"} {
			if res.code != 2 || !strings.Contains(res.stderr, want) {
				t.Errorf("%s: want exit 2 and %q\n%s", tt.name, want, res)
			}
		}
		if res.stdout != "" || strings.Contains(res.stderr, "one send stages a campaign at a time") {
			t.Errorf("%s: wrote rows, or the second send's refusal\n%s", tt.name, res)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out %s: made (%v); want no file", out, err)
	}
}
