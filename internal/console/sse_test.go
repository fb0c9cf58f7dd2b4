package console_test

import (
	"bufio"
	"bytes"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLiveEventsCarryLineBreaksOfAnyKind: a pause reason may hold a bare
// CR or a CRLF (tidings pause --reason $'a\rb'); server-sent events end a
// line at CR, LF or CRLF, so the live update must still carry the whole
// reason, read as a browser reads the stream.
func TestLiveEventsCarryLineBreaksOfAnyKind(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	tests := []struct{ name, reason string }{
		{"bare CR", "disk full\rsee ticket OPS-1"},
		{"CRLF", "disk full\r\nsee ticket OPS-1"},
		{"LF", "disk full\nsee ticket OPS-1"},
	}
	for i, tt := range tests {
		c := "crlf" + string(rune('a'+i))
		w.Stage(t, consoletest.Spec{Name: c, N: 3})
		if _, err := w.Store.Pause(t.Context(), c, store.Actor{Who: "t"}, tt.reason); err != nil {
			t.Fatal(err)
		}
	}
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := "crlf" + string(rune('a'+i))
			ev := firstSpecEvent(t, v, "/c/"+c+"/live")
			for _, want := range []string{`data-state="paused"`, "disk full", "see ticket OPS-1"} {
				if !strings.Contains(ev, want) {
					t.Errorf("the live event lacks %q:\n%s", want, ev)
				}
			}
		})
	}
}

// firstSpecEvent opens the live stream at path as client c and returns
// its first event's data, unescaped, parsed as the HTML standard says an
// event stream is: a line ends at CR, LF or CRLF; a line "data: x" adds x
// to the data; other fields and comments are ignored.
func firstSpecEvent(t *testing.T, c *client, path string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", c.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		i := bytes.IndexAny(data, "\r\n")
		switch {
		case i < 0 && atEOF && len(data) > 0:
			return len(data), data, nil
		case i < 0, data[i] == '\r' && i+1 == len(data) && !atEOF: // a CR whose LF may follow
			return 0, nil, nil
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			return i + 2, data[:i], nil
		}
		return i + 1, data[:i], nil
	})
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" && len(data) > 0 {
			return html.UnescapeString(strings.Join(data, "\n"))
		}
		field, value, _ := strings.Cut(line, ":")
		if field == "data" {
			data = append(data, strings.TrimPrefix(value, " "))
		}
	}
	t.Fatalf("%s: the stream ended: %v", path, sc.Err())
	return ""
}
