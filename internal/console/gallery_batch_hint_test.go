package console_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// chunkReads counts the staged chunks a client reads (MGET of a chunk key).
type chunkReads struct{ n atomic.Int64 }

func (c *chunkReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *chunkReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.EqualFold(cmd.Name(), "mget") {
			for _, a := range cmd.Args()[1:] {
				if k, _ := a.(string); strings.Contains(k, "}:chunk:") {
					c.n.Add(1)
				}
			}
		}
		return next(ctx, cmd)
	}
}

func (c *chunkReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// hookedStore is w's store on a client of its own with hook: what a
// console of it asks Redis is counted.
func hookedStore(t *testing.T, w *consoletest.World, hook redis.Hook) *store.Store {
	t.Helper()
	rdb := redis.NewClient(w.Redis.Options())
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(hook)
	return store.NewWithConfig(rdb, store.Config{Env: consoletest.EnvName})
}

// TestGalleryOfARecipientFromTheListReadsItsBatch: QA clicks a recipient
// on the recipients page (of a campaign of many batches) to see their
// message. The gallery, and the email's frame, read that recipient's
// batch from Redis, not every staged chunk before it: at 200,000
// recipients, looking up the last one took 1.5 s a page and 2 s a frame
// (BenchmarkStagedGallery, load ~27), each reading every chunk, and a
// million recipients take five times that. The link says the batch
// (b=); a wrong one (a page of an earlier staging) still finds the
// recipient, by reading every chunk as before.
func TestGalleryOfARecipientFromTheListReadsItsBatch(t *testing.T) {
	t.Parallel()
	const c, n = "hinted", 40
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: c, N: n, Locales: []string{"en"}, Size: 4}) // ten batches of four
	var reads chunkReads
	v := newSiteWith(t, w, func(c *console.Config) { c.Store = hookedStore(t, w, &reads) }).signIn(t, viewerToken)
	last := consoletest.Email(n-1, "en")

	_, list, _ := v.get("/c/" + c + "/recipients?q=" + url.QueryEscape(last))
	m := regexp.MustCompile(`href="(/c/` + c + `/gallery\?[^"]+)">` + regexp.QuoteMeta(last) + `<`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("the recipients page does not link %s to the gallery:\n%s", last, list)
	}
	link := html.UnescapeString(m[1])
	reads.n.Store(0)
	code, page, _ := v.get(link)
	if code != 200 || !strings.Contains(page, "picked") || !strings.Contains(page, last) {
		t.Fatalf("GET %s: %d, want the gallery showing %s picked:\n%s", link, code, last, page)
	}
	frame := regexp.MustCompile(`<iframe class="mail" src="([^"]+)"`).FindAllStringSubmatch(page, -1)
	var picked string
	for _, f := range frame {
		if u := html.UnescapeString(f[1]); strings.Contains(u, "r=") {
			picked = u
		}
	}
	if picked == "" {
		t.Fatalf("no frame of %s's message in\n%s", last, page)
	}
	if code, body, _ := v.get(picked); code != 200 || !strings.Contains(body, "<") {
		t.Fatalf("GET %s: %d\n%s", picked, code, body)
	}
	// Its batch is one chunk (four recipients): the page and its frame
	// read it once each, and more only if the layout of chunks changes.
	if got := reads.n.Load(); got > 4 {
		t.Errorf("the gallery and the frame of %s (from the recipients page) read %d staged chunks, want at most 4 (their batch's, not all 10)", last, got)
	}

	// A wrong batch in the link still finds them.
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("b", "0")
	if code, page, _ := v.get(u.Path + "?" + q.Encode()); code != 200 || !strings.Contains(page, "picked") || !strings.Contains(page, last) {
		t.Errorf("with a wrong batch: %d, want the gallery showing %s picked:\n%s", code, last, page)
	}
}

// TestGalleryLookUpWithoutItsBatchReadsABoundedNumberOfChunks: a look-up
// of a recipient typed in the gallery (no b=: no index maps a recipient
// to their chunk) read every staged chunk until it found them: all of a
// million recipients' for the last one, or one not staged. It now reads
// at most Config.LookupChunks chunks, and when it stopped there says so
// and where to open them (the recipients page, whose link names their
// batch); with their batch in the link they are found as before.
func TestGalleryLookUpWithoutItsBatchReadsABoundedNumberOfChunks(t *testing.T) {
	t.Parallel()
	const c, n = "bounded", 40
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: c, N: n, Locales: []string{"en"}, Size: 4}) // ten batches of one chunk
	var reads chunkReads
	v := newSiteWith(t, w, func(cfg *console.Config) {
		cfg.Store = hookedStore(t, w, &reads)
		cfg.LookupChunks = 3
	}).signIn(t, viewerToken)
	for _, tt := range []struct {
		name, query string
		found       bool
	}{
		{"the first recipient", "?r=" + url.QueryEscape(consoletest.Email(0, "en")), true},
		{"the last recipient, without their batch", "?r=" + url.QueryEscape(consoletest.Email(n-1, "en")), false},
		{"nobody staged", "?r=" + url.QueryEscape("nobody@example.org"), false},
		{"the last recipient, with their batch", "?r=" + url.QueryEscape(consoletest.Email(n-1, "en")) + "&b=9", true},
	} {
		reads.n.Store(0)
		code, page, _ := v.get("/c/" + c + "/gallery" + tt.query)
		if got := reads.n.Load(); got > 3 {
			t.Errorf("%s: the look-up read %d staged chunks, want at most 3 (Config.LookupChunks)", tt.name, got)
		}
		switch {
		case tt.found && (code != 200 || !strings.Contains(page, "picked")):
			t.Errorf("%s: %d, want them found and picked:\n%s", tt.name, code, page)
		case !tt.found && (!strings.Contains(page, "first 3 of the 10 staged chunks") || !strings.Contains(page, "/c/"+c+"/recipients")):
			t.Errorf("%s: %d, want the page to say the look-up read the first 3 of the 10 staged chunks, and to link the recipients page:\n%s", tt.name, code, page)
		}
	}
}
