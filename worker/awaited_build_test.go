package worker_test

import (
	"cmp"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWaitLogNamesAwaitedWorkersOfAnotherBuild: a worker whose chunks
// wait for the delivery-journal checks of other workers alive says, in
// its log line that it waits, which of them run a build of another
// stored format than the campaign's (an upgrade under way: they never
// check it in), with their versions and what to do, as status says it;
// not one of the campaign's format, which is awaited like any other.
func TestWaitLogNamesAwaitedWorkersOfAnotherBuild(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 10, size: 10})
	// Two workers alive that never check in: one of a newer build, one of
	// this build's (stuck, say).
	alive := func() (err error) {
		for _, w := range []string{"w-new", "w-this"} {
			err = cmp.Or(err, e.st.SayAlive(ctx, "test", w, store.CheckInWindow))
		}
		return err
	}
	if err := alive(); err != nil {
		t.Fatal(err)
	}
	go func() { // as often as workers say so; the wait below says if it stopped
		for ctx.Err() == nil {
			_ = alive()
			time.Sleep(store.CheckInWindow / 5)
		}
	}()
	newer := store.StoredFormat + 1
	if err := e.rdb.HSet(ctx, store.BuildsKey("test"), "w-new", fmt.Sprintf("%d v9.9.9", newer), "w-this", fmt.Sprintf("%d v1.0.0", store.StoredFormat)).Err(); err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	e.startWorker(t, wopts{id: "w1", journal: t.TempDir(), logs: &logs})
	var line string
	wait.For(t, 2*time.Minute, "the worker's log to say it waits for w-new and w-this", func() bool {
		for l := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(l, "waiting for other workers") && strings.Contains(l, "w-new") && strings.Contains(l, "w-this") {
				line = l
				return true
			}
		}
		return false
	}, logs.String)
	want := fmt.Sprintf("w-new (version v9.9.9) has stored format %d, not this campaign's %d, and never checks a campaign of another format: stop the workers of another build", newer, store.StoredFormat)
	if !strings.Contains(line, want) {
		t.Errorf("the wait line does not name the awaited worker of another build (%q):\n%s", want, line)
	}
	if strings.Contains(line, "w-this (version") {
		t.Errorf("the wait line names w-this, of the campaign's format, as of another build:\n%s", line)
	}
	if n := e.smtp.Count(); n != 0 {
		t.Errorf("%d sent while w-new and w-this had not checked their journals", n)
	}
}
