package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestPauseAfterTheSessionEnded: on-call signed in on Friday evening and
// left the campaign's page open; at 2 a.m. on Saturday, 13 hours later
// (the 12-hour session over), they press Pause on it. The pause is not
// made, and the answer (the flash beside the button) must say so, and
// why, and what to do: sign in again, then pause again. Before, it said
// "Sign in first." alone: nothing said the campaign was not paused, nor
// that the session had ended, to someone who had signed in hours before.
// Also when the browser no longer sends the cookie (it dropped it at its
// expiry) and through the form without JavaScript (an HTML page).
func TestPauseAfterTheSessionEnded(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "friday", N: 9})
	var later atomic.Int64 // how far the console's clock is ahead
	s := newSiteWith(t, w, func(c *console.Config) {
		c.Clock = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	})
	op := s.signIn(t, operatorToken)
	csrf := op.csrf("/c/friday")
	later.Store(int64(13 * time.Hour))
	form := url.Values{"csrf": {csrf}, "reason": {"bounces climbing"}}
	dropped := s.anonymous(t) // the browser dropped the expired cookie
	for _, tc := range []struct {
		name   string
		c      *client
		asJSON bool
	}{{"the cookie sent, JSON", op, true}, {"the cookie dropped, JSON", dropped, true}, {"the cookie sent, HTML", op, false}} {
		resp := tc.c.do("POST", "/c/friday/pause", form, tc.asJSON)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body := string(raw)
		msg := body
		if tc.asJSON {
			var ans struct {
				OK      bool   `json:"ok"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &ans); err != nil || ans.OK {
				t.Fatalf("%s: answer %q (%v), want a refusal", tc.name, body, err)
			}
			msg = ans.Message
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s, want 403", tc.name, resp.Status)
		}
		for _, want := range []string{"your pause of friday was not applied", "sign in again", "12 hours", "reload"} {
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(want)) {
				t.Errorf("%s: the answer to Pause after the session ended says %q; want it to say %q (that nothing was done, why, and what to do)", tc.name, msg, want)
			}
		}
	}
	if st, err := w.Store.Status(t.Context(), "friday"); err != nil || st.State == store.StatePaused {
		t.Fatalf("after the refused pauses: %v, %v; want it not paused", st.State, err)
	}
}

// TestActionAfterTheSessionEndedClaimsNoState: the refusal of an action
// pressed without a session says what was not done, never the campaign's
// state, which the console, answering someone not signed in, neither
// reads nor may tell. A campaign already paused (by tidings itself at 2
// a.m., or by a colleague) whose Pause is pressed on a page left open past
// the session must not be called "not paused": on-call would resume or
// page someone over a pause that holds. Nor is a cancelled campaign "not
// cancelled".
func TestActionAfterTheSessionEndedClaimsNoState(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "held", N: 3})
	w.Stage(t, consoletest.Spec{Name: "gone", N: 3})
	a := store.Actor{Who: "colleague"}
	if _, err := w.Store.Pause(t.Context(), "held", a, "relay maintenance"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Store.Cancel(t.Context(), "gone", a, "wrong list"); err != nil {
		t.Fatal(err)
	}
	var later atomic.Int64
	s := newSiteWith(t, w, func(c *console.Config) {
		c.Clock = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	})
	op := s.signIn(t, operatorToken)
	csrf := op.csrf("/c/held")
	later.Store(int64(13 * time.Hour))
	for _, tc := range []struct{ campaign, action, noun, state string }{
		{"held", "pause", "pause", "paused"}, {"gone", "cancel", "cancel", "cancelled"},
	} {
		resp := op.do("POST", "/c/"+tc.campaign+"/"+tc.action, url.Values{"csrf": {csrf}, "reason": {"r"}}, true)
		var ans struct {
			OK      bool   `json:"ok"`
			Message string `json:"message"`
		}
		err := json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || ans.OK || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s %s after the session ended: %s %+v (%v), want a 403 refusal", tc.action, tc.campaign, resp.Status, ans, err)
		}
		msg := strings.ToLower(ans.Message)
		if strings.Contains(msg, "not "+tc.state) {
			t.Errorf("%s of %s (already %s) after the session ended: the answer says %q, which calls it not %s", tc.action, tc.campaign, tc.state, ans.Message, tc.state)
		}
		if want := "your " + tc.noun + " of " + tc.campaign + " was not applied"; !strings.Contains(msg, want) {
			t.Errorf("%s of %s after the session ended: the answer says %q; want it to say %q", tc.action, tc.campaign, ans.Message, want)
		}
	}
}
