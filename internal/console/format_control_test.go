package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestControlOfAnotherStoredFormat: the console of this build, on a
// campaign staged by a build of another stored format (a newer one,
// written with HSET as it would have), pauses it (on-call can always stop
// a send), and refuses resume, approve, cancel and retry with 409, naming
// both formats and what to run, changing nothing; never as a Redis that
// did not answer.
func TestControlOfAnotherStoredFormat(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	const name = "ctlformat"
	w.Stage(t, consoletest.Spec{Name: name, N: 4, Locales: []string{"en"}})
	w.WaitState(t, name, store.StateRunning, time.Minute) // no worker: nobody is sent
	if err := w.Redis.Client().HSet(t.Context(), "tidings:{"+name+"}:meta", "format", strconv.Itoa(store.StoredFormat+1)).Err(); err != nil {
		t.Fatal(err)
	}

	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	_, page, _ := op.get("/c/" + name)
	csrf, stage := csrfRE.FindStringSubmatch(page)[1], stageRE.FindStringSubmatch(page)
	if stage == nil {
		t.Fatalf("the page names no staging:\n%s", page)
	}
	if code, body := op.post("/c/"+name+"/pause", url.Values{"csrf": {csrf}, "reason": {"errors from the relay"}}); code != http.StatusOK || !strings.Contains(body, "Paused") {
		t.Fatalf("pause of a campaign of a newer stored format: %d, want 200\n%s", code, body)
	}
	if st, err := w.Store.Status(t.Context(), name); err != nil || st.State != store.StatePaused {
		t.Fatalf("after the pause: %v (%v), want paused", st, err)
	}
	before, err := w.Store.Status(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []string{"resume", "approve", "cancel", "retry"} {
		form := url.Values{"csrf": {csrf}, "stage": {stage[1]}, "reason": {"why not"}, "confirm": {name}}
		code, body := op.post("/c/"+name+"/"+act, form)
		if code != http.StatusConflict {
			t.Errorf("%s of a campaign of a newer stored format: %d, want 409\n%s", act, code, body)
		}
		for _, want := range []string{fmt.Sprintf("staged by a build with stored format %d; this tidings has format %d", store.StoredFormat+1, store.StoredFormat), "a pause works from any build", "Nothing was changed",
			fmt.Sprintf("no worker of stored format %d is alive in ", store.StoredFormat+1) + consoletest.EnvName + ", so nobody sends it until one runs"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the answer lacks %q\n%s", act, want, body)
			}
		}
		after, err := w.Store.Status(t.Context(), name)
		if err != nil || after.State != store.StatePaused || len(after.Audit) != len(before.Audit) {
			t.Errorf("the refused %s changed the campaign: %v (%v)", act, after, err)
		}
	}
}
