package console_test

import (
	"html"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestPagesNameCampaignsRedisLost: Redis loses a campaign mid-send (a
// FLUSHALL, a new empty instance). On the host that started it (its
// state_dir records the start), `tidings status --env ENV` names it below
// the campaigns Redis has, and `tidings status CAMPAIGN` says that Redis
// lost it and what to run. The console on that host must say the same
// where on-call looks: before, its campaigns page said "No campaign is
// staged in this environment. Stage one with tidings send ...", as if
// nothing had ever run, and the campaign's page "it was never staged
// here, or Redis lost it". Then its pages answered 404 in words of their
// own that sent on-call to `tidings status` for the recovery: each now
// holds, as a sentence, exactly what status prints for the same state
// dir and Redis (nextstep.Lost), with the send that started it as its
// start record keeps it (campaign file and flags, not CAMPAIGN-FILE).
func TestPagesNameCampaignsRedisLost(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.Stage(t, consoletest.Spec{Name: "vanished", N: 9})
	if err := w.Redis.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	out, code := w.CLI(t, "status", "vanished", "--env", consoletest.EnvName)
	status, ok := strings.CutPrefix(strings.TrimSpace(out), "tidings: ")
	if code != 2 || !ok || !strings.Contains(status, "Redis lost it") {
		t.Fatalf("tidings status vanished: exit %d, want 2 saying Redis lost it:\n%s", code, out)
	}
	asStatus := strings.Join(strings.Fields(strings.ToUpper(status[:1])+status[1:]+"."), " ")
	stateDir := filepath.Join(w.Dir, "state")
	s := newSiteWith(t, w, func(c *console.Config) { c.StateDir = stateDir })
	v := s.signIn(t, viewerToken)
	const gone = "Redis has no trace of 1 campaign(s) this host started in environment " + consoletest.EnvName + ": vanished. Redis lost them"
	// Redis has no campaign at all: the page must not say none was staged.
	if _, body, _ := v.get("/"); !strings.Contains(html.UnescapeString(body), gone) || strings.Contains(body, "No campaign is staged") {
		t.Errorf("campaigns page, Redis holding no campaign:\n%s", body)
	}
	w.Stage(t, consoletest.Spec{Name: "kept", N: 9})
	tests := []struct {
		name, path string
		code       int
		want       []string
	}{
		{"campaigns page", "/", http.StatusOK, []string{gone, "tidings status vanished --env " + consoletest.EnvName, `href="/c/kept"`}},
		{"campaigns page, live part", "/live", http.StatusOK, []string{gone}},
		{"the lost campaign's page", "/c/vanished", http.StatusNotFound, []string{
			`Redis has no trace of campaign "vanished"`, "this host started it", "tidings send " + file + " --env " + consoletest.EnvName + " --skip-refused --skip-invalid --rejects " + filepath.Join(w.Dir, "vanished.rejects.csv"), asStatus}},
		{"the lost campaign's live part", "/c/vanished/live", http.StatusOK, []string{asStatus}},
		{"the lost campaign's gallery", "/c/vanished/gallery", http.StatusNotFound, []string{asStatus}},
		{"the lost campaign's recipients", "/c/vanished/recipients", http.StatusNotFound, []string{asStatus}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			var body string
			if strings.HasSuffix(tc.path, "/live") {
				code, body = http.StatusOK, firstLiveEvent(t, v, tc.path)
			} else {
				code, body, _ = v.get(tc.path)
			}
			body = strings.Join(strings.Fields(html.UnescapeString(body)), " ")
			if code != tc.code {
				t.Errorf("GET %s: %d, want %d", tc.path, code, tc.code)
			}
			for _, want := range tc.want {
				if !strings.Contains(body, want) {
					t.Errorf("GET %s lacks %q:\n%s", tc.path, want, body)
				}
			}
			if strings.Contains(body, "No campaign is staged") {
				t.Errorf("GET %s says no campaign is staged:\n%s", tc.path, body)
			}
		})
	}
	// Without the record (another host's console), a campaign Redis does
	// not know is said as before.
	other := newSite(t, w, false).signIn(t, viewerToken)
	if code, body, _ := other.get("/c/vanished"); code != http.StatusNotFound || !strings.Contains(html.UnescapeString(body), `There is no campaign "vanished"`) {
		t.Errorf("another host's console, GET /c/vanished: %d\n%s", code, body)
	}
}
