package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestPauseRefusedWhenTheReplicaJudgementFails: the console judges the
// replica acknowledgements (redisconn.Judge, min_replica_acks auto: the
// master's INFO) before each action. When that judgement fails (here a
// real Redis whose user may not run INFO), the pause was never attempted:
// the 503 says so (not paused, nothing was changed, why, what to do), and
// not that it "may not have been applied"; the campaign is still running.
func TestPauseRefusedWhenTheReplicaJudgementFails(t *testing.T) {
	t.Parallel()
	r, w, op := judgedSite(t, "judged")
	if err := r.Client().Do(t.Context(), "ACL", "SETUSER", "default", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	code, body := op.post("/c/judged/pause", url.Values{"csrf": {op.csrf("/c/judged")}, "reason": {"bounces"}})
	body = message(t, body)
	for _, want := range []string{"Not paused:", "replicas", "The pause was not attempted: nothing was changed.", "Press Pause again", "tidings doctor --env " + consoletest.EnvName} {
		if code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
			t.Errorf("pause while the judgement fails: %d, want 503 saying %q\n%s", code, want, body)
		}
	}
	if strings.Contains(body, "may not have") {
		t.Errorf("pause never attempted, yet the console says it may not have been applied:\n%s", body)
	}
	if st, err := w.Store.Status(t.Context(), "judged"); err != nil || st.State != store.StateRunning {
		t.Errorf("after the refused pause: %v (%v), want the campaign still running", st.State, err)
	}
}

// TestPauseUnansweredAfterTheJudgementKeepsMayNot: when the judgement
// passes and the pause itself is sent but Redis does not answer it (a
// real server that holds every write: CLIENT PAUSE WRITE), the console
// cannot know whether it was applied, and says so: "may not have been
// applied", not "Not paused".
func TestPauseUnansweredAfterTheJudgementKeepsMayNot(t *testing.T) {
	t.Parallel()
	r, _, op := judgedSite(t, "held")
	csrf := op.csrf("/c/held")
	admin := r.Client()
	if err := admin.Do(t.Context(), "CLIENT", "PAUSE", "600000", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Do(context.WithoutCancel(t.Context()), "CLIENT", "UNPAUSE").Err() })
	code, body := op.post("/c/held/pause", url.Values{"csrf": {csrf}, "reason": {"bounces"}})
	body = message(t, body)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "the pause may not have been applied") || strings.Contains(body, "Not paused") {
		t.Errorf("pause sent and unanswered: %d, want 503 saying it may not have been applied\n%s", code, body)
	}
}

// message is the message of the console's JSON answer to an action.
func message(t *testing.T, body string) string {
	t.Helper()
	var a struct{ Message string }
	if err := json.Unmarshal([]byte(body), &a); err != nil || a.Message == "" {
		t.Fatalf("answer %q: not a message (%v)", body, err)
	}
	return a.Message
}

// judgedSite is siteOfItsOwn with the console judging the replica
// acknowledgements before each action as tidings console does (Judge:
// redisconn.Judge for the world's environment, min_replica_acks auto),
// and an operator signed in.
func judgedSite(t *testing.T, c string) (*redistest.Redis, *consoletest.World, *client) {
	t.Helper()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	w := consoletest.NewOn(t, r, nil)
	w.Stage(t, consoletest.Spec{Name: c, N: 6})
	file, err := os.ReadFile(w.Config)
	if err != nil {
		t.Fatal(err)
	}
	e, err := environment.Load(file, w.Config, consoletest.EnvName, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !e.Redis.AutoReplicaAcks() {
		t.Fatalf("min_replica_acks %d, want auto (its judgement reads INFO)", e.Redis.MinReplicaAcks)
	}
	s := newSiteWith(t, w, func(cfg *console.Config) {
		cfg.Judge = func(ctx context.Context) error { return redisconn.Judge(ctx, w.Store, e) }
	})
	return r, w, s.signIn(t, operatorToken)
}
