package console_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// openStream opens the live stream at path as client c, as EventSource
// does, and returns the answer with its body open (the stream).
func (c *client) openStream(path string) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(c.t.Context(), "GET", c.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// refusedStream checks that the stream at path is refused to c with
// status and words, and a Retry-After.
func (c *client) refusedStream(path string, status int, words string) {
	c.t.Helper()
	resp := c.openStream(path)
	if resp.StatusCode == http.StatusOK {
		c.t.Errorf("stream %s: 200, want %d saying %q", path, status, words)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), words) {
		c.t.Errorf("stream %s: %d, Retry-After %q, %q; want %d with Retry-After saying %q", path, resp.StatusCode,
			resp.Header.Get("Retry-After"), b, status, words)
	}
}

// TestLiveStreamsCapped: live streams are capped per sign-in (429) and
// overall (503), in words; a stream whose client goes frees its slot.
func TestLiveStreamsCapped(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "capped", N: 3})
	s := newSiteWith(t, w, func(c *console.Config) { c.LiveStreams = console.LiveLimit{PerSession: 2, Overall: 3} })
	alice, quinn := s.signIn(t, operatorToken), s.signIn(t, viewerToken)

	first := alice.openStream("/live")
	if second := alice.openStream("/c/capped/live"); first.StatusCode != http.StatusOK || second.StatusCode != http.StatusOK {
		t.Fatalf("alice's two streams: %d, %d, want 200", first.StatusCode, second.StatusCode)
	}
	alice.refusedStream("/c/capped/live", http.StatusTooManyRequests, "This sign-in has 2 live pages open already, the most one sign-in may have")
	if r := quinn.openStream("/live"); r.StatusCode != http.StatusOK {
		t.Fatalf("quinn's stream: %d, want 200", r.StatusCode)
	}
	quinn.refusedStream("/live", http.StatusServiceUnavailable, "The console serves 3 live pages already, the most it serves at once")
	if got := console.OpenStreams(s.srv); got != 3 {
		t.Fatalf("%d streams open, want 3", got)
	}
	if log := s.log(); !strings.Contains(log, `level=WARN msg="console: refused live pages: as many streams open as the console serves" refused=1 overall=3`) {
		t.Errorf("the overall refusal is not logged:\n%s", log)
	}

	first.Body.Close() // alice closes a tab
	waitOpenStreams(t, s, 2)
	if r := quinn.openStream("/c/capped/live"); r.StatusCode != http.StatusOK {
		t.Errorf("quinn's stream once alice's closed: %d, want 200", r.StatusCode)
	}
}

// waitOpenStreams waits until the console serves n live streams (it sees
// a client go when it next reads from its connection).
func waitOpenStreams(t *testing.T, s *site, n int) {
	t.Helper()
	give := time.After(5 * time.Minute) // not a bound on the console: on a test that would wait forever
	for console.OpenStreams(s.srv) != n {
		select {
		case <-give:
			t.Fatalf("%d streams open, want %d", console.OpenStreams(s.srv), n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
