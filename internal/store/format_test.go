package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStoredFormat: staging writes this build's stored format, which Meta,
// Probe, Format and Status read; a campaign of another format (a newer
// build's, or one before stored formats: none recorded) is refused by
// Format, and a staging again that keeps its outcomes (--resume-existing)
// refuses it before writing anything, saying what to do; with this
// build's format the same staging goes through.
func TestStoredFormat(t *testing.T) {
	t.Parallel()
	for _, tt := range otherFormats {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c := "fmt-" + tt.name
			stage(t, st, c, stageOpts{n: 10, size: 10})
			if m, err := st.Meta(ctx, c, false); err != nil || m.Format != store.StoredFormat {
				t.Fatalf("staged: format %v (%v), want %d", m, err, store.StoredFormat)
			}
			if _, err := st.Pause(ctx, c, who, "to stage it again"); err != nil {
				t.Fatal(err)
			}
			setFormat(ctx, rdb, c, tt.format)
			f, err := st.Format(ctx, c)
			var fe *store.FormatError
			if f != tt.want || !errors.As(err, &fe) || fe.Format != tt.want || fe.Want != store.StoredFormat || fe.Campaign != c {
				t.Errorf("Format: %d, %v; want %d and a *FormatError", f, err, tt.want)
			}
			p, err := st.Probe(ctx, c)
			if err != nil || p.Format != tt.want {
				t.Errorf("Probe: format %d (%v), want %d", p.Format, err, tt.want)
			}
			if perr := p.CheckFormat(c); perr == nil || fe == nil || err != nil || perr.Error() != fe.Error() {
				t.Errorf("Probe's format check: %v; want Format's %v, word for word", perr, fe)
			}
			s, err := st.Status(ctx, c)
			if err != nil || s.Format == nil || *s.Format != tt.want {
				t.Errorf("Status: format %v (%v), want %d", s, err, tt.want)
			}

			before := keysOf(ctx, rdb, c)
			_, err = st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ResumeExisting: true})
			if !errors.As(err, &fe) || fe.Format != tt.want {
				t.Fatalf("staging it again keeping its outcomes: %v, want a *FormatError", err)
			}
			for _, w := range []string{"campaign " + c + " was staged by a build with stored format", "stage it again with the build that staged it"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal %q lacks %q", err, w)
				}
			}
			if after := keysOf(ctx, rdb, c); !reflect.DeepEqual(before, after) {
				t.Error("the refused staging changed the campaign's keys")
			}

			setFormat(ctx, rdb, c, strconv.Itoa(store.StoredFormat))
			if _, err := st.Format(ctx, c); err != nil {
				t.Errorf("Format of this build's: %v", err)
			}
			if p, err := st.Probe(ctx, c); err != nil || p.CheckFormat(c) != nil {
				t.Errorf("Probe's format check of this build's: %v (%v)", p.CheckFormat(c), err)
			}
			stage(t, st, c, stageOpts{n: 10, size: 10, resume: true})
		})
	}
}

// otherFormats are the stored formats of campaigns this build refuses: a
// newer build's, the build before's (one that recorded its format), and
// none recorded (a build before stored formats).
var otherFormats = []struct {
	name, format string // "": no format field
	want         int
}{
	{"newer", strconv.Itoa(store.StoredFormat + 1), store.StoredFormat + 1},
	{"older", strconv.Itoa(store.StoredFormat - 1), store.StoredFormat - 1},
	{"none", "", store.FormatNone},
}

// TestStoredFormatCoversLayoutChanges: each change of a campaign's stored
// layout that a worker of the build before would misread came with a bump
// (StoredFormat's rule), so this build's format is at least the one that
// change was first written with, and a worker of the format before
// refuses a campaign holding it. Format 2: meta's unsub_key (a worker of
// format 1 ignores it and mails links the site refuses) and held's record
// {i, s: true, k, r} of a suppressed row kept in doubt (step.lua of format
// 1 gives it back by its chunked branch, writes held and in-doubt, then
// fails on its language: the retried step leaves the row unaccounted).
func TestStoredFormatCoversLayoutChanges(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		change string
		since  int // the first stored format that writes it
	}{
		{"meta unsub_key", 2},
		{"held record {i, s, k, r} of a suppressed row", 2},
		{"control cancel_swept, cancel_sending: the sums of a cancel's sweeps", 3},
	} {
		if store.StoredFormat < tt.since {
			t.Errorf("the layout change %q came with stored format %d; this build's is %d: bump StoredFormat", tt.change, tt.since, store.StoredFormat)
		}
	}
	if store.StoredFormat-1 == store.FormatNone {
		t.Error("the build before this one's format is FormatNone: otherFormats' \"older\" tests no build that recorded its format")
	}
}

// setFormat writes format as campaign c's stored format, as the build of
// that format would have staged it ("": none, a build before formats).
func setFormat(ctx context.Context, rdb *redis.Client, c, format string) {
	if meta := "tidings:{" + c + "}:meta"; format == "" {
		rdb.HDel(ctx, meta, "format")
	} else {
		rdb.HSet(ctx, meta, "format", format)
	}
}

// TestSayBuild: a worker's build record holds its stored format and
// version; Builds lists the workers alive with theirs (-1: none recorded);
// a record of a worker the registry of the live no longer holds is dropped
// by the next SayBuild.
func TestSayBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	st := store.New(rdb)
	rdb.HSet(ctx, store.BuildsKey("test"), "w-gone", "1 v-gone") // its registry entry dropped (silent an hour)
	for _, w := range []string{"w1", "w2"} {
		if err := st.SayAlive(ctx, "test", w, store.CheckInWindow); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SayBuild(ctx, "test", "w1", "v1"); err != nil {
		t.Fatal(err)
	}
	got, err := st.Builds(ctx, "test")
	want := []store.WorkerBuild{{Worker: "w1", Format: store.StoredFormat, Version: "v1"}, {Worker: "w2", Format: -1}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Builds: %+v (%v), want %+v", got, err, want)
	}
	if rdb.HExists(ctx, store.BuildsKey("test"), "w-gone").Val() {
		t.Error("the build record of a worker gone from the registry stays")
	}
}

// keysOf is campaign c's keys and what each holds (dumpKeys; a string's
// value too), readable on the embedded Redis, whose DUMP has strings only.
func keysOf(ctx context.Context, rdb *redis.Client, c string) []any {
	ks := rdb.Keys(ctx, "tidings:{"+c+"}:*").Val()
	slices.Sort(ks)
	out := append([]any{ks}, dumpKeys(ctx, rdb, ks)...)
	for _, k := range ks {
		if rdb.Type(ctx, k).Val() == "string" {
			out = append(out, k, rdb.Get(ctx, k).Val())
		}
	}
	return out
}
