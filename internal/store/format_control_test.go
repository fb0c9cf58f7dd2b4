package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestControlOfAnotherStoredFormat: of a campaign staged by a build of
// another stored format (a newer build's, or one before stored formats),
// this build's pause works (on-call must always be able to stop a send:
// it writes only the control's state and an audit entry, which every
// format keeps), while resume, approve, cancel and retry, which write
// what the campaign's own build reads (the auto-pause window, the idle
// time, the approval, ledger entries and counters), are refused before
// anything is written, naming both formats and what to run.
func TestControlOfAnotherStoredFormat(t *testing.T) {
	t.Parallel()
	builds := map[string]string{ // what the refusal says of the workers of that format
		"newer": "whose workers send it (alive in test: w-new runs v9.9.9)",
		"older": "whose workers send it (alive in test: w-old runs v0.9.0)",
		"none":  "whose workers send it (a build before stored formats records none",
	}
	for _, tt := range otherFormats {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c := "ctlfmt-" + tt.name
			stage(t, st, c, stageOpts{n: 10, canary: 1, size: 3})
			if _, err := st.Resume(ctx, c, who, "start"); err != nil {
				t.Fatal(err)
			}
			setFormat(ctx, rdb, c, tt.format)
			// Workers alive: one of this build, one of a newer format, one
			// of the format before.
			for _, w := range []string{"w-this", "w-new", "w-old"} {
				if err := st.SayAlive(ctx, "test", w, store.CheckInWindow); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.SayBuild(ctx, "test", "w-this", "v1.0.0"); err != nil {
				t.Fatal(err)
			}
			rdb.HSet(ctx, store.BuildsKey("test"), "w-new", strconv.Itoa(store.StoredFormat+1)+" v9.9.9", "w-old", strconv.Itoa(store.StoredFormat-1)+" v0.9.0")

			if _, err := st.Pause(ctx, c, who, "errors from the relay"); err != nil {
				t.Fatalf("pause of a campaign of stored format %d: %v; want it paused", tt.want, err)
			}
			if ctl, err := st.Control(ctx, c); err != nil || ctl.State != store.StatePaused || ctl.Reason != "errors from the relay" {
				t.Fatalf("after the pause: %+v (%v), want paused with its reason", ctl, err)
			}

			before := keysOf(ctx, rdb, c)
			for _, a := range []struct {
				action string
				do     func() error
			}{
				{"resume", func() error { _, err := st.Resume(ctx, c, who, ""); return err }},
				{"approve", func() error { _, err := st.Approve(ctx, c, "", true, who, ""); return err }},
				{"cancel", func() error { _, _, err := st.Cancel(ctx, c, who, "give up"); return err }},
				{"retry", func() error { _, err := st.Requeue(ctx, c, who, store.RetryScope{Permanent: true}); return err }},
			} {
				err := a.do()
				var fe *store.FormatError
				if !errors.As(err, &fe) || fe.Format != tt.want || fe.Want != store.StoredFormat || fe.Campaign != c {
					t.Errorf("%s of a campaign of stored format %d: %v, want a *store.FormatError", a.action, tt.want, err)
					continue
				}
				for _, w := range []string{
					a.action + " " + c + ": campaign " + c + " was staged by a build with stored format " + store.FormatName(tt.want) + "; this tidings has format " + strconv.Itoa(store.StoredFormat),
					a.action + " it with a tidings of the build that staged it", builds[tt.name],
					"a pause works from any build",
				} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: the refusal %q lacks %q", a.action, err, w)
					}
				}
				if after := keysOf(ctx, rdb, c); !reflect.DeepEqual(before, after) {
					t.Fatalf("the refused %s changed the campaign's keys", a.action)
				}
			}

			// The same actions with this build's format go through.
			setFormat(ctx, rdb, c, strconv.Itoa(store.StoredFormat))
			if _, err := st.Resume(ctx, c, who, ""); err != nil {
				t.Errorf("resume of this build's format: %v", err)
			}
			if _, _, err := st.Cancel(ctx, c, who, "done testing"); err != nil {
				t.Errorf("cancel of this build's format: %v", err)
			}
		})
	}
}

// TestStatusNamesAwaitedWorkersOfAnotherFormat: of the workers a running
// campaign's chunks wait for (Awaited: alive, not checked in), status
// names those that recorded another stored format than the campaign's
// (a rolling upgrade: they never check in for it, so nothing is claimed
// until they stop), with their builds; not one of the campaign's format,
// nor one that recorded none.
func TestStatusNamesAwaitedWorkersOfAnotherFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	c := "awaited-format"
	stage(t, st, c, stageOpts{n: 10, size: 10})
	if _, err := st.Resume(ctx, c, who, "start"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"w-new", "w-none", "w-this"} {
		if err := st.SayAlive(ctx, "test", w, store.CheckInWindow); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SayBuild(ctx, "test", "w-this", "v1.0.0"); err != nil {
		t.Fatal(err)
	}
	rdb.HSet(ctx, store.BuildsKey("test"), "w-new", strconv.Itoa(store.StoredFormat+1)+" v9.9.9")
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"w-new", "w-none", "w-this"}; !slices.Equal(s.Awaited, want) {
		t.Fatalf("Awaited = %v, want %v", s.Awaited, want)
	}
	if want := []store.WorkerBuild{{Worker: "w-new", Format: store.StoredFormat + 1, Version: "v9.9.9"}}; !slices.Equal(s.AwaitedOtherFormat, want) {
		t.Errorf("AwaitedOtherFormat = %+v, want %+v", s.AwaitedOtherFormat, want)
	}
}
