package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/freeport"
)

// TestReadmeExitCodes runs the built binary in each case README's
// "Commands and exit codes" (and the walk-throughs it points to) gives an
// exit code for, and checks the code and that the output is of that case:
// 0 success; 1 the command ran and found problems; 2 usage or
// configuration error; 3 infrastructure unreachable. The campaign is the
// one `tidings demo --out` writes, as the README's QA section uses it (its
// pt catalog is incomplete, some rows refused, one invalid).
func TestReadmeExitCodes(t *testing.T) {
	t.Parallel()
	closed := func() int { // a port where every connection is refused
		_, p, _ := net.SplitHostPort(freeport.Closed(t))
		n, err := strconv.Atoi(p)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	up := newEnv(t, closed(), 1) // a Redis that answers; an SMTP server that does not
	down := newEnvWith(t, "url: redis://"+freeport.Closed(t)+"/0", closed(), 1)
	up.mustRun("demo", "--out", filepath.Join(up.dir, "demo"))
	camp := filepath.Join(up.dir, "demo", "campaign", "campaign.yaml")

	// The campaign pinned to the test's environment (as the README's docker
	// compose walk-through does with sed), and a copy of it whose
	// recipients file holds its header alone.
	pinned := func(dir string) string {
		copyTree(t, filepath.Join(up.dir, "demo", "campaign"), dir)
		file := filepath.Join(dir, "campaign.yaml")
		yaml := fixture.Read(t, file)
		if !strings.Contains(yaml, "\nenvironment: production") {
			t.Fatalf("the demo's campaign file is no longer pinned to production:\n%s", yaml)
		}
		fixture.Write(t, file, strings.Replace(yaml, "\nenvironment: production", "\nenvironment: "+envName, 1))
		return file
	}
	local := pinned(filepath.Join(up.dir, "local"))
	empty := pinned(filepath.Join(up.dir, "empty"))
	b, err := os.ReadFile(filepath.Join(up.dir, "empty", "recipients.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(b), "\n")
	fixture.Write(t, filepath.Join(up.dir, "empty", "recipients.csv"), header+"\n")

	allow := []string{"TIDINGS_ALLOW=example.org"}
	for _, tc := range []struct {
		readme string // what the README says of the case
		env    *env
		extra  []string // TIDINGS_* variables
		args   []string
		code   int
		says   string // in stdout (0, 1) or stderr (2, 3)
	}{
		{"check --templates templates --locales locales: the bundled sample alone: exit 0", up, nil,
			[]string{"check", "--templates", filepath.Join(repoRoot, "templates"), "--locales", filepath.Join(repoRoot, "locales")}, 0, "check ok"},
		{"tidings version: the version", up, nil, []string{"version"}, 0, "tidings "},
		{"check $C: exit 1, a summary per language after the problem", up, nil,
			[]string{"check", local}, 1, "pt: message welcome.reregister is missing"},
		{"preview: exit 1 (pt refused)", up, nil,
			[]string{"preview", local, "--out", filepath.Join(up.dir, "gallery")}, 1, "INCOMPLETE"},
		{"plan: exit 1 if anything would be refused", up, nil, []string{"plan", local}, 1, "5 refused, 1 invalid"},
		{"2 usage or configuration error: an --env the config file does not define", up, nil,
			[]string{"send", camp, "--env", "production"}, 2, `no environment "production"`},
		{"an unknown command or topic exits 2", up, nil, []string{"help", "no-such-topic"}, 2, `"no-such-topic" is no command or help topic`},
		{"--env is required ...: without it they exit 2 and name the environments", up, nil,
			[]string{"status"}, 2, "--env is required: name the environment to work in (the config file has " + envName + ")"},
		{"a recipients file with no recipient in it ... a header row only", up, nil,
			[]string{"plan", empty}, 2, "no recipient rows: the file has a header row but no row below it"},
		{"an --env other than the campaign file's environment: is refused ..., exit 2", up, nil,
			[]string{"plan", camp, "--env", envName}, 2, `environment: pinned to environment "production" but --env is "` + envName + `"`},
		{"a campaign named that Redis does not have, never staged or lost: status ... exit 2", up, nil,
			[]string{"status", "no-such-campaign", "--env", envName}, 2, `campaign "no-such-campaign" does not exist`},
		{"A count (--show, worker --concurrency) that is negative is a usage error (exit 2) before anything connects", down, nil,
			[]string{"worker", "--env", envName, "--concurrency", "-1"}, 2, `"-1" for "--concurrency" flag: -1 is negative`},
		{"--shutdown-timeout: ... a negative one is a usage error, exit 2", down, nil,
			[]string{"worker", "--env", envName, "--shutdown-timeout", "-1s"}, 2, "--shutdown-timeout -1s: give how long a graceful shutdown may take"},
		{"A path on a file system of the kernel's ... is refused for what it is, exit 2", down, nil,
			[]string{"report", "altea", "--env", envName, "--out", "/proc/version"}, 2, "--out /proc/version: is on the kernel's proc file system"},
		{"3 infrastructure unreachable (Redis): names the setting its addresses are in", down, nil,
			[]string{"status", "--env", envName}, 3, "check redis.url / TIDINGS_REDIS_URL"},
		{"3 infrastructure unreachable (Redis): a control", down, nil,
			[]string{"pause", "altea", "--env", envName, "--reason", "x"}, 3, "is unreachable"},
		{"3 infrastructure unreachable (SMTP)", down, allow,
			[]string{"test-send", local, "--env", envName, "--to", "qa@example.org"}, 3, "the SMTP server of environment " + envName},
	} {
		tc.env.extra = tc.extra
		r := tc.env.run(tc.args...)
		out := r.stdout
		if tc.code >= 2 {
			out = r.stderr
		}
		if r.code != tc.code || !strings.Contains(out, tc.says) {
			t.Errorf("README: %s\nwant exit %d saying %q, got %s", tc.readme, tc.code, tc.says, r)
		}
	}
}
