package redisconn_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// env loads environment "staging" with its Redis at url.
func env(t *testing.T, url string) *environment.Environment {
	t.Helper()
	vars := map[string]string{"TIDINGS_REDIS_URL": url, "TIDINGS_STATE_DIR": t.TempDir()}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOpen(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	s, err := redisconn.Open(t.Context(), env(t, r.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Client().Close()
	if _, err := s.List(t.Context(), ""); err != nil {
		t.Errorf("list: %v", err)
	}
}

func TestDialUnreachable(t *testing.T) {
	t.Parallel()
	addr := freeport.Closed(t)
	_, err := redisconn.Open(t.Context(), env(t, "redis://"+addr+"/0"))
	var ue *redisconn.UnreachableError
	if !errors.As(err, &ue) || ue.Env != "staging" || !strings.HasPrefix(err.Error(), "redis for environment staging (["+addr+"]) is unreachable: ") {
		t.Errorf("closed port: %v", err)
	}
}

func TestAddrs(t *testing.T) {
	t.Parallel()
	if got := redisconn.Addrs(&redis.UniversalOptions{Addrs: []string{"a:1", "b:2"}, MasterName: "m"}); got != "sentinel master m at [a:1 b:2]" {
		t.Errorf("sentinel: %s", got)
	}
	if got := redisconn.Addrs(&redis.UniversalOptions{Addrs: []string{"a:1"}}); got != "[a:1]" {
		t.Errorf("standalone: %s", got)
	}
}

// TestExplain: the errors a real redis-server answers with during a
// failover, or for a wrong password or permission, come with what to do;
// a password or permission is the environment's settings to fix.
func TestExplain(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	ctx := t.Context()
	admin := r.Client()
	check := func(what string, err error, advice string, settings bool) {
		t.Helper()
		got := redisconn.Explain(err)
		var rp *redisconn.ReplyError
		if !errors.As(got, &rp) {
			t.Fatalf("%s: %v is not explained", what, err)
		}
		if !errors.Is(got, err) || !strings.HasPrefix(got.Error(), err.Error()+"\n") || !strings.Contains(rp.Advice, advice) || rp.Settings != settings {
			t.Errorf("%s: %q (settings %v), want advice with %q, settings %v", what, got, rp.Settings, advice, settings)
		}
		if redisconn.IsSettings(got) != settings {
			t.Errorf("%s: IsSettings %v", what, !settings)
		}
	}

	// A replica (of a master that is not there) refuses writes.
	host, port, _ := net.SplitHostPort(freeport.Closed(t))
	if err := admin.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	check("write to a replica", admin.Set(ctx, "k", "v", 0).Err(), "is a replica", false)
	if err := admin.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}

	// A user whose ACL lacks a command.
	if err := admin.Do(ctx, "ACL", "SETUSER", "limited", "on", ">pw", "~*", "+ping", "+hello", "+auth", "+client").Err(); err != nil {
		t.Fatal(err)
	}
	o := r.Options()
	o.Username, o.Password = "limited", "pw"
	limited := redis.NewClient(o)
	defer limited.Close()
	check("a command the user may not run", limited.Set(ctx, "k", "v", 0).Err(), "Redis ACL", true)

	// A password: missing, then wrong; Dial returns the wrong one as it
	// is (the server answered), not as unreachable.
	if err := admin.ConfigSet(ctx, "requirepass", "secret").Err(); err != nil {
		t.Fatal(err)
	}
	nopass := redis.NewClient(r.Options())
	defer nopass.Close()
	check("no password", nopass.Set(ctx, "k", "v", 0).Err(), "redis.password_file", true)
	vars := map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_REDIS_PASSWORD": "wrong", "TIDINGS_STATE_DIR": t.TempDir()}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, err = redisconn.Dial(ctx, e)
	var ue *redisconn.UnreachableError
	if !redisconn.IsSettings(err) || errors.As(err, &ue) || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("dial with a wrong password: %v, want the WRONGPASS reply with advice", err)
	}

	// Errors that are not an error reply come back as they are.
	plain := errors.New("plain")
	for _, err := range []error{nil, redis.Nil, plain} {
		if got := redisconn.Explain(err); got != err {
			t.Errorf("Explain(%v) = %v", err, got)
		}
	}
}
