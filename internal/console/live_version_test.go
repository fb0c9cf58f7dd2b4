package console_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// versionRE is the version of the live part a page shows.
var versionRE = regexp.MustCompile(`id="live" data-live="[^"]*" data-version="([^"]+)"`)

// firstMessage opens the live stream at path as client c (lastID, when
// not empty, as the browser's Last-Event-ID of a reconnect) and returns
// its first message, as written: the lines up to the first blank one.
func firstMessage(t *testing.T, c *client, path, lastID string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", c.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream %s: %s", path, resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	var msg strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream %s ended before its first message: %v (%q)", path, err, msg.String())
		}
		if line == "\n" {
			return msg.String()
		}
		msg.WriteString(line)
	}
}

// TestLiveSendsOnlyWhatChanged: a live page's stream sends its live part
// only when it differs from what the page shows. The page names the
// version of the live part it was rendered with (data-version, sent back
// as ?v=), and a browser that reconnects the id of the last event it had
// (Last-Event-ID): a stream opened with the version of the live part as
// it is answers a one-line "unchanged" comment; one opened with another
// version (the campaign changed since, or none) the whole live part, with
// its version as the event's id, which a reconnect then sends back.
//
// Before, every page load and every reconnect was sent the whole live
// part again at once, unchanged (126 KB at 200,000 recipients: the list
// of batches), on top of the page that held it.
func TestLiveSendsOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "versions", N: 40, Size: 2})
	v := newSite(t, w, false).signIn(t, viewerToken)
	for _, tc := range []struct{ page, stream string }{{"/c/versions", "/c/versions/live"}, {"/", "/live"}} {
		t.Run(tc.page, func(t *testing.T) {
			_, body, _ := v.get(tc.page)
			m := versionRE.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("%s names no version of its live part:\n%s", tc.page, body)
			}
			shown := m[1]
			for _, open := range []struct{ name, path, lastID string }{
				{"page load", tc.stream + "?v=" + shown, ""},
				{"reconnect", tc.stream + "?v=stale", shown},
			} {
				if got := firstMessage(t, v, open.path, open.lastID); got != ": unchanged\n" {
					t.Errorf("%s: the stream of a page that shows its live part as it is sends %d bytes, want only \": unchanged\":\n%.300s", open.name, len(got), got)
				}
			}
			full := firstMessage(t, v, tc.stream+"?v=stale", "")
			if !strings.HasPrefix(full, "event: live\nid: "+shown+"\ndata: ") || !strings.Contains(full, `data-campaign="versions"`) {
				t.Errorf("the stream of a page that shows another version sends %.300q, want the whole live part with id %s", full, shown)
			}
		})
	}
	// The campaign changes: the version the page showed is no longer
	// current, and its stream sends the live part as it is now.
	_, body, _ := v.get("/c/versions")
	shown := versionRE.FindStringSubmatch(body)[1]
	if _, err := w.Store.Pause(t.Context(), "versions", store.Actor{Who: "t"}, "a change the page has not seen"); err != nil {
		t.Fatal(err)
	}
	changed := firstMessage(t, v, "/c/versions/live?v="+shown, "")
	if !strings.HasPrefix(changed, "event: live\nid: ") || strings.HasPrefix(changed, "event: live\nid: "+shown+"\n") || !strings.Contains(changed, "a change the page has not seen") {
		t.Errorf("after a change, the stream of a page that shows the version before sends %.300q, want the live part as it is now with a new id", changed)
	}
}

// TestLiveBytesAtScale measures what a campaign page's stream sends at a
// large campaign, when TIDINGS_LIVE_BENCH_N (recipients, in batches of
// 500) is set; it is skipped otherwise (staging 200,000 takes a minute).
// Live parts are read each second, as tidings console reads them. It
// logs the page's size, the first message of its stream (before: the
// whole live part again) and the bytes per second over 10 s, the
// campaign paused and then running (one worker at 20/s); a page that
// shows its live part as it is must get "unchanged". Run:
//
//	TIDINGS_LIVE_BENCH_N=200000 go test -run TestLiveBytesAtScale -v ./internal/console/
func TestLiveBytesAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TIDINGS_LIVE_BENCH_N"))
	if n <= 0 {
		t.Skip("a measurement: set TIDINGS_LIVE_BENCH_N=200000 to run it")
	}
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "big", N: n, Size: 500, Rate: "20/s"})
	v := newSiteWith(t, w, func(c *console.Config) { c.LiveInterval = time.Second }).signIn(t, viewerToken)
	for _, state := range []string{"paused", "running"} {
		if state == "paused" {
			if _, err := w.Store.Pause(t.Context(), "big", store.Actor{Who: "bench"}, "measure"); err != nil {
				t.Fatal(err)
			}
		} else {
			if _, err := w.Store.Resume(t.Context(), "big", store.Actor{Who: "bench"}, "measure"); err != nil {
				t.Fatal(err)
			}
			w.StartWorker(t)
		}
		_, body, _ := v.get("/c/big")
		m := versionRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("the page names no version of its live part")
		}
		first := firstMessage(t, v, "/c/big/live?v="+m[1], "")
		full := firstMessage(t, v, "/c/big/live", "")
		if state == "paused" && first != ": unchanged\n" {
			t.Errorf("paused: a page just loaded is sent %d bytes, want \": unchanged\"", len(first))
		}
		// Bytes over a window, as a page just loaded receives them.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", v.base+"/c/big/live?v="+m[1], nil)
		resp, err := v.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cancel()
		t.Logf("%s, %d recipients: page %d B; its stream's first message %d B (the whole live part: %d B); %.0f B/s over 10 s",
			state, n, len(body), len(first), len(full), float64(got)/10)
	}
}
