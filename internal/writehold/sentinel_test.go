package writehold_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
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
	s := redistest.StartSentinel(t, redistest.SentinelOptions{})
	ctx := t.Context()
	master, err := s.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Its one replica is not enough: every write is refused NOREPLICAS.
	if err := master.Client().ConfigSet(ctx, "min-replicas-to-write", "2").Err(); err != nil {
		t.Fatal(err)
	}
	e := &environment.Environment{Name: "production", Redis: environment.Redis{
		URL: environment.DefaultRedisURL, Sentinel: environment.Sentinel{Master: s.MasterName(), Addrs: s.SentinelAddrs()}}}
	rdb := s.FailoverClient()
	st := &store.Status{Campaign: "altea-migration", Control: store.Control{State: store.StateRunning}}
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
