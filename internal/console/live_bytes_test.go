//go:build livebench

package console_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLiveBytesAtScale measures what a campaign page's stream sends at a
// large campaign, of TIDINGS_LIVE_BENCH_N recipients (200,000 if unset), in batches of
// 500. It is built only with the tag livebench (staging 200,000 takes a
// minute, and CI fails any test that skips).
// Live parts are read each second, as tidings console reads them. It
// logs the page's size, the first message of its stream (before: the
// whole live part again) and the bytes per second over 10 s, the
// campaign paused and then running (one worker at 20/s); a page that
// shows its live part as it is must get "unchanged". Run:
//
//	go test -tags livebench -run TestLiveBytesAtScale -v ./internal/console/
func TestLiveBytesAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TIDINGS_LIVE_BENCH_N"))
	if n <= 0 {
		n = 200000
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
		// Bytes over 10 s, as a page just loaded receives them (its first
		// change is the whole live part: the page has not its lines), and
		// once the stream has sent the whole live part (then changes only).
		window := func(path string, skipFirst bool) float64 {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second+time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", v.base+path, nil)
			resp, err := v.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReaderSize(resp.Body, 1<<20)
			if skipFirst {
				for line := "x"; line != "\n"; {
					if line, err = br.ReadString('\n'); err != nil {
						t.Fatal(err)
					}
				}
			}
			ctx2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
			defer cancel2()
			go func() { <-ctx2.Done(); resp.Body.Close() }()
			got, _ := io.Copy(io.Discard, br)
			return float64(got) / 10
		}
		loaded, steady := window("/c/big/live?v="+m[1], false), window("/c/big/live", true)
		t.Logf("%s, %d recipients: page %d B; its stream's first message %d B (the whole live part: %d B); %.0f B/s over the first 10 s of a page just loaded; %.0f B/s over 10 s once the whole part was sent",
			state, n, len(body), len(first), len(full), loaded, steady)
	}
}
