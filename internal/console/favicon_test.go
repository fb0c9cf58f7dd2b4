package console_test

import (
	"net/http"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestFaviconIsNoContent: every browser asks for /favicon.ico on its own,
// with or without a session. The console has no icon: it answers 204 (the
// browser shows its default and does not log an error), not 404, which
// filled the browser's console and a proxy's error log with a miss on
// each page.
func TestFaviconIsNoContent(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	s := newSite(t, w, false)
	for _, tc := range []struct {
		name string
		c    *client
	}{
		{"signed out", s.anonymous(t)},
		{"viewer", s.signIn(t, viewerToken)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, h := tc.c.get("/favicon.ico")
			if code != http.StatusNoContent || body != "" {
				t.Errorf("GET /favicon.ico: %d %q, want 204 and no body", code, body)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("GET /favicon.ico: headers %v, want the console's own", h)
			}
		})
	}
}
