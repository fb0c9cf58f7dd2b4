package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/store"
)

// clock matches the times status prints (UTC, or RFC 3339), replaced
// in its golden files by TIME.
var clock = regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)?`)

// TestStatusOfAStagingSaysItOnce: `tidings status C` of a campaign whose
// first staging has not ended shows it (exit 0, golden), paused or not:
// one being staged as being-staged, by whom and since when (before, it
// was exit 3 saying only that it was being staged, not whether it was
// paused); one whose staging was interrupted, and paused meanwhile, says
// the pause once, on its Pause: line, with when (before, its state's
// reason said it too). A re-staging interrupted and paused says it once
// too (and its audit log has the pause). One being staged and paused is
// not told to pause it.
func TestStatusOfAStagingSaysItOnce(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	ctx, s := context.Background(), store.New(r.Client())
	stager := func(c string, again bool) *store.Stager {
		t.Helper()
		sg, err := s.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "bob", Host: "box2", ChunkSize: 7, ResumeExisting: again})
		if err != nil {
			t.Fatal(err)
		}
		return sg
	}
	pause := func(c string) {
		t.Helper()
		if _, err := s.Pause(ctx, c, store.Actor{Who: "alice", Env: "staging"}, "fix the list"); err != nil {
			t.Fatal(err)
		}
	}
	busy := stager("busy", false) // its send runs meanwhile
	defer busy.Abort(ctx)
	busyPaused := stager("busy-paused", false)
	defer busyPaused.Abort(ctx)
	pause("busy-paused")
	stager("halfway", false).Abort(ctx) // its send stopped
	pause("halfway")
	stageCampaign(t, env, "again")
	pause("again")
	again := stager("again", true)
	if err := again.Add(ctx, store.Recipient{Line: 2, ID: "ada@example.org", Email: "ada@example.org", Lang: "en"}, 0, false); err != nil {
		t.Fatal(err)
	}
	again.Abort(ctx) // its send stopped
	for _, tt := range []struct {
		c, golden string
		want      []string
	}{
		{"busy", "status-being-staged.golden", []string{"BEING-STAGED by bob@box2 at "}},
		{"busy-paused", "status-being-staged-paused.golden", []string{"BEING-STAGED by bob@box2 at ", "\nPause:    paused meanwhile by alice at "}},
		{"halfway", "status-staging-interrupted-paused.golden", []string{"STAGING-INTERRUPTED by bob@box2 at ", "\nPause:    paused meanwhile by alice at "}},
		{"again", "", []string{"RESTAGING-INTERRUPTED by bob@box2 at ", "\nPause:    paused meanwhile by alice at "}},
	} {
		res := cli(t, env, "status", tt.c, "--env", "staging")
		if strings.Contains(res.stdout, "tidings pause") && tt.c != "busy" {
			t.Errorf("status %s: says to pause a campaign paused already\n%s", tt.c, res)
		}
		for _, want := range tt.want {
			if res.code != 0 || !strings.Contains(res.stdout, want) {
				t.Errorf("status %s: want exit 0 and %q\n%s", tt.c, want, res)
			}
		}
		paused := strings.Contains(tt.c, "paused") || tt.c == "halfway" || tt.c == "again"
		said, _, _ := strings.Cut(res.stdout, "\nAudit log:") // which has the pause's entry
		if n := strings.Count(said, "fix the list"); paused && n != 1 || !paused && n != 0 {
			t.Errorf("status %s says the pause %d times, want %v once\n%s", tt.c, n, paused, res)
		}
		if tt.golden != "" {
			golden.Check(t, filepath.Join("testdata", tt.golden), clock.ReplaceAllString(res.stdout, "TIME"))
		}
	}
}
