package worker_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestReadOnlyUserSaysSoOncePerCommandAndGoesOn: a worker whose Redis
// user may read tidings:* but not write it (%R~tidings:*) was refused
// every tick of the dispatch loop, every check-in and every "alive", and
// logged each at WARN (hundreds of lines a minute) while nothing went out
// and the gauge said nothing. Each refused command now goes through
// outageLog.refused: one ERROR line for it, naming it, the rights and doctor;
// tidings_worker_redis_refused is 1 while any is refused; nothing is sent
// (no claim can be written). Once the write right is given, the worker goes
// on by itself: every recipient gets one message, each refused command is
// said allowed once, and the gauge is back to 0.
func TestReadOnlyUserSaysSoOncePerCommandAndGoesOn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, user string
		rights     []string // instead of ~tidings:*
	}{
		{"read only", "tidings-ro", []string{"%R~tidings:*"}},
		// Every key but the ledger (the only one whose name begins with
		// an l): the dispatch loop, check-ins and chunk reads go through,
		// the ledger step (claims and outcomes) is refused. Before, each
		// step tried five times with a WARN each, every pass.
		{"all but the ledger", "tidings-noledger", []string{"%R~tidings:*", "%RW~tidings:{*}:[^l]*", "%RW~tidings:[^{]*"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refusedOncePerCommand(t, tt.user, tt.rights)
		})
	}
}

// refusedOncePerCommand runs TestReadOnlyUserSaysSoOncePerCommandAndGoesOn
// with the user name given rights instead of ~tidings:*.
func refusedOncePerCommand(t *testing.T, name string, rights []string) {
	needACL(t)
	e := newEnv(t, nil)
	const n = 6
	e.stage(t, opts{n: n, rate: "600/m"})
	ctx := context.Background()
	user, refusals := aclUser(t, e, name, func(r string) []string {
		if r == "~tidings:*" {
			return rights
		}
		return []string{r}
	})
	opt := user.Options()

	var logs syncbuf.Buffer
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{id: "w1", concurrency: 1, logs: &logs, metrics: reg, rdb: user})

	// Many passes of every loop: the dispatch loop's, the check-ins', the
	// "alive"s (before, each logged a WARN).
	wait.For(t, 120*time.Second, "60 refusals of writes", func() bool { return refusals() >= 60 }, logs.String)
	command := regexp.MustCompile(`command=(?:"([^"]*)"|(\S+))`)
	said := map[string]int{}
	for _, l := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(l, "NOPERM") || strings.Contains(l, "still refuses") { // a reminder a minute on
			continue
		}
		if !strings.Contains(l, "level=ERROR") {
			t.Errorf("a refusal logged below ERROR: %s", l)
			continue
		}
		m := command.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("the ERROR line does not name the command: %s", l)
			continue
		}
		said[m[1]+m[2]]++
		for _, want := range []string{"env=test", opt.Addr, redisconn.MinimalACL, "tidings doctor --env test"} {
			if !strings.Contains(l, want) {
				t.Errorf("the ERROR line does not name %q\n%s", want, l)
			}
		}
	}
	if len(said) == 0 {
		t.Fatalf("no ERROR line for the refusals\n%s", logs.String())
	}
	for c, k := range said {
		if k != 1 {
			t.Errorf("the refusal of %q logged %d times, want once", c, k)
		}
	}
	if got := gaugeValue(t, reg, "tidings_worker_redis_refused"); got != 1 {
		t.Errorf("tidings_worker_redis_refused = %v while refused, want 1", got)
	}
	if e.smtp.Count() != 0 {
		t.Errorf("%d messages sent by a worker that cannot write a claim", e.smtp.Count())
	}
	if l := e.rdb.HLen(ctx, "tidings:{test-campaign}:ledger").Val(); l != 0 {
		t.Errorf("%d ledger entries (claims) written by a worker refused the ledger", l)
	}
	if t.Failed() {
		t.Fatalf("log:\n%s", logs.String())
	}

	if err := e.rdb.Do(ctx, "ACL", "SETUSER", name, "~tidings:*").Err(); err != nil {
		t.Fatal(err)
	}
	e.sentOnceEach(t, n, logs.String)
	wait.For(t, 120*time.Second, "tidings_worker_redis_refused back to 0", func() bool {
		return gaugeValue(t, reg, "tidings_worker_redis_refused") == 0
	}, logs.String)
	for c := range said {
		if k := strings.Count(logs.String(), `Redis allows this worker again the command it refused: sending goes on" worker=w1 command=`+quoted(c)); k != 1 {
			t.Errorf("%q said allowed again %d times, want once\n%s", c, k, logs.String())
		}
	}
}

// quoted is s as slog's text handler writes a value: quoted when it holds
// a space.
func quoted(s string) string {
	if strings.ContainsAny(s, " =\"") {
		return `"` + s + `"`
	}
	return s
}
