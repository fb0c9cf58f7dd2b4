package console_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLiveStreamEndsWithTheSession: a viewer's campaign page is
// open when their 12-hour session ends. From then on the console must not
// keep streaming the campaign to them: the stream ends (the page's badge
// then says "signed out").
//
// The promise (docs/console.md, "Who may do what"): "the session is a
// cookie (HttpOnly, SameSite=Strict, 12 hours)"; "On-call: a campaign at 2
// a.m.", step 3: the badge says "`signed out` when the session ended:
// reload to sign in again"; every page needs a signed-in user
// (internal/console/console.go package doc).
//
// Was (red team 14A): the live stream opened during the session goes on for as
// long as the tab stays open: 13 hours after sign-in (the session over)
// it still delivers the campaign's new state (paused, with the reason)
// to the signed-out browser, and the badge keeps saying "live". The
// existing TestLivePageSaysSignedOut only passes because it cuts the
// connection itself (ts.CloseClientConnections).
//
// Cause: Server.stream checked the session once, when the stream was
// opened (Server.get); its loop now checks the session's expiry before
// every read.
func TestLiveStreamEndsWithTheSession(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "overnight", N: 9})
	var later atomic.Int64 // how far the console's clock is ahead
	srv, err := console.New(console.Config{
		Store: w.Store, Env: consoletest.EnvName, Users: users(t), Compose: compose, LiveInterval: 50 * time.Millisecond,
		Clock: func() time.Time { return time.Now().Add(time.Duration(later.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	v := (&site{Server: ts, w: w}).signIn(t, viewerToken)

	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/c/overnight/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := v.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("live stream during the session: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() (string, bool) { // the next event's data; false when the stream ended
		var ev strings.Builder
		for sc.Scan() {
			if sc.Text() == "" && ev.Len() > 0 {
				return ev.String(), true
			}
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				ev.WriteString(d + "\n")
			}
		}
		return "", false
	}
	if ev, ok := next(); !ok || !strings.Contains(ev, `data-state="running"`) {
		t.Fatalf("setup: first event %q (stream open: %v), want the running campaign", ev, ok)
	}

	// 13 hours later: the session is over (a new request is refused)...
	later.Store(int64(13 * time.Hour))
	if code, _, h := v.get("/c/overnight"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("setup: a page requested after the session ended: %d %s, want a redirect to sign in", code, h.Get("Location"))
	}
	// ...and on-call pauses the campaign.
	if _, err := w.Store.Pause(t.Context(), "overnight", store.Actor{Who: "alice", Host: "h", Env: consoletest.EnvName}, "bounces climbing"); err != nil {
		t.Fatal(err)
	}
	for {
		ev, ok := next()
		if !ok {
			return // the stream ended with the session
		}
		if strings.Contains(ev, `data-state="paused"`) {
			t.Fatalf("13 hours after sign-in (the 12-hour session over, new requests sent to sign in), the open live stream still delivers the campaign's new state to the signed-out browser:\n%s", ev)
		}
	}
}
