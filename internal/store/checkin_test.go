package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// win is the window of these tests: long, so that the time between
// reading Redis's clock and the script's call does not matter.
const win = 10 * time.Second

// redisNow returns Redis's clock in ms.
func redisNow(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	now, err := rdb.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return now.UnixMilli()
}

// TestAlive: a worker is alive while it says so within the window; it is
// settled once it has said so for a window without a longer gap; a gap
// (its entry lost, or restored from an older backup) starts again; one
// not heard from for an hour is dropped. Times are Redis's.
func TestAlive(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	s := store.New(rdb)
	ago := func(now int64, d time.Duration) string { return strconv.FormatInt(now-d.Milliseconds(), 10) }
	for i, tt := range []struct {
		name        string
		first, seen time.Duration // ago; seen 0: no entry
		wantSettled bool
	}{
		{"first word", 0, 0, false},
		{"saying so for longer than the window", 25 * time.Second, time.Second, true},
		{"saying so for less than the window", 5 * time.Second, time.Second, false},
		{"after a gap longer than the window (restored from an older backup)", time.Hour, 20 * time.Second, false},
		{"a word from the future (a failover to a server whose clock is behind)", time.Minute, -time.Minute, false},
	} {
		env := fmt.Sprintf("alive-%d-%d", time.Now().UnixNano(), i)
		key := store.WorkersKey(env)
		now := redisNow(t, rdb)
		if tt.seen != 0 {
			rdb.HSet(ctx, key, "w", ago(now, tt.first)+" "+ago(now, tt.seen))
		}
		rdb.HSet(ctx, key, "other", ago(now, time.Minute)+" "+ago(now, 2*time.Second), // alive
			"silent", ago(now, time.Hour)+" "+ago(now, 20*time.Second), // not alive
			"gone", ago(now, 2*time.Hour)+" "+ago(now, 61*time.Minute), // dropped
			"future", ago(now, -time.Minute)+" "+ago(now, -time.Minute)) // not alive: written by a clock ahead
		settled, live, err := s.Alive(ctx, env, "w", win)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(live)
		if settled != tt.wantSettled || !slices.Equal(live, []string{"other", "w"}) {
			t.Errorf("%s: settled %v, live %v; want %v, [other w]", tt.name, settled, live, tt.wantSettled)
		}
		if rdb.HExists(ctx, key, "gone").Val() || !rdb.HExists(ctx, key, "silent").Val() {
			t.Errorf("%s: want the worker silent for an hour dropped, the one silent for 20 s kept", tt.name)
		}
	}
}

// TestCheckIn: a claim waits for every live worker that has not checked
// the state it needs: one that never checked in, one that checked another
// state, one that checked the state but not lately; not one that keeps no
// journal ("*"), nor one not alive.
func TestCheckIn(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	s := store.New(rdb)
	c := "checkin-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	// A campaign Redis no longer has (or never had): nothing is written.
	if _, err := s.CheckIn(ctx, c, "me", "k1", "", nil, win); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("check in for a campaign Redis does not have: %v, want ErrNotFound", err)
	}
	if n := rdb.Exists(ctx, "tidings:{"+c+"}:checkins").Val(); n != 0 {
		t.Error("a check-in for a campaign Redis does not have wrote its key")
	}
	rdb.HSet(ctx, "tidings:{"+c+"}:control", "state", "running")
	in := func(w, checked string) {
		t.Helper()
		if _, err := s.CheckIn(ctx, c, w, checked, "", nil, win); err != nil {
			t.Fatal(err)
		}
	}
	in("old", "k1")
	in("done", "k2")
	in("nojournal", "*")
	in("notlive", "k1")
	in("runR", "100/R")
	in("noinfo", "100/")
	in("runS", "100/S")
	in("noinfo99", "99/")
	rdb.HSet(ctx, "tidings:{"+c+"}:checkins", "stale", strconv.FormatInt(redisNow(t, rdb)-20000, 10)+" k2",
		"ancient", strconv.FormatInt(redisNow(t, rdb)-2*3600000, 10)+" k1",
		"future", strconv.FormatInt(redisNow(t, rdb)+60000, 10)+" k2") // a clock ahead wrote it
	for _, tt := range []struct {
		name string
		need string // "" : k2
		live []string
		want []string
	}{
		{"alone", "", []string{"me"}, []string{}},
		{"checked the same state, or keeps no journal", "", []string{"me", "done", "nojournal"}, []string{}},
		{"checked another state", "", []string{"me", "old"}, []string{"old"}},
		{"never checked in", "", []string{"me", "new"}, []string{"new"}},
		{"checked it, but not lately", "", []string{"me", "stale"}, []string{"stale"}},
		{"checked it, by a clock ahead of Redis's", "", []string{"me", "future"}, []string{"future"}},
		{"all of them", "", []string{"me", "done", "nojournal", "old", "new", "stale"}, []string{"new", "old", "stale"}},
		{"a run id, or none (a Redis user without INFO), at the same at", "100/R", []string{"me", "runR", "noinfo"}, []string{}},
		{"another run id, or none at another at", "100/R", []string{"me", "runS", "noinfo99"}, []string{"noinfo99", "runS"}},
	} {
		need := cmp.Or(tt.need, "k2")
		got, err := s.CheckIn(ctx, c, "me", need, need, tt.live, win)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: behind %v, want %v", tt.name, got, tt.want)
		}
	}
	if rdb.HExists(ctx, "tidings:{"+c+"}:checkins", "ancient").Val() || !rdb.HExists(ctx, "tidings:{"+c+"}:checkins", "stale").Val() {
		t.Error("want the check-in of a worker silent for two hours dropped, the one silent for 20 s kept")
	}
}

// TestCheckIns: one round trip checks a worker in for every campaign it
// is given, passing over one Redis no longer has (nothing written for it).
func TestCheckIns(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	s := store.New(rdb)
	base := "checkins-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	a, b, gone := base+"-a", base+"-b", base+"-gone"
	for _, c := range []string{a, b} {
		rdb.HSet(ctx, "tidings:{"+c+"}:control", "state", "running")
	}
	// Many check-ins of workers silent for two hours (a long campaign,
	// restarted workers): dropped by a plain check-in too.
	old := strconv.FormatInt(redisNow(t, rdb)-2*3600000, 10) + " 1/R"
	for i := range 70 {
		rdb.HSet(ctx, "tidings:{"+a+"}:checkins", fmt.Sprintf("old%d", i), old)
	}
	if err := s.CheckIns(ctx, "w", map[string]string{a: "1/R", b: "*", gone: "1/R"}, win); err != nil {
		t.Fatal(err)
	}
	for c, want := range map[string]string{a: "1/R", b: "*"} {
		v := rdb.HGet(ctx, "tidings:{"+c+"}:checkins", "w").Val()
		if _, checked, _ := strings.Cut(v, " "); checked != want {
			t.Errorf("%s: checked in %q, want %q", c, v, want)
		}
	}
	if rdb.Exists(ctx, "tidings:{"+gone+"}:checkins").Val() != 0 {
		t.Error("a check-in for a campaign Redis does not have wrote its key")
	}
	if n := rdb.HLen(ctx, "tidings:{"+a+"}:checkins").Val(); n != 1 {
		t.Errorf("%d check-ins of %s left, want the live one: those silent for two hours dropped", n, a)
	}
}

// TestAwaited: what a chunk waits for, as status shows it: the workers
// alive that have not checked the campaign's current state lately (none
// checked in, an older state, not lately); not those that checked it, nor
// those keeping no journal, nor those not alive. StateKey names the
// campaign's state with the Redis server process's run id.
func TestAwaited(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	s := store.New(rdb)
	c, env := "awaited-"+strconv.FormatInt(time.Now().UnixNano(), 36), "awaited-env"
	at := time.UnixMilli(1_700_000_000_000).UTC()
	key, err := s.StateKey(ctx, c, at)
	if err != nil {
		t.Fatal(err)
	}
	switch info, err := rdb.Info(ctx, "server").Result(); {
	case err != nil: // the embedded Redis, without redis-server: no INFO
		if key != "1700000000000/" {
			t.Fatalf("StateKey = %q from a Redis without INFO, want the time alone", key)
		}
	case !strings.HasPrefix(key, "1700000000000/") || len(key) != 14+40 || !strings.Contains(info, "run_id:"+key[14:]):
		t.Fatalf("StateKey = %q, want the time and this Redis's 40-character run id", key)
	}
	// Unreachable: an error, not a state without a run id (which would
	// match every Redis process's).
	gone := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer gone.Close()
	if key, err := store.New(gone).StateKey(ctx, c, at); err == nil {
		t.Errorf("StateKey from an unreachable Redis = %q, want an error", key)
	}
	now := redisNow(t, rdb)
	ms := func(d time.Duration) string { return strconv.FormatInt(now-d.Milliseconds(), 10) }
	word := func(seen time.Duration) string { return ms(time.Minute) + " " + ms(seen) }
	rdb.HSet(ctx, store.WorkersKey(env), "done", word(0), "nojournal", word(0), "older", word(0), "never", word(0),
		"stale", word(0), "dead", word(30*time.Second))
	rdb.HSet(ctx, "tidings:{"+c+"}:checkins", "done", ms(0)+" "+key, "nojournal", ms(0)+" *", "older", ms(0)+" 1699999000000/x",
		"stale", ms(20*time.Second)+" "+key, "dead", ms(30*time.Second)+" old")
	got, err := s.Awaited(ctx, c, env, key)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"never", "older", "stale"}; !slices.Equal(got, want) {
		t.Errorf("Awaited = %v, want %v", got, want)
	}
}

// TestChecked: checkin.lua's matching rule, as Awaited applies it.
func TestChecked(t *testing.T) {
	for _, tt := range []struct {
		checked, need string
		want          bool
	}{
		{"100/R", "100/R", true},
		{"*", "100/R", true},
		{"100/", "100/R", true}, // a worker that may not run INFO
		{"100/R", "100/", true}, // a claimer that may not
		{"100/S", "100/R", false},
		{"99/R", "100/R", false},
		{"99/", "100/", false},
		{"", "100/R", false}, // never checked
	} {
		if got := store.Checked(tt.checked, tt.need); got != tt.want {
			t.Errorf("Checked(%q, %q) = %v, want %v", tt.checked, tt.need, got, tt.want)
		}
	}
}

// TestStateKeyOfABusyRedis: a Redis that cannot answer INFO for now (BUSY
// with a long script) is an error, not a state without a run id, which
// would match every process's; a user that may not run INFO (NOPERM) gets
// the time alone.
func TestStateKeyOfABusyRedis(t *testing.T) {
	ctx := context.Background()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	rdb := r.Client()
	if err := rdb.ConfigSet(ctx, "busy-reply-threshold", "100").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "&*", "+@all", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	o := rdb.Options()
	noinfo := redis.NewClient(&redis.Options{Addr: o.Addr, DB: o.DB, Username: "noinfo", Password: "pw"})
	defer noinfo.Close()
	at := time.UnixMilli(1_700_000_000_000)
	if key, err := store.New(noinfo).StateKey(ctx, "c", at); err != nil || key != "1700000000000/" {
		t.Errorf("StateKey for a user without INFO = %q, %v; want the time alone", key, err)
	}
	spin := redis.NewClient(&redis.Options{Addr: o.Addr, DB: o.DB})
	defer spin.Close()
	go spin.Eval(ctx, "local i = 0 while true do i = i + 1 end", nil)
	other := redis.NewClient(&redis.Options{Addr: o.Addr, DB: o.DB, MaxRetries: -1})
	defer other.Close()
	// The script is past the busy threshold once Redis answers BUSY (a
	// loaded machine may start it late: a fixed sleep could ask too soon).
	wait.For(t, time.Minute, "Redis to answer BUSY while the script runs", func() bool {
		err := other.Ping(ctx).Err()
		return err != nil && strings.Contains(err.Error(), "BUSY")
	})
	key, err := store.New(other).StateKey(ctx, "c", at)
	if err == nil || !strings.Contains(err.Error(), "BUSY") {
		t.Errorf("StateKey while Redis runs a long script = %q, %v; want a BUSY error", key, err)
	}
	if err := other.Do(ctx, "SCRIPT", "KILL").Err(); err != nil {
		t.Fatal(err)
	}
}

// TestSayAlive: a worker's plain word (no list asked) counts as alive for
// a claim's wait, and continues its settling.
func TestSayAlive(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	s := store.New(rdb)
	env := "say-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	now := redisNow(t, rdb)
	rdb.HSet(ctx, store.WorkersKey(env), "w", strconv.FormatInt(now-25000, 10)+" "+strconv.FormatInt(now-1000, 10))
	if err := s.SayAlive(ctx, env, "w", win); err != nil {
		t.Fatal(err)
	}
	settled, live, err := s.Alive(ctx, env, "other", win)
	if err != nil || settled || !slices.Equal(live, []string{"other", "w"}) && !slices.Equal(live, []string{"w", "other"}) {
		t.Errorf("after w's word: %v, %v, %v; want other not settled, both alive", settled, live, err)
	}
	if v := rdb.HGet(ctx, store.WorkersKey(env), "w").Val(); !strings.HasPrefix(v, strconv.FormatInt(now-25000, 10)+" ") {
		t.Errorf("w's entry %q: want its first word kept (settled, no gap)", v)
	}
}
