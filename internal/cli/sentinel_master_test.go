package cli

import (
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestUnknownSentinelMasterIsAnOperatorError: a redis.sentinel.master the
// Sentinels do not monitor (a typo, another deployment's name) is the
// operator's setting to fix, not an unreachable Redis: every command
// exits 2 saying which names the Sentinels do monitor (SENTINEL MASTERS)
// and which setting to change, and doctor fails "redis config" (exit 1,
// not 3). It used to be exit 3, "unreachable", with no name to pick.
func TestUnknownSentinelMasterIsAnOperatorError(t *testing.T) {
	t.Parallel()
	sen := redistest.StartSentinel(t, redistest.SentinelOptions{})
	// A second name the Sentinels monitor, so that the list is a list.
	other := redistest.StartServer(t, filepath.Join(repoRoot(t), "deploy", "redis.conf"))
	host, port, _ := net.SplitHostPort(other.Options().Addr)
	for _, n := range sen.Sentinels() {
		if err := n.Client().Do(t.Context(), "SENTINEL", "MONITOR", "billing", host, port, 2).Err(); err != nil {
			t.Fatal(err)
		}
	}
	env := merge(smtpEnv(startSMTP(t, smtpcapture.Config{})), map[string]string{
		"TIDINGS_REDIS_SENTINEL_MASTER": "mymastr", "TIDINGS_REDIS_SENTINEL_ADDRS": strings.Join(sen.SentinelAddrs(), ","),
		"TIDINGS_STATE_DIR": t.TempDir()})
	says := []string{`"mymastr"`, "billing, " + sen.MasterName(), "redis.sentinel.master", "TIDINGS_REDIS_SENTINEL_MASTER"}
	for _, args := range [][]string{{"status", "--env", "staging"}, {"worker", "--env", "staging"}} {
		r := cli(t, env, args...)
		if r.code != exitUsage {
			t.Errorf("tidings %s: exit %d, want %d (the operator's setting)\n%s", strings.Join(args, " "), r.code, exitUsage, r)
		}
		contains(t, "tidings "+strings.Join(args, " "), r.stderr, says...)
	}
	r := cli(t, env, "doctor", "--env", "staging")
	if r.code != exitProblems || !regexp.MustCompile(`(?m)^FAIL\s+redis config\s`).MatchString(r.stdout) {
		t.Errorf("doctor: want exit 1 and FAIL redis config\n%s", r)
	}
	contains(t, "doctor", r.stdout, says...)
}
