package redisconn_test

import (
	"errors"
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
	if _, err := s.List(t.Context()); err != nil {
		t.Errorf("list: %v", err)
	}
}

func TestDialUnreachable(t *testing.T) {
	t.Parallel()
	addr := freeport.Addr(t)
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
