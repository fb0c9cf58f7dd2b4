package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// stageCampaign sends a campaign of three rows (one staged, one refused,
// one invalid) in environment staging and returns its name.
func stageCampaign(t *testing.T, env map[string]string, name string) string {
	t.Helper()
	file := writeCampaign(t, campaignFile{
		name:    name,
		locales: filepath.Join(repoRoot(t), "testdata", "locales-incomplete"),
		rows:    []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt,3", "bad-email,Bob,de,2"},
	})
	r := cli(t, env, "send", file, "--env", "staging", "--skip-refused", "--skip-invalid", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv"))
	if r.code != 0 {
		t.Fatalf("stage %s\n%s", name, r)
	}
	return name
}

func TestControlCommands(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	// Staged as stageCampaign stages, with a canary: the approvals below
	// are of a canary not yet sent (one without a canary has nothing to
	// approve: TestApproveWithoutACanary).
	staged := writeCampaign(t, campaignFile{
		name:    "ctl",
		locales: filepath.Join(repoRoot(t), "testdata", "locales-incomplete"),
		rows:    []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt,3", "bad-email,Bob,de,2"},
		batches: "  canary_per_locale: 1\n  interval: 0s",
	})
	if r := cli(t, env, "send", staged, "--env", "staging", "--skip-refused", "--skip-invalid", "--rejects", filepath.Join(filepath.Dir(staged), "rejects.csv")); r.code != 0 {
		t.Fatalf("stage ctl\n%s", r)
	}
	c := "ctl"
	file := writeCampaign(t, campaignFile{name: c, rows: []string{"ada@example.org,Ada,en,1"}})
	steps := []struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{[]string{"pause", c, "--env", "staging"}, 2, "", "--reason is required"},
		{[]string{"pause", c, "--env", "staging", "--reason", "  \t "}, 2, "", "--reason is required"},
		{[]string{"pause", c, "--env", "staging", "--reason", "bounces climbing"}, 0, "Paused ctl.", ""},
		// A second pause changes nothing, and says whose pause holds.
		{[]string{"pause", c, "--env", "staging", "--reason", "also looking"}, 0, "(bounces climbing): nothing changed, and this reason is not recorded.\nResume with: tidings resume ctl --env staging", ""},
		{[]string{"status", c, "--env", "staging"}, 0, "PAUSED by", ""},
		{[]string{"resume", c, "--env", "staging", "--reason", "bounces explained"}, 0, "Resumed ctl.", ""},
		// A second resume, or approve, changes nothing and says so.
		{[]string{"resume", c, "--env", "staging"}, 0, "ctl was already running (resume by ", ""},
		// No worker runs: the canary is not done, so nobody has seen it.
		{[]string{"approve", c, "--env", "staging"}, 1, "", nextstep.CanaryRunning("ctl", "staging")},
		{[]string{"approve", c, "--env", "staging", "--in-advance"}, 0, "Approved ctl: the batches after the canary are released as planned, the next one once the canary is done and the campaign's interval since then has passed", ""},
		{[]string{"approve", c, "--env", "staging", "--in-advance"}, 0, "ctl was already approved (see the audit log): nothing changed.", ""},
		{[]string{"cancel", c, "--env", "staging"}, 2, "", "--reason is required"},
		{[]string{"cancel", c, "--env", "staging", "--reason", "wrong recipients file"}, 0, "Cancelled ctl: 1 unsent recipients recorded as cancelled.", ""},
		{[]string{"resume", c, "--env", "staging"}, 1, "", "--resume-existing"},
		{[]string{"pause", "no-such-campaign", "--env", "staging", "--reason", "x"}, 2, "", `campaign "no-such-campaign" does not exist in environment staging`},
		// Never started here: the campaigns that exist, no "Redis lost it"
		// (TestNotFoundSaysRedisLostItOnlyWhenStarted).
		{[]string{"resume", "nosuch", "--env", "staging"}, 2, "", `campaign "nosuch" does not exist in environment staging: its campaigns are ctl; list them with 'tidings status --env staging'`},
		{[]string{"approve", "nosuch", "--env", "staging"}, 2, "", `campaign "nosuch" does not exist in environment staging: its campaigns are ctl; list them with 'tidings status --env staging', or stage it with 'tidings send CAMPAIGN-FILE --env staging'` + "\n"},
		{[]string{"pause", c, "--reason", "x"}, 2, "", "--env is required"},
		// A name one letter off is told the campaign it may have meant.
		{[]string{"pause", "ctll", "--env", "staging", "--reason", "x"}, 2, "", `campaign "ctll" does not exist in environment staging (did you mean "ctl"?): list its campaigns`},
		{[]string{"status", "Ctl", "--env", "staging"}, 2, "", `"Ctl" is not a campaign's name (did you mean "ctl"?): a name is 1-63 lower-case letters, digits and '-'`},
		// The campaign file given for its name (send takes the file) said
		// "does not exist ... If it was started, Redis lost it".
		{[]string{"pause", file, "--env", "staging", "--reason", "x"}, 2, "", `tidings: "` + file + `" is a campaign file: give its campaign's name, "ctl" (its name:), not the file` + "\n"},
		{[]string{"status", "ctl one", "--env", "staging"}, 2, "", `tidings: "ctl one" is not a campaign's name: a name is 1-63 lower-case letters, digits and '-' (the name: of its campaign file)` + "\n"},
	}
	for _, s := range steps {
		r := cli(t, env, s.args...)
		if r.code != s.wantCode || !strings.Contains(r.stdout, s.wantOut) || !strings.Contains(r.stderr, s.wantErr) {
			t.Errorf("%v: want exit %d, stdout with %q, stderr with %q\n%s", s.args, s.wantCode, s.wantOut, s.wantErr, r)
		}
	}

	r := cli(t, env, "status", c, "--env", "staging", "--json")
	if r.code != 0 {
		t.Fatalf("status --json\n%s", r)
	}
	var st struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
		Audit  []struct {
			Who, Host, Env, Action, Reason string
		} `json:"audit"`
		Counts map[string]int64 `json:"counts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r)
	}
	if st.State != "cancelled" || st.Reason != "wrong recipients file" {
		t.Errorf("state %q reason %q, want cancelled, 'wrong recipients file'", st.State, st.Reason)
	}
	var actions []string
	reasons := map[string]string{}
	for _, a := range st.Audit {
		actions = append(actions, a.Action)
		reasons[a.Action] = a.Reason
		if a.Who == "" || a.Host == "" || a.Env != "staging" {
			t.Errorf("audit entry without who/host/env: %+v", a)
		}
	}
	for _, want := range []string{"pause", "resume", "approve", "cancel"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
	if reasons["pause"] != "bounces climbing" || reasons["cancel"] != "wrong recipients file" {
		t.Errorf("audit reasons %v", reasons)
	}
	if st.Counts["cancelled"] != 1 || st.Counts["refused"] != 1 || st.Counts["invalid"] != 1 {
		t.Errorf("counts %v, want 1 cancelled, 1 refused, 1 invalid", st.Counts)
	}
}

// TestStatusSaysNoProgress: a running campaign that no worker sends (none
// runs here) says so in status once a minute has passed without an
// outcome (the minute is made to have passed by moving its state's time
// back).
func TestStatusSaysNoProgress(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	c := stageCampaign(t, env, "idle")
	if r := cli(t, env, "status", c, "--env", "staging"); r.code != 0 || strings.Contains(r.stdout, "NO PROGRESS") {
		t.Fatalf("status just after send: want no stall yet\n%s", r)
	}
	old := time.Now().Add(-3 * time.Minute).UnixMilli()
	if err := rd.Client().HSet(context.Background(), "tidings:{"+c+"}:control", "at", old).Err(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "status", c, "--env", "staging")
	if want := "(recipients due since "; r.code != 0 || !strings.Contains(r.stdout, "NO PROGRESS for 3m") || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "a worker of environment staging runs") {
		t.Errorf("status of a campaign nobody sends for 3 minutes: want %q\n%s", want, r)
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	c := stageCampaign(t, env, "rep")
	wantHeader := []string{"line", "id", "email", "locale", "lang", "outcome", "code", "response", "at", "attempts", "batch", "campaign", "run", "continues", "env"}

	t.Run("csv", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.csv")
		r := cli(t, env, "report", c, "--env", "staging", "--out", out)
		if r.code != 0 {
			t.Fatalf("report\n%s", r)
		}
		rows := readCSV(t, out)
		if !slices.Equal(rows[0], wantHeader) {
			t.Errorf("header %v, want %v", rows[0], wantHeader)
		}
		got := map[string][]string{}
		for _, row := range rows[1:] {
			got[row[0]] = row
		}
		if len(rows) != 4 {
			t.Fatalf("want 3 rows, got %v", rows[1:])
		}
		for line, want := range map[string][]string{
			"2": {"ada@example.org", "en", "en", "pending", "0"},
			"3": {"joao@example.org", "pt", "", "refused", "-1"},
			"4": {"bad-email", "de", "", "invalid", "-1"},
		} {
			row := got[line]
			if row == nil {
				t.Errorf("no row for line %s", line)
				continue
			}
			if have := []string{row[2], row[3], row[4], row[5], row[10]}; !slices.Equal(have, want) {
				t.Errorf("line %s: email, locale, lang, outcome, batch = %v, want %v", line, have, want)
			}
		}
	})

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantRows []string // outcomes, in order
		wantErr  string
	}{
		{"filter", []string{"--outcome", "refused,invalid"}, 0, []string{"refused", "invalid"}, ""},
		{"filter with spaces", []string{"--outcome", " pending "}, 0, []string{"pending"}, ""},
		{"bad outcome", []string{"--outcome", "sent,bogus"}, 2, nil, `--outcome "bogus"`},
		{"bad format", []string{"--format", "xml"}, 2, nil, `--format "xml"`},
		{"unknown campaign", nil, 2, nil, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := c
			if tt.name == "unknown campaign" {
				name = "nope"
			}
			r := cli(t, env, append([]string{"report", name, "--env", "staging"}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("want exit %d and %q on stderr\n%s", tt.wantCode, tt.wantErr, r)
			}
			if tt.wantCode != 0 {
				if r.stdout != "" { // a header alone would pass for an empty report
					t.Errorf("exit %d, but something was written to stdout\n%s", r.code, r)
				}
				return
			}
			var outcomes []string
			for i, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if i > 0 {
					outcomes = append(outcomes, strings.Split(l, ",")[5])
				}
			}
			if !slices.Equal(outcomes, tt.wantRows) {
				t.Errorf("outcomes %v, want %v\n%s", outcomes, tt.wantRows, r)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		r := cli(t, env, "report", c, "--env", "staging", "--format", "json", "--outcome", "refused")
		if r.code != 0 {
			t.Fatalf("report --format json\n%s", r)
		}
		var rep struct {
			Campaign   string           `json:"campaign"`
			State      string           `json:"state"`
			Counts     map[string]int64 `json:"counts"`
			Audit      []map[string]any `json:"audit"`
			Recipients []map[string]any `json:"recipients"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("report JSON: %v\n%s", err, r.stdout)
		}
		if rep.Campaign != c || rep.Counts["refused"] != 1 || len(rep.Audit) == 0 || len(rep.Recipients) != 1 {
			t.Errorf("report JSON %+v", rep)
		}
		if len(rep.Recipients) == 1 {
			for _, k := range []string{"line", "id", "email", "locale", "outcome", "code", "response", "batch"} {
				if _, ok := rep.Recipients[0][k]; !ok {
					t.Errorf("recipient object lacks %q: %v", k, rep.Recipients[0])
				}
			}
		}
	})
}

// TestReportJournal reads a campaign's delivery journals without Redis:
// one row per recipient, what was read said on stderr; --env and --journal
// exclude each other.
func TestReportJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	journaltest.Write(t, dir, "w1",
		journal.Entry{At: at, Campaign: "lost", Run: "r1", ID: "u1", Email: "ada@example.org", Lang: "en", Outcome: "sent", Code: "250"},
		journal.Entry{At: at, Campaign: "lost", Run: "r1", ID: "u2", Email: "jose@example.org", Lang: "es", Outcome: "temp", Code: "451"})
	r := cli(t, nil, "report", "lost", "--journal", dir)
	want := "id,email,lang,outcome,code,at,attempts,run,worker,campaign,env\nu1,ada@example.org,en,sent,250,2026-12-01T02:00:00Z,1,r1,w1,lost,\nu2,jose@example.org,es,pending,451,2026-12-01T02:00:00Z,1,r1,w1,lost,\n"
	if r.code != 0 || r.stdout != want || !strings.Contains(r.stderr, "read 1 journal file(s) of run(s) r1: 2 recipients (sent 1, in-doubt 0)") {
		t.Errorf("report --journal:\n%s\nwant stdout\n%s", r, want)
	}
	for args, want := range map[string]string{
		"report lost": "--env is required: name the environment to work in; or give --journal PATH",
		"report lost --journal " + dir + " --env staging": "give --env (the campaign in Redis) or --journal (its delivery journals), not both",
	} {
		if r := cli(t, nil, strings.Fields(args)...); r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("%v: want exit 2 and %q, got\n%s", args, want, r)
		}
	}
	if r := cli(t, nil, "report", "other", "--journal", dir); r.code != 2 || !strings.Contains(r.stderr, "holds no delivery journal of campaign other") {
		t.Errorf("a campaign without journal: want exit 2, got\n%s", r)
	}
	// Another campaign's directory (lost's, for other): refused, naming
	// the campaign its files hold and what to give instead, not an empty
	// report.
	if r := cli(t, nil, "report", "other", "--journal", filepath.Join(dir, "lost")); r.code != 2 || r.stdout != "" ||
		!strings.Contains(r.stderr, "is a delivery journal of campaign lost, not of other") || !strings.Contains(r.stderr, "give the journal directory (journal.dir) of the workers that sent other") {
		t.Errorf("report of another campaign's journal directory: want exit 2 naming lost, got\n%s", r)
	}
}

// TestControlRedisErrorIsInfrastructure: a Redis that answers with an
// error (here READONLY: it became a replica, as the old master does during
// a failover) makes a control command exit 3 (infrastructure), never 2.
func TestControlRedisErrorIsInfrastructure(t *testing.T) {
	t.Parallel()
	rs := redistest.StartServer(t, "../redistest/testdata/plain.conf") // a real one: the embedded Redis has no REPLICAOF
	env := map[string]string{"TIDINGS_REDIS_URL": rs.URL, "TIDINGS_STATE_DIR": t.TempDir()}
	c := stageCampaign(t, env, "ro")
	if err := rs.Client().ReplicaOf(t.Context(), "127.0.0.1", "1").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Client().ReplicaOf(context.Background(), "NO", "ONE").Err() })
	for _, args := range [][]string{{"pause", c, "--reason", "x"}, {"cancel", c, "--reason", "x"}, {"approve", c, "--in-advance"}} {
		r := cli(t, env, append(args, "--env", "staging")...)
		if r.code != 3 || !strings.Contains(r.stderr, "READONLY") {
			t.Errorf("%s on a read-only Redis: want exit 3 with Redis's answer, got\n%s", args[0], r)
		}
	}
}

// TestReportOutKeptOnFailure: a report that fails (here: no journal where
// it looks) leaves the file --out names as it was: it may be the only list
// of who was sent. Before, the file was emptied first.
func TestReportOutKeptOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "report.csv")
	const before = "line,id,email,locale,lang,outcome\n2,a,a@x.example,en,en,sent\n"
	if err := os.WriteFile(out, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cli(t, nil, "report", "gone", "--journal", filepath.Join(dir, "no-journal"), "--out", out)
	if r.code == 0 {
		t.Fatalf("report from a missing journal succeeded\n%s", r)
	}
	if b, _ := os.ReadFile(out); string(b) != before {
		t.Errorf("%s after a failed report: %q, want it untouched", out, b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestRedisRepliesSayWhatToDo: an error Redis answers with says what to do,
// with the exit code of who must act: a replica refusing a write (as during
// a failover) is infrastructure (exit 3); a password Redis refuses is the
// environment's settings (exit 2), not "unreachable".
func TestRedisRepliesSayWhatToDo(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	env := map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_STATE_DIR": t.TempDir()}
	c := stageCampaign(t, env, "replies")
	admin := r.Client()
	host, port := closedPort(t)
	if err := admin.Do(t.Context(), "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	res := cli(t, env, "pause", c, "--env", "staging", "--reason", "bounces")
	if res.code != 3 || !strings.Contains(res.stderr, "READONLY") || !strings.Contains(res.stderr, "During a failover this lasts a few seconds: try again") {
		t.Errorf("pause on a replica: want exit 3 with READONLY and advice\n%s", res)
	}
	if err := admin.Do(t.Context(), "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	// A user that may not run INFO (which resolves the replica
	// acknowledgements): a setting to fix, exit 2.
	if err := admin.Do(t.Context(), "ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "&*", "+@all", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	res = cli(t, merge(env, map[string]string{"TIDINGS_REDIS_URL": strings.Replace(r.URL, "redis://", "redis://noinfo@", 1), "TIDINGS_REDIS_PASSWORD": "pw"}), "status", c, "--env", "staging")
	if res.code != 2 || !strings.Contains(res.stderr, "NOPERM") || !strings.Contains(res.stderr, "Redis ACL") {
		t.Errorf("a user without INFO: want exit 2 with NOPERM and advice\n%s", res)
	}
	if err := admin.ConfigSet(t.Context(), "requirepass", "secret").Err(); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "wrong"} {
		res := cli(t, merge(env, map[string]string{"TIDINGS_REDIS_PASSWORD": pw}), "status", c, "--env", "staging")
		if res.code != 2 || !strings.Contains(res.stderr, "redis.password_file") || strings.Contains(res.stderr, "unreachable") {
			t.Errorf("password %q: want exit 2 with advice on redis.password_file\n%s", pw, res)
		}
	}
	res = cli(t, merge(env, map[string]string{"TIDINGS_REDIS_PASSWORD": "secret"}), "status", c, "--env", "staging")
	if res.code != 0 {
		t.Errorf("the right password\n%s", res)
	}
}

// TestCancelWithALostChunk: a cancel whose campaign lost a chunk in Redis
// cancels every other recipient, says how many, names the lost chunk with
// what to check and where who was sent is recorded, and exits 1.
func TestCancelWithALostChunk(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	c := stageCampaign(t, env, "lostchunk")
	if n, err := r.Client().Del(t.Context(), "tidings:{lostchunk}:chunk:0").Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk 0: %d, %v", n, err)
	}
	res := cli(t, env, "cancel", c, "--env", "staging", "--reason", "wrong file")
	if res.code != 1 || !strings.Contains(res.stdout, "Cancelled lostchunk: 0 unsent recipients") ||
		!strings.Contains(res.stderr, "Redis lost chunk(s) [0] of campaign lostchunk") || !strings.Contains(res.stderr, "tidings report lostchunk --journal JOURNAL_DIR") {
		t.Errorf("cancel with a lost chunk: want exit 1, the count, the lost chunk and what to do\n%s", res)
	}
	// What to do next is after the cancel, which took: it said "to mail
	// the others and nobody twice, cancel it and stage it again", so the
	// operator who had just cancelled it was told to cancel it.
	if strings.Contains(res.stderr, "cancel it") || !strings.Contains(res.stderr, "it is cancelled now; to mail the others and nobody twice, stage it again excluding those deliveries") ||
		!strings.Contains(res.stderr, "--resume-existing --exclude-delivered JOURNAL_DIR") {
		t.Errorf("cancel with a lost chunk: want it said cancelled, and the send that stages it again, not to cancel it\n%s", res)
	}
}

// TestReportWithALostChunk: a report of a campaign whose chunk Redis lost
// still holds every other row, complete and valid (JSON parses, CSV has
// every line, then a row of outcome unknown for the lost chunk), names the
// lost chunk, says that the report lacks its rows and what a recovery
// reads instead, and exits 1; --out leaves the file there as it was (it
// may be the full report saved before the loss), and says so.
func TestReportWithALostChunk(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	c := stageCampaign(t, env, "lostreport") // one staged row, two rejected
	if n, err := r.Client().Del(t.Context(), "tidings:{lostreport}:chunk:0").Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk 0: %d, %v", n, err)
	}
	res := cli(t, env, "report", c, "--env", "staging", "--format", "json")
	var doc struct{ Recipients []map[string]any }
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || len(doc.Recipients) != 2 {
		t.Errorf("json report: %v, %d recipients; want valid JSON with the 2 rejected rows\n%s", err, len(doc.Recipients), res)
	}
	if res.code != 1 || !strings.Contains(res.stderr, "Redis lost chunk(s) [0] of campaign lostreport") {
		t.Errorf("json report: want exit 1 naming the lost chunk\n%s", res)
	}
	res = cli(t, env, "report", c, "--env", "staging")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != 1 || len(lines) != 4 || !strings.HasPrefix(lines[3], `,,,,,unknown,lost-chunk,"Redis lost chunk 0 of campaign lostreport`) ||
		!strings.Contains(res.stderr, "the report lacks their recipients' rows, and says so (a row of outcome unknown") ||
		!strings.Contains(res.stderr, "--resume-existing --exclude-delivered JOURNAL_DIR") {
		t.Errorf("csv report: want exit 1, the header with 2 rows and the lost chunk's, and what to do\n%s", res)
	}
	// On the host whose send staged it, the send to run is that one, with
	// its file and flags, as status and the controls write it; report said
	// CAMPAIGN-FILE.
	if strings.Contains(res.stderr, "CAMPAIGN-FILE") || !strings.Contains(res.stderr, "--env staging --resume-existing --exclude-delivered JOURNAL_DIR --skip-refused --skip-invalid --rejects ") {
		t.Errorf("csv report: want the send that stages it again with the file and flags this host's start record keeps\n%s", res)
	}
	out := filepath.Join(t.TempDir(), "report.csv")
	const saved = "line,id,email,locale,lang,outcome\nthe full report saved before the loss\n"
	fixture.Write(t, out, saved)
	res = cli(t, env, "report", c, "--env", "staging", "--out", out)
	if b, _ := os.ReadFile(out); res.code != 1 || string(b) != saved || !strings.Contains(res.stderr, "nothing was written to "+out+", which is left as it was") {
		t.Errorf("csv report --out: want exit 1, the file as it was, and that said\n%s", res)
	}
}

// TestStatusWithALostChunk: status names the chunks Redis lost (text and
// JSON, lost_chunks) and says where who was sent is recorded, whether or
// not a worker has reached them yet; a campaign that lost none says
// nothing of it.
func TestStatusWithALostChunk(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	c := stageCampaign(t, env, "loststatus")
	if res := cli(t, env, "status", c, "--env", "staging"); res.code != 0 || strings.Contains(res.stdout, "Redis lost") {
		t.Errorf("status of a whole campaign: want exit 0 and nothing lost\n%s", res)
	}
	if n, err := r.Client().Del(t.Context(), "tidings:{loststatus}:chunk:0").Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk 0: %d, %v", n, err)
	}
	res := cli(t, env, "status", c, "--env", "staging")
	if res.code != 0 || !strings.Contains(res.stdout, "Redis lost chunk(s) [0] of this campaign") || !strings.Contains(res.stdout, "tidings report loststatus --journal JOURNAL_DIR") {
		t.Errorf("status: want the lost chunk named and where who was sent is recorded\n%s", res)
	}
	res = cli(t, env, "status", c, "--env", "staging", "--json")
	var doc struct {
		LostChunks []int `json:"lost_chunks"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || !slices.Equal(doc.LostChunks, []int{0}) {
		t.Errorf("status --json: %v, lost_chunks %v; want [0]\n%s", err, doc.LostChunks, res)
	}
}

// TestStatusListFlagsALostChunk: the list of campaigns (status without
// a campaign) flags one whose chunk Redis lost, naming the chunks and
// the command that says more, as status of the campaign does (before,
// its row looked like any other's); a campaign that lost none is not
// flagged. Text (golden) and JSON (lost_chunks).
func TestStatusListFlagsALostChunk(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	stageCampaign(t, env, "listlost")
	stageCampaign(t, env, "listwhole")
	if n, err := r.Client().Del(t.Context(), "tidings:{listlost}:chunk:0").Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk 0: %d, %v", n, err)
	}
	res := cli(t, env, "status", "--env", "staging")
	if res.code != 0 {
		t.Fatalf("status list\n%s", res)
	}
	golden.Check(t, filepath.Join("testdata", "status-list-lost-chunk.golden"), res.stdout)
	res = cli(t, env, "status", "--env", "staging", "--json")
	var doc []struct {
		Campaign   string `json:"campaign"`
		LostChunks []int  `json:"lost_chunks"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || len(doc) != 2 || !slices.Equal(doc[0].LostChunks, []int{0}) || doc[1].LostChunks != nil {
		t.Errorf("status --json list: %v, %+v; want listlost with lost_chunks [0], listwhole without\n%s", err, doc, res)
	}
}

// TestRetryOfAPausedCampaign: retry re-queues temporary failures; when the
// campaign is paused it says that nothing goes out before a resume.
func TestRetryOfAPausedCampaign(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	c := stageCampaign(t, env, "retry-paused")
	st := store.New(rd.Client())
	ctx := t.Context()
	ctl, err := st.Control(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := st.Tick(ctx, c, store.TickParams{Stage: ctl.Stage}, time.Now()); err != nil || res.Code != store.TickReleased {
		t.Fatalf("tick: %+v %v", res, err)
	}
	l, p := st.Ledger(c, ctl.Stage), store.Policy{MaxAttempts: 1} // failed for good after one temporary failure
	claim := []store.Claim{{ID: "ada@example.org", Lang: "en", Token: "t1"}}
	if _, err := l.Step(ctx, nil, claim, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	temp := []store.Record{{ID: "ada@example.org", Lang: "en", Kind: store.KindTemp, Code: "451", Response: "try later"}}
	if _, err := l.Step(ctx, temp, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, env, "pause", c, "--env", "staging", "--reason", "451s"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	r := cli(t, env, "retry", c, "--env", "staging")
	if want := "Re-queued 1 temporary failures of retry-paused; it is paused: they go out after 'tidings resume retry-paused --env staging'."; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("retry of a paused campaign: want exit 0 and %q\n%s", want, r)
	}
}
