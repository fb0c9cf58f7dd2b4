package writehold_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/writehold"
)

// TestLineNamesTheMasterTheSentinelsReport: behind Sentinel, go-redis
// gives no address for the master it reaches, and the line said "the
// Redis master". On-call needs the server: the line, the list and
// status --json must name the master's address as the Sentinels report it.
func TestLineNamesTheMasterTheSentinelsReport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rdb, master, st, e := heldBehindSentinel(t, func(s *redistest.Sentinel) []string { return s.SentinelAddrs() })
	want := "Redis at " + master.Addr() + " refuses writes (NOREPLICAS"
	if line := writehold.Line(ctx, rdb, st, e); !strings.Contains(line, want) {
		t.Errorf("status would say %q, want it to say %q", line, want)
	}
	if list := writehold.List(ctx, rdb, []*store.Status{st}, e); len(list) != 1 || !strings.Contains(list[0], want) {
		t.Errorf("the list would say %q, want one line saying %q", list, want)
	}
	if h := writehold.JSON(ctx, rdb, st, e).Held; h == nil || h.Redis != master.Addr() || h.Code != "NOREPLICAS" {
		t.Errorf("status --json would give held %+v, want redis %s, code NOREPLICAS", h, master.Addr())
	}
}

// TestHeldWithNoAddressSaysSoInWords: behind Sentinel, when no Sentinel
// that status asks answers (here the environment names a closed port),
// the master's address is unknown. status --json's held.redis is an
// address a script may connect to or match: it must not be the words
// "the Redis master" (it is left out), and the line says "the Redis
// master refuses writes", not "Redis at the Redis master".
func TestHeldWithNoAddressSaysSoInWords(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rdb, _, st, e := heldBehindSentinel(t, func(*redistest.Sentinel) []string { return []string{freeport.Closed(t)} })
	h := writehold.JSON(ctx, rdb, st, e).Held
	if h == nil || h.Code != "NOREPLICAS" || h.Redis != "" {
		t.Fatalf("status --json would give held %+v, want code NOREPLICAS and no redis address (none is known)", h)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"redis"`) {
		t.Errorf("status --json would give held %s, want no redis field when the address is unknown", b)
	}
	if line := writehold.Line(ctx, rdb, st, e); !strings.HasPrefix(line, "held: the Redis master refuses writes (NOREPLICAS: ") {
		t.Errorf("status would say %q, want it to start %q", line, "held: the Redis master refuses writes (NOREPLICAS: ")
	}
}

// heldBehindSentinel starts a Sentinel deployment whose master refuses
// every write (NOREPLICAS: min-replicas-to-write 2, one replica) and
// returns its failover client, its master, a running campaign and an
// environment whose Sentinels are sentinels(s).
func heldBehindSentinel(t *testing.T, sentinels func(*redistest.Sentinel) []string) (redis.UniversalClient, *redistest.Node, *store.Status, *environment.Environment) {
	t.Helper()
	s := redistest.StartSentinel(t, redistest.SentinelOptions{})
	master, err := s.Master(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := master.Client().ConfigSet(t.Context(), "min-replicas-to-write", "2").Err(); err != nil {
		t.Fatal(err)
	}
	e := &environment.Environment{Name: "production", Redis: environment.Redis{
		URL: environment.DefaultRedisURL, Sentinel: environment.Sentinel{Master: s.MasterName(), Addrs: sentinels(s)}}}
	return s.FailoverClient(), master, &store.Status{Campaign: "altea-migration", Control: store.Control{State: store.StateRunning}}, e
}
