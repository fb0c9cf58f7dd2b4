package console_test

import (
	"bufio"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
	next, stop := streamOf(t, c, path, lastID)
	defer stop()
	return next()
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

// streamOf opens the live stream at path as client c (lastID, when not
// empty, as the browser's Last-Event-ID of a reconnect) and returns its
// messages one by one, as written (the lines up to a blank one; the
// test's deadline bounds the wait), and what closes it.
func streamOf(t *testing.T, c *client, path, lastID string) (next func() string, stop func()) {
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
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("stream %s: %s", path, resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	return func() string {
		t.Helper()
		var msg strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stream %s ended: %v (%q)", path, err, msg.String())
			}
			if line == "\n" {
				return msg.String()
			}
			msg.WriteString(line)
		}
	}, func() { resp.Body.Close() }
}

// eventOf splits a message into its event name, id and data lines.
func eventOf(msg string) (event, id string, data []string) {
	for _, line := range strings.Split(strings.TrimSuffix(msg, "\n"), "\n") {
		field, value, _ := strings.Cut(line, ": ")
		switch field {
		case "event":
			event = value
		case "id":
			id = value
		case "data":
			data = append(data, value)
		}
	}
	return event, id, data
}

// TestLiveSendsAChangeAsItsLines: while a stream is open, a change of the
// live part that keeps its lines (a running campaign's figures each
// second; here a pause: state, reason, audit) is sent as the lines that
// changed, a patch on the version the stream last sent, not the whole
// live part again. Applied to what the stream sent before, the patch
// gives exactly the live part as a fresh stream sends it, with its
// version. Before, each change sent the whole live part (132,783 B/s at
// 200,000 recipients running: TestLiveBytesAtScale).
func TestLiveSendsAChangeAsItsLines(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "patched", N: 40, Size: 2})
	v := newSite(t, w, false).signIn(t, viewerToken)
	next, stop := streamOf(t, v, "/c/patched/live", "")
	defer stop()
	first := next()
	ev, id, lines := eventOf(first)
	if ev != "live" || id == "" {
		t.Fatalf("the first message is not the whole live part with its version:\n%.300s", first)
	}
	if _, err := w.Store.Pause(t.Context(), "patched", store.Actor{Who: "t"}, "a change of a few lines"); err != nil {
		t.Fatal(err)
	}
	msg := next()
	ev, newID, data := eventOf(msg)
	if ev != "patch" || len(data) < 2 || data[0] != id {
		t.Fatalf("after the pause the stream sends %.300q, want a patch on version %s", msg, id)
	}
	if len(msg)*4 > len(first) {
		t.Errorf("the patch is %d bytes of a live part of %d: not a change of a few lines", len(msg), len(first))
	}
	for _, d := range data[1:] {
		i, line, ok := strings.Cut(d, "\t")
		n, err := strconv.Atoi(i)
		if !ok || err != nil || n < 0 || n >= len(lines) {
			t.Fatalf("a patch line %q is not INDEX\tLINE of the %d lines", d, len(lines))
		}
		lines[n] = line
	}
	_, freshID, fresh := eventOf(firstMessage(t, v, "/c/patched/live", ""))
	if newID != freshID || strings.Join(lines, "\n") != strings.Join(fresh, "\n") {
		t.Errorf("the patch applied gives version %s:\n%s\nwant the live part as it is, version %s:\n%s", newID, strings.Join(lines, "\n"), freshID, strings.Join(fresh, "\n"))
	}
	if !strings.Contains(strings.Join(lines, "\n"), `data-state="paused"`) {
		t.Errorf("the patched live part does not show the campaign paused")
	}
}
