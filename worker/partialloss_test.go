package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestPartialStateLossMidSend: Redis loses one family of a running
// campaign's keys (an eviction under allkeys-*, a hand's UNLINK) while
// the meta or the ledger stays: the ledger alone, the meta alone, the
// counts alone, or every chunk. Nobody is mailed twice (counted at the SMTP server), and
// the campaign does not run on without a word: it pauses as state loss
// (which resume refuses), or, when what the workers hold in memory was
// all it needed (the chunks, read before), ends with every recipient
// sent once. Before, a campaign whose meta was lost stayed running for
// ever, silently: nobody could load it, status failed to read it.
func TestPartialStateLossMidSend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		family string
		want   store.State // StatePaused: as state loss
		says   string      // what the pause's reason says
	}{
		{family: "ledger", want: store.StatePaused, says: "Redis's ledger has"},
		{family: "meta", want: store.StatePaused, says: "Redis lost this campaign's meta"},
		{family: "counts", want: store.StatePaused, says: "Redis lost this campaign's counts"},
		// Both counters' hashes: before, tick.lua took a campaign whose
		// counts and bstats both lack the field staging writes for an
		// earlier build's, and it ran on for ever without a word.
		{family: "counts,bstats", want: store.StatePaused, says: "Redis lost this campaign's counts (how many recipients have each outcome) and batch counters"},
		{family: "chunks", want: store.StateDone},
	} {
		t.Run(tc.family, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, nil)
			const n = 300
			e.stage(t, opts{n: n, size: n, rate: "40/s"})
			var logs syncbuf.Buffer
			e.startWorker(t, wopts{journal: t.TempDir(), logs: &logs})
			// 40 messages, and one of each chunk (200 recipients, the
			// default size: 0-199, 200-299): every chunk's task has read
			// its chunk, so that losing the chunks costs nothing (a task
			// that starts after they are gone pauses the campaign as
			// state loss, as it must: on a loaded machine chunk 1's task
			// once started after the unlink).
			wait.For(t, 60*time.Second, "40 messages, one of them of each chunk", func() bool {
				chunks := map[int]bool{}
				for addr := range e.received() {
					if i, err := strconv.Atoi(strings.TrimPrefix(addr[:strings.IndexByte(addr, '-')], "u")); err == nil {
						chunks[i/200] = true
					}
				}
				return e.smtp.Count() >= 40 && len(chunks) == (n+199)/200
			})
			prefix := fmt.Sprintf("tidings:{%s}:", e.name)
			var keys []string
			for _, f := range strings.Split(tc.family, ",") {
				keys = append(keys, prefix+f)
			}
			if tc.family == "chunks" {
				var err error
				if keys, err = e.rdb.Keys(ctx, prefix+"chunk:*").Result(); err != nil || len(keys) == 0 {
					t.Fatalf("chunk keys: %v, %v", keys, err)
				}
			}
			if got, err := e.rdb.Unlink(ctx, keys...).Result(); err != nil || got != int64(len(keys)) {
				t.Fatalf("unlink %v: %d, %v", keys, got, err)
			}
			wait.For(t, 90*time.Second, "the campaign to be "+string(tc.want), func() bool { return e.state(t) == tc.want }, func() string {
				p, err := e.st.Probe(ctx, e.name)
				return fmt.Sprintf("probe %+v %v; %d received\n%s", p, err, len(e.received()), logs.String())
			})
			switch tc.want {
			case store.StatePaused:
				ctl := e.rdb.HMGet(ctx, prefix+"control", "action", "reason").Val()
				if ctl[0] != "state-loss" || !strings.Contains(fmt.Sprint(ctl[1]), tc.says) {
					t.Errorf("paused as %v: %v; want state-loss saying %q", ctl[0], ctl[1], tc.says)
				}
				if _, err := e.st.Resume(ctx, e.name, tester, ""); err == nil {
					t.Error("resume of a campaign paused for state loss went through")
				}
			case store.StateDone:
				if got := len(e.received()); got != n {
					t.Errorf("%d recipients received a message, want %d", got, n)
				}
			}
			for addr, c := range e.received() {
				if c > 1 {
					t.Errorf("%s received %d messages", addr, c)
				}
			}
		})
	}
}
