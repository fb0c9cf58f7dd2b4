package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestManagedRedisMinimalACLOverTLS: the operator's managed Redis, reached
// over TLS (rediss://, a private CA trusted with SSL_CERT_FILE) as an ACL
// user with exactly the rules the README documents (redisconn.MinimalACL:
// no CONFIG, KEYS, DEBUG, SHUTDOWN, FLUSHALL, nor any other dangerous
// command; only tidings', asynq's and the rate limiter's keys and the two
// channels). doctor passes Redis's reachability and rights; send, worker,
// status, pause, resume, approve, report and cancel work, and the campaign
// reaches done with everyone mailed exactly once. Redis refused that user
// nothing but what doctor tries and does without (CONFIG GET, ACL DRYRUN):
// the rules are enough. With one right taken away, the commands that need
// it fail with the ACL's refusal and the rules to give (exit 2, a
// permission to fix), never a usage error or a stack; a wrong password is
// refused without showing it. The password is in no output or log.
func TestManagedRedisMinimalACLOverTLS(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), redisconn.MinimalACL) {
		t.Fatalf("README does not document the ACL rules tidings needs, %q", redisconn.MinimalACL)
	}
	ca, err := redistest.NewCA("managed redis CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := ca.ServerCert(t, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	r, tlsAddr := redistest.StartTLSServer(t, certFile, keyFile)
	admin := r.Client()
	const pw = "managed-pw-5521"
	setUser := func(user string, extra ...string) {
		t.Helper()
		args := []any{"ACL", "SETUSER", user, "reset", "on", ">" + pw}
		for _, f := range append(strings.Fields(redisconn.MinimalACL), extra...) {
			args = append(args, f)
		}
		if err := admin.Do(t.Context(), args...).Err(); err != nil {
			t.Fatalf("ACL SETUSER %s: %v", user, err)
		}
	}
	setUser("tidings")
	if err := admin.Do(t.Context(), "ACL", "LOG", "RESET").Err(); err != nil {
		t.Fatal(err)
	}

	srv := startSMTPSink(t)
	e := newEnvWith(t, "url: rediss://tidings@"+tlsAddr+"/0", srv.Port(), 2)
	e.extra = []string{"TIDINGS_REDIS_PASSWORD=" + pw, "SSL_CERT_FILE=" + caFile}
	var outputs []result
	run := func(args ...string) result {
		t.Helper()
		res := e.run(args...)
		outputs = append(outputs, res)
		return res
	}

	doc := run("doctor", "--env", envName)
	if !strings.Contains(doc.stdout, "PASS  redis reachable") {
		t.Errorf("doctor over TLS as the ACL user: no PASS for redis reachable\n%s", doc)
	}
	for _, line := range strings.Split(doc.stdout, "\n") {
		if strings.HasPrefix(line, "FAIL") && strings.Contains(line, "NOPERM") {
			t.Errorf("doctor with the documented ACL fails a check for a missing right: %s", line)
		}
	}

	const name = "e2e-managed"
	rows := simpleRows(20, []string{"en", "de", "fr"})
	e.stageSimple(campaignSpec{name: name, canary: 1, size: 5, approve: true}, rows)
	w := e.startWorker("worker-1", 2)
	e.waitState(name, "awaiting-approval", 2*time.Minute, w)
	for _, args := range [][]string{
		{"pause", name, "--env", envName, "--reason", "acl check"},
		{"resume", name, "--env", envName},
		{"approve", name, "--env", envName},
	} {
		if res := run(args...); res.code != 0 {
			t.Fatalf("as the ACL user over TLS: %s", res)
		}
	}
	st := e.waitState(name, "done", 3*time.Minute, w)
	checkOnce(t, srv, rows, true)
	if st.Counts["sent"] != int64(len(rows)) {
		t.Errorf("done with counts %v, want %d sent", st.Counts, len(rows))
	}
	if rep := run("report", name, "--env", envName); rep.code != 0 || strings.Count(rep.stdout, "\n") != len(rows)+1 {
		t.Errorf("report: want exit 0 and a header and %d rows: %s", len(rows), rep)
	}
	const other = "e2e-managed-cancel"
	e.stageSimple(campaignSpec{name: other, canary: 1, size: 5, approve: true}, simpleRows(4, []string{"en"}))
	if res := run("cancel", other, "--env", envName, "--reason", "acl check"); res.code != 0 {
		t.Errorf("cancel as the ACL user: %s", res)
	}

	// What Redis refused the user: only what doctor tries and does without.
	entries, err := admin.Do(t.Context(), "ACL", "LOG").Slice()
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		s := fmt.Sprint(en)
		if !strings.Contains(s, "config|get") && !strings.Contains(s, "acl|dryrun") {
			t.Errorf("Redis refused the documented ACL something: %s", s)
		}
	}

	// One right taken away: the refusal names it and the rules to give.
	for _, tc := range []struct {
		name, remove string
		args         []string
		want         string
	}{
		{"no INFO", "-info", []string{"status", name, "--env", envName}, "'info' command"},
		{"no EVALSHA", "-evalsha", []string{"pause", name, "--env", envName, "--reason", "x"}, "'evalsha' command"},
		{"no tidings keys", "resetkeys ~asynq:* ~rate:tidings:*", []string{"status", name, "--env", envName}, "keys used as arguments"},
	} {
		user := "limited-" + strings.ReplaceAll(strings.ToLower(tc.name), " ", "-")
		setUser(user, strings.Fields(tc.remove)...)
		e.extra = []string{"TIDINGS_REDIS_URL=rediss://" + user + "@" + tlsAddr + "/0", "TIDINGS_REDIS_PASSWORD=" + pw, "SSL_CERT_FILE=" + caFile}
		res := run(tc.args...)
		for _, want := range []string{"NOPERM", tc.want, redisconn.MinimalACL} {
			if res.code != 2 || !strings.Contains(res.stderr, want) {
				t.Errorf("%s (%s): want exit 2 saying %q: %s", tc.name, tc.remove, want, res)
			}
		}
	}
	const wrong = "wrong-pw-7733"
	e.extra = []string{"TIDINGS_REDIS_PASSWORD=" + wrong, "SSL_CERT_FILE=" + caFile}
	if res := run("status", name, "--env", envName); res.code != 2 || !strings.Contains(res.stderr, "WRONGPASS") || strings.Contains(res.stdout+res.stderr, wrong) {
		t.Errorf("a wrong password: want exit 2 saying WRONGPASS, without the password: %s", res)
	}

	logged, err := os.ReadFile(w.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range outputs {
		if strings.Contains(res.stdout+res.stderr, pw) {
			t.Errorf("the password is shown: %s", res)
		}
	}
	if strings.Contains(string(logged), pw) {
		t.Errorf("the worker's log shows the password")
	}
	for _, res := range outputs {
		if strings.Contains(res.stderr, "goroutine ") || strings.Contains(res.stderr, "Usage:") {
			t.Errorf("a stack or a usage text: %s", res)
		}
	}
}
