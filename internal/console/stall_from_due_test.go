package console_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestStallCountsFromWhenWorkBecameDue: README, "On-call" ("The console's
// "No progress for ...", with the same advice, and the no-progress
// notification count the same way, from the later of the last outcome and
// when work became due"). A console that first looks at a running campaign
// no worker sends five minutes after it was staged (no outcome recorded,
// no other console or notifier ran meanwhile) says "No progress for", as
// `tidings status` does, not counting from its own first look; its page
// shows no "last progress" time, since there was none. Found by hand (red
// team 12): status said "NO PROGRESS for 1m35s" while a console started
// 30 s after the send said "No progress for 1m6s", and showed "Last
// progress" at its own start time although no outcome was ever recorded.
func TestStallCountsFromWhenWorkBecameDue(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "nobody-sends", N: 9}) // running; no worker runs
	stalledFor(t, w, "nobody-sends", 5*time.Minute)          // staged five minutes ago, in Redis's clock
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	for _, path := range []string{"/", "/c/nobody-sends"} {
		_, body, _ := v.get(path)
		body = html.UnescapeString(body)
		if !strings.Contains(body, "No progress for ") {
			t.Errorf("%s: the campaign has been due for 5 minutes with no outcome, want \"No progress for ...\" as tidings status says (the page has no such line)", path)
		}
	}
	_, body, _ := v.get("/c/nobody-sends")
	body = html.UnescapeString(body)
	if want := "<dt>Last progress</dt><dd>none yet (no outcome recorded)</dd>"; !strings.Contains(body, want) {
		t.Errorf("the campaign page of a campaign with no outcome lacks %q", want)
	}
}
