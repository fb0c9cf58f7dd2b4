package console_test

import (
	"html"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestPagesSayFreedOnAnotherHost: `tidings free` ran on another host
// than the one that started the campaign, so this host's start record
// does not note the free, and the console's campaigns page and the
// campaign's page said Redis lost it. Redis keeps its ledger and the
// audit entry of the free: they must say it was freed, by whom, as
// `tidings status CAMPAIGN` does; once Redis loses the ledger too, lost.
func TestPagesSayFreedOnAnotherHost(t *testing.T) {
	t.Parallel()
	w := sentAll(t, "freedelse")
	if _, err := w.Store.Free(t.Context(), "freedelse", consoletest.EnvName, store.Actor{Who: "bo", Host: "otherhost"}); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(w.Dir, "state")
	s := newSiteWith(t, w, func(c *console.Config) { c.StateDir = stateDir })
	v := s.signIn(t, viewerToken)
	page := func(path string) (int, string) {
		code, body, _ := v.get(path)
		return code, strings.Join(strings.Fields(html.UnescapeString(body)), " ")
	}
	if _, body := page("/"); !strings.Contains(body, "Freed by 'tidings free'") || strings.Contains(body, "Redis lost them") {
		t.Errorf("campaigns page, freed on another host: want it freed\n%s", body)
	}
	if code, body := page("/c/freedelse"); code != http.StatusNotFound || !strings.Contains(body, "was freed by 'tidings free' at") || !strings.Contains(body, "bo@otherhost") || strings.Contains(body, "Redis lost it") {
		t.Errorf("campaign page, freed on another host: %d, want 404 saying it was freed by bo@otherhost\n%s", code, body)
	}
	if err := w.Redis.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, body := page("/"); strings.Contains(body, "Freed by 'tidings free'") || !strings.Contains(body, "Redis lost them") {
		t.Errorf("campaigns page once Redis lost the ledger: want it lost\n%s", body)
	}
	if code, body := page("/c/freedelse"); code != http.StatusNotFound || strings.Contains(body, "was freed by") || !strings.Contains(body, "Redis lost it") {
		t.Errorf("campaign page once Redis lost the ledger: %d, want 404 saying Redis lost it\n%s", code, body)
	}
}

// TestPagesSayFreedThenLostIsLost: the campaigns page and the campaign's
// page said "freed" from this host's start record alone once Redis lost
// the freed campaign's ledger too (review of fx40a): they must say lost,
// as `tidings status CAMPAIGN` does.
func TestPagesSayFreedThenLostIsLost(t *testing.T) {
	t.Parallel()
	w := sentAll(t, "freedhere")
	if out, code := w.CLI(t, "free", "freedhere", "--env", consoletest.EnvName, "--yes", "--report-out", filepath.Join(t.TempDir(), "r.csv")); code != 0 {
		t.Fatalf("free: exit %d\n%s", code, out)
	}
	if err := w.Redis.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	s := newSiteWith(t, w, func(c *console.Config) { c.StateDir = filepath.Join(w.Dir, "state") })
	v := s.signIn(t, viewerToken)
	if _, body, _ := v.get("/"); strings.Contains(body, "Freed by") || !strings.Contains(html.UnescapeString(body), "freedhere") {
		t.Errorf("campaigns page once Redis lost the freed campaign's ledger: want it lost\n%s", body)
	}
	if code, body, _ := v.get("/c/freedhere"); code != http.StatusNotFound || !strings.Contains(html.UnescapeString(body), "Redis has since lost its ledger") {
		t.Errorf("campaign page once Redis lost the freed campaign's ledger: %d, want 404 saying Redis lost its ledger\n%s", code, body)
	}
}

// sentAll stages campaign name (3 recipients) with the real send and
// waits until a real worker has sent it all.
func sentAll(t *testing.T, name string) *consoletest.World {
	t.Helper()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: name, N: 3})
	stop := w.StartWorker(t)
	w.WaitState(t, name, store.StateDone, time.Minute)
	stop()
	return w
}
