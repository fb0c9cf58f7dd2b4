package console_test

import (
	"html"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRecoveryAdviceIsStatusWords: a campaign a worker paused for state
// loss, and one whose chunks Redis lost, have their page say what to run
// in the words `tidings status` hints (nextstep.Hint, the one place for
// next-step advice). Before, the page's template had its own copies,
// which said "copy ... to one place" where status said "here", and the
// state loss's lacked the cancel command.
func TestRecoveryAdviceIsStatusWords(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "forgot", N: 9})
	pauseForStateLoss(t, w, "forgot")
	w.Stage(t, consoletest.Spec{Name: "lostp", N: 6})
	loseChunk0(t, w, "lostp")
	op := newSite(t, w, false).signIn(t, operatorToken)
	for _, tt := range []struct {
		c    string
		next store.Next
	}{
		{"forgot", store.NextRecover},
		{"lostp", store.NextLostChunks},
	} {
		_, page, _ := op.get("/c/" + tt.c)
		hint := nextstep.Hint(tt.next, tt.c, consoletest.EnvName)
		if want := strings.ToUpper(hint[:1]) + hint[1:]; !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("the page of %s does not say what tidings status says to run, %q:\n%s", tt.c, want, page)
		}
	}
}

// pauseForStateLoss pauses running campaign c as a worker does when Redis
// forgot deliveries its journal holds.
func pauseForStateLoss(t *testing.T, w *consoletest.World, c string) {
	t.Helper()
	if _, _, err := w.Store.Transition(t.Context(), c, store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
		Actor: store.Actor{Who: "tidings-worker w1", Host: "h"}, Action: "state-loss", Reason: "state loss suspected: test"}); err != nil {
		t.Fatal(err)
	}
}
