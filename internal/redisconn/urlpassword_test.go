package redisconn_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestPasswordInTIDINGSREDISURLOverridesTheFile (red team 14c): README
// (Configuration reference): "`TIDINGS_*` variables, which override the
// chosen environment's settings"; `tidings help environments` on
// TIDINGS_REDIS_URL: "a password in the variable is taken as the
// password".
//
// What happens: the config file names redis.password_file (the old
// password, say, before a rotation) and the operator runs with
// TIDINGS_REDIS_URL=redis://:NEW@host:port/0 to override it. The URL's
// address is taken from the variable, but its password is dropped in
// favour of the file's: Redis answers WRONGPASS, whose advice points at
// redis.password_file or TIDINGS_REDIS_PASSWORD, while the operator gave
// the right password in the variable that is documented to override.
//
// The cause was internal/environment/file.go resolve, which moved the
// URL's password to Redis.Password only when none was set, and fromFile
// had set it from redis.password_file. The variable's password now wins
// (and one differing from TIDINGS_REDIS_PASSWORD's is refused: see
// environment's TestRedisURLPasswordPrecedence).
func TestPasswordInTIDINGSREDISURLOverridesTheFile(t *testing.T) {
	dir := t.TempDir()
	const newPassword = "rotated-pw-14c"
	conf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(conf, []byte("appendonly no\nsave \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := redistest.StartServer(t, conf)
	admin := r.Client()
	if err := admin.ConfigSet(t.Context(), "requirepass", newPassword).Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "redis.pw"), []byte("old-pw-before-rotation\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "tidings.yaml")
	cfg := "environments:\n  staging:\n    allow: [example.org]\n    redis:\n      url: redis://10.0.0.9:6379/0\n      password_file: redis.pw\n"
	vars := map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://:%s@%s/0", newPassword, r.Options().Addr), "HOME": dir}
	e, err := environment.Load([]byte(cfg), cfgFile, "staging", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Redis.Password.Reveal(); got != newPassword {
		t.Errorf("TIDINGS_REDIS_URL carries the password %q and overrides the file's settings, but the environment's Redis password is the file's (%q)", newPassword, got)
	}
	rdb, err := redisconn.Dial(t.Context(), e)
	if err != nil {
		t.Errorf("Dial with the variable's password: %v", err)
		return
	}
	_ = rdb.Close()
}
