package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileFlagsSayWhatIsWrong: a file given to --rejects, to report --out
// or to --viewer-tokens that cannot be written or read is refused with the
// flag, the path as given, what is wrong with it and what to do (exit 2),
// and before anything connects to Redis (nothing listens there). The
// operating system's words came out as they were, and report --out named
// the temporary file beside the path ("open .../report.csv.123.tmp").
// A file that holds something else (the recipients file) is refused naming
// the flag too: report --out said "PATH: the file exists and is not a
// report" without --out, unlike every other error of the flag.
// A disk that cannot hold the file now is infrastructure (exit 3).
func TestFileFlagsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	host, port := closedPort(t)
	env := map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port), "TIDINGS_STATE_DIR": t.TempDir()}
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1", "not-an-address,Bob,en,2"}})
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir")
	other := filepath.Join(dir, "recipients.csv") // given by mistake: refused, never written over
	if err := os.WriteFile(other, []byte("email,locale,name\nada@example.org,en,Ada\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"plan --rejects", []string{"plan", file, "--rejects", filepath.Join(missing, "r.csv")}, 2,
			"tidings: --rejects " + filepath.Join(missing, "r.csv") + ": the directory " + missing + " does not exist: create it, or give a path in a directory that exists"},
		{"send --rejects", []string{"send", file, "--env", "staging", "--skip-invalid", "--rejects", filepath.Join(missing, "r.csv")}, 2,
			"tidings: --rejects " + filepath.Join(missing, "r.csv") + ": the directory " + missing + " does not exist"},
		{"plan --rejects a directory", []string{"plan", file, "--rejects", dir}, 2,
			"tidings: --rejects " + dir + ": is a directory: give the path of a file"},
		{"report --out", []string{"report", "c1", "--env", "staging", "--out", filepath.Join(missing, "report.csv")}, 2,
			"tidings: --out " + filepath.Join(missing, "report.csv") + ": the directory " + missing + " does not exist: create it"},
		{"report --out another file", []string{"report", "c1", "--env", "staging", "--out", other}, 2,
			"tidings: --out " + other + `: the file exists and is not a report (its first line is "email,locale,name"): nothing was written to it`},
		{"plan --rejects another file", []string{"plan", file, "--rejects", other}, 2,
			"tidings: --rejects " + other + `: the file exists and is not a rejects file (its first line is "email,locale,name"): nothing was written to it`},
		{"console --viewer-tokens", []string{"console", "--env", "staging", "--viewer-tokens", filepath.Join(dir, "viewers.txt")}, 2,
			"tidings: --viewer-tokens " + filepath.Join(dir, "viewers.txt") + ": the file does not exist: check the path"},
		{"console --operator-tokens", []string{"console", "--env", "staging", "--operator-tokens", "operators.txt"}, 2,
			"tidings: --operator-tokens operators.txt: the file does not exist"},
		{"plan --rejects, disk full", []string{"plan", file, "--rejects", "/dev/full"}, 3,
			"tidings: --rejects /dev/full: no space left (no space left on device): free space on that disk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.says) || strings.Contains(r.stderr, ".tmp") {
				t.Errorf("tidings %s: exit %d, want %d saying %q\n%s", strings.Join(tc.args, " "), r.code, tc.code, tc.says, r)
			}
		})
	}
}

// TestUnknownVariableIsWarnedOf: a TIDINGS_* variable tidings does not
// read (a typo) is warned of once, with the known variable it may have
// been meant as; the command still runs. It was ignored without a word,
// so TIDINGS_REDIS_ULR sent to the default Redis.
func TestUnknownVariableIsWarnedOf(t *testing.T) {
	t.Parallel()
	r := cli(t, map[string]string{"TIDINGS_REDIS_ULR": "redis://10.0.0.1:6379/0", "TIDINGS_REDIS_URL": "redis://127.0.0.1:1/0", "TIDINGS_WHATEVER": "1"}, "version")
	for _, want := range []string{
		`level=WARN msg="unknown environment variable, ignored" variable=TIDINGS_REDIS_ULR closest=TIDINGS_REDIS_URL`,
		`variable=TIDINGS_WHATEVER closest="none (tidings help environments lists them)"`,
	} {
		if r.code != 0 || strings.Count(r.stderr, want) != 1 || !strings.HasPrefix(r.stdout, "tidings ") {
			t.Errorf("want exit 0, the version, and once %q\n%s", want, r)
		}
	}
	if r := cli(t, map[string]string{"TIDINGS_REDIS_URL": "redis://127.0.0.1:1/0", "TIDINGS_CONFIG": ""}, "version"); r.stderr != "" {
		t.Errorf("known variables: want no warning\n%s", r)
	}
}

// TestReportOutOnAFullDiskIsInfrastructure: "a full disk exits 3"
// (README, Commands and exit codes), also for a report read from Redis:
// its write's error went through storeError, which made the disk's
// ENOSPC a configuration error (exit 2) before --out could say it was
// the disk's. /dev/full fails every write with ENOSPC.
func TestReportOutOnAFullDiskIsInfrastructure(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	c := stageCampaign(t, env, "fullreport")
	for _, format := range []string{"csv", "json"} {
		r := cli(t, env, "report", c, "--env", "staging", "--format", format, "--out", "/dev/full")
		if r.code != 3 || !strings.Contains(r.stderr, "tidings: --out /dev/full: no space left (no space left on device): free space on that disk") {
			t.Errorf("report --format %s --out /dev/full: want exit 3 saying the disk is full\n%s", format, r)
		}
	}
}
