package cli

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// startSMTP starts a capture server that lives as long as the test.
func startSMTP(t testing.TB, cfg smtpcapture.Config) *smtpcapture.Server {
	t.Helper()
	s, err := smtpcapture.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start SMTP capture server: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// smtpEnv points tidings at s without TLS.
func smtpEnv(s *smtpcapture.Server) map[string]string {
	return map[string]string{"TIDINGS_SMTP_HOST": s.Host(), "TIDINGS_SMTP_PORT": strconv.Itoa(s.Port()), "TIDINGS_SMTP_TLS": "none"}
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(repoRoot(t), "deploy", "redis.conf")
	_, closed := closedPort(t)
	tests := []struct {
		name string
		// redis returns the Redis to check.
		redis    func(t *testing.T) *redistest.Redis
		smtpDown bool
		wantCode int
		want     []string // regular expressions over stdout lines
	}{
		{
			name:     "production redis.conf and a working SMTP server",
			redis:    func(t *testing.T) *redistest.Redis { return redistest.StartServer(t, conf) },
			wantCode: 0,
			want: []string{
				`(?m)^PASS\s+redis reachable`, `(?m)^PASS\s+redis persistence\s+AOF on`, `(?m)^PASS\s+redis eviction\s+maxmemory-policy noeviction`,
				`(?m)^PASS\s+smtp connect`, `(?m)^PASS\s+smtp ehlo`, `(?m)^PASS\s+smtp auth`, `All checks passed`,
				// The test server is reached without TLS: passed, but said.
				`(?m)^WARN\s+smtp starttls\s+.*unencrypted`,
			},
		},
		{
			name: "redis without persistence",
			redis: func(t *testing.T) *redistest.Redis {
				dir := t.TempDir()
				plain := filepath.Join(dir, "plain.conf")
				fixture.Write(t, plain, "save \"\"\nappendonly no\n")
				return redistest.StartServer(t, plain)
			},
			wantCode: 1,
			want:     []string{`(?m)^FAIL\s+redis persistence\s+.*appendonly yes`, `(?m)^PASS\s+smtp connect`},
		},
		{
			name:     "smtp unreachable",
			redis:    func(t *testing.T) *redistest.Redis { return redistest.StartServer(t, conf) },
			smtpDown: true,
			wantCode: 3,
			want:     []string{`(?m)^PASS\s+redis persistence`, `(?m)^FAIL\s+smtp connect\s+.*` + strconv.Itoa(closed)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rd := tt.redis(t)
			env := smtpEnv(startSMTP(t, smtpcapture.Config{}))
			if tt.smtpDown {
				env["TIDINGS_SMTP_PORT"] = strconv.Itoa(closed)
			}
			env["TIDINGS_REDIS_URL"] = rd.URL
			env["TIDINGS_ALLOW"] = "example.org"
			r := cli(t, env, "doctor", "--env", "staging")
			if r.code != tt.wantCode {
				t.Fatalf("want exit %d\n%s", tt.wantCode, r)
			}
			for _, re := range tt.want {
				if !regexp.MustCompile(re).MatchString(r.stdout) {
					t.Errorf("stdout does not match %s\n%s", re, r)
				}
			}
		})
	}
}

// TestDoctorGuarantees: doctor says what each deployment guarantees about
// sending at most once: a single Redis with everysec can lose the last
// second on a host crash, with always it loses nothing, without an
// append-only file a restart loses every claim, with a replica that
// acknowledges every claim a failover loses nothing, and too few replicas
// for the acknowledgements asked for means nothing will be sent.
func TestDoctorGuarantees(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(repoRoot(t), "deploy", "redis.conf")
	always := filepath.Join(t.TempDir(), "always.conf")
	fixture.Write(t, always, "appendonly yes\nappendfsync always\nmaxmemory-policy noeviction\n")
	sen := redistest.StartSentinel(t, redistest.SentinelOptions{AppendOnly: true, ServerConfig: []string{"min-replicas-to-write 1", "maxmemory-policy noeviction"}})
	sentinel := map[string]string{"TIDINGS_REDIS_SENTINEL_MASTER": sen.MasterName(), "TIDINGS_REDIS_SENTINEL_ADDRS": strings.Join(sen.SentinelAddrs(), ",")}
	tests := []struct {
		name string
		env  func(t *testing.T) map[string]string
		code int
		want string
	}{
		{"single redis, everysec", func(t *testing.T) map[string]string {
			return map[string]string{"TIDINGS_REDIS_URL": redistest.StartServer(t, conf).URL}
		}, 0, `(?m)^WARN\s+at most once\s+a single Redis without replicas: .*last second.*appendfsync everysec`},
		{"in doubt after a crash", func(t *testing.T) map[string]string {
			return map[string]string{"TIDINGS_REDIS_URL": redistest.StartServer(t, conf).URL, "TIDINGS_CLAIM_WINDOW": "4"}
		}, 0, `(?m)^PASS\s+in doubt after a crash\s+a worker killed mid-send leaves at most 32 recipients in doubt \(claim_window 4 x concurrency 8\)`},
		{"single redis, no append-only file", func(t *testing.T) map[string]string {
			return map[string]string{"TIDINGS_REDIS_URL": redistest.StartServer(t, "../redistest/testdata/plain.conf").URL}
		}, 1, `(?m)^FAIL\s+at most once\s+a single Redis without replicas, and appendonly is no on 127\.0\.0\.1:\d+: a restart of that redis-server loses every claim`},
		{"single redis, always", func(t *testing.T) map[string]string {
			return map[string]string{"TIDINGS_REDIS_URL": redistest.StartServer(t, always).URL}
		}, 0, `(?m)^PASS\s+at most once\s+a single Redis with appendfsync always`},
		{"sentinel", func(t *testing.T) map[string]string { return sentinel }, 0,
			`(?m)^PASS\s+at most once\s+every claim is acknowledged by 1 replica\(s\)`},
		{"sentinel, more acknowledgements than replicas", func(t *testing.T) map[string]string {
			return merge(sentinel, map[string]string{"TIDINGS_REDIS_MIN_REPLICA_ACKS": "2"})
		}, 1, `(?m)^FAIL\s+at most once\s+every claim must be acknowledged by 2 replica\(s\) \(redis\.min_replica_acks 2\), but only 1 of the required 2 is connected to master 127\.0\.0\.1:\d+: .*start or attach 1 more replica\(s\).*or lower redis\.min_replica_acks to 1`},
		{"a list_unsubscribe naming nobody", func(t *testing.T) map[string]string {
			return map[string]string{"TIDINGS_REDIS_URL": redistest.StartServer(t, conf).URL, "TIDINGS_LIST_UNSUBSCRIBE": "https://altea.example/unsubscribe"}
		}, 1, `(?m)^FAIL\s+list-unsubscribe\s+"https://altea\.example/unsubscribe" names no recipient`},
		{"an empty suppression list", func(t *testing.T) map[string]string {
			empty := filepath.Join(t.TempDir(), "bounces.csv")
			fixture.Write(t, empty, "email\n")
			return map[string]string{"TIDINGS_REDIS_URL": redistest.StartServer(t, conf).URL, "TIDINGS_SUPPRESSION_FILES": empty}
		}, 0, `(?m)^WARN\s+suppression lists\s+0 addresses never mailed, from .*bounces\.csv \(0\); .*bounces\.csv holds no address`},
		{"a password Redis refuses", func(t *testing.T) map[string]string {
			r := redistest.StartServer(t, conf)
			if err := r.Client().ConfigSet(t.Context(), "requirepass", "secret").Err(); err != nil {
				t.Fatal(err)
			}
			return map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_REDIS_PASSWORD": "wrong"}
		}, 1, `(?s)FAIL\s+redis reachable\s+redis for environment staging .*WRONGPASS.*check redis.password_file`},
		{"a user not allowed INFO", func(t *testing.T) map[string]string {
			r := redistest.StartServer(t, conf)
			if err := r.Client().Do(t.Context(), "ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "&*", "+@all", "-info").Err(); err != nil {
				t.Fatal(err)
			}
			return map[string]string{"TIDINGS_REDIS_URL": strings.Replace(r.URL, "redis://", "redis://noinfo@", 1), "TIDINGS_REDIS_PASSWORD": "pw"}
		}, 1, `(?m)^FAIL\s+redis info\s+NOPERM.*Redis ACL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := merge(smtpEnv(startSMTP(t, smtpcapture.Config{})), tt.env(t))
			r := cli(t, env, "doctor", "--env", "staging")
			if r.code != tt.code || !regexp.MustCompile(tt.want).MatchString(r.stdout) {
				t.Errorf("want exit %d and a line matching %s\n%s", tt.code, tt.want, r)
			}
		})
	}
}

func TestDoctorRedisUnreachable(t *testing.T) {
	t.Parallel()
	host, port := closedPort(t)
	s := startSMTP(t, smtpcapture.Config{})
	env := merge(smtpEnv(s), map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port)})
	r := cli(t, env, "doctor", "--env", "staging")
	if r.code != 3 || !regexp.MustCompile(`(?m)^FAIL\s+redis reachable`).MatchString(r.stdout) {
		t.Errorf("want exit 3 and FAIL redis reachable\n%s", r)
	}
}

// TestDoctorSMTPConfigError: an SMTP setting that cannot work (a password
// without a user name) is shown with its reason, as a configuration problem
// (exit 1), not as an unreachable server.
func TestDoctorSMTPConfigError(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	s := startSMTP(t, smtpcapture.Config{})
	env = merge(env, smtpEnv(s), map[string]string{"TIDINGS_SMTP_PASSWORD": "s3cr3t-value"})
	r := cli(t, env, "doctor", "--env", "staging")
	if r.code != 1 || !regexp.MustCompile(`(?m)^FAIL\s+smtp config\s+.*username`).MatchString(r.stdout) {
		t.Errorf("want exit 1 and FAIL smtp config naming the username\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cr3t-value") {
		t.Errorf("the password was printed\n%s", r)
	}
}
