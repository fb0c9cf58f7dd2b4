package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// noCampaign asserts that nothing is staged in env's Redis.
func noCampaign(t *testing.T, env map[string]string, envName string) {
	t.Helper()
	r := cli(t, env, "status", "--env", envName)
	if r.code != 0 || !strings.Contains(r.stdout, "No campaigns") {
		t.Errorf("want no campaign staged\n%s", r)
	}
}

func TestSendRefusals(t *testing.T) {
	t.Parallel()
	clean := []string{"ada@example.org,Ada,en,1", "juerg@example.org,Jürg,de-CH,3"}
	incomplete := filepath.Join(repoRoot(t), "testdata", "locales-incomplete")
	tests := []struct {
		name     string
		camp     campaignFile
		args     []string // after "send FILE"
		wantCode int
		wantErr  string // in stderr
		wantOut  string // in stdout
	}{
		{
			name: "pinned to another environment", camp: campaignFile{env: "staging", rows: clean},
			args: []string{"--env", "production", "--confirm", "c1"}, wantCode: 2, wantErr: `campaign.yaml:2: environment: pinned to environment "staging" but --env is "production"`,
		},
		{ // refused for the pin, not for a journal the other environment lacks
			name: "pinned to another environment, with --exclude-delivered", camp: campaignFile{env: "staging", rows: clean},
			args: []string{"--env", "production", "--confirm", "c1", "--exclude-delivered", "no-such-journal"}, wantCode: 2,
			wantErr: `campaign.yaml:2: environment: pinned to environment "staging" but --env is "production"`,
		},
		{
			name: "production without --confirm and without a terminal", camp: campaignFile{env: "production", rows: clean},
			args: []string{"--env", "production"}, wantCode: 2, wantErr: "--confirm c1",
		},
		{
			name: "production with the wrong --confirm", camp: campaignFile{env: "production", rows: clean},
			args: []string{"--env", "production", "--confirm", "wrong"}, wantCode: 2, wantErr: `--confirm "wrong" does not match`,
		},
		{
			name: "refused rows without --skip-refused",
			camp: campaignFile{locales: incomplete, rows: append([]string{"joao@example.org,João,pt,1"}, clean...)},
			args: []string{"--env", "staging"}, wantCode: 1, wantErr: "--skip-refused",
		},
		{
			name: "invalid rows without --skip-invalid",
			camp: campaignFile{rows: append([]string{"nope,No,en,1"}, clean...)},
			args: []string{"--env", "staging", "--skip-refused"}, wantCode: 1, wantErr: "--skip-invalid",
		},
		{
			name: "dry run",
			camp: campaignFile{rows: clean},
			args: []string{"--env", "staging", "--dry-run"}, wantCode: 0, wantOut: "Dry run: rendered 2 messages (de 1, en 1); nothing was queued or delivered.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, _ := redisEnv(t)
			file := writeCampaign(t, tt.camp)
			args := append([]string{"send", file, "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv")}, tt.args...)
			r := cli(t, env, args...)
			if r.code != tt.wantCode {
				t.Fatalf("want exit %d\n%s", tt.wantCode, r)
			}
			if !strings.Contains(r.stderr, tt.wantErr) || !strings.Contains(r.stdout, tt.wantOut) {
				t.Errorf("want stderr containing %q and stdout containing %q\n%s", tt.wantErr, tt.wantOut, r)
			}
			envName := tt.camp.env
			if envName == "" {
				envName = "staging"
			}
			noCampaign(t, env, envName)
		})
	}
}

func TestSendStagesOnce(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "twice", rows: []string{"ada@example.org,Ada,en,1", "taro@example.org,山田,ja,2"}})
	r := cli(t, env, "send", file, "--env", "staging")
	if r.code != 0 || !strings.Contains(r.stdout, `Staged 2 recipients of "twice" in 1 batch (1 chunk)`) {
		t.Fatalf("first send: want exit 0 and 'Staged 2 recipients ... in 1 batch (1 chunk)'\n%s", r)
	}
	r = cli(t, env, "status", "twice", "--env", "staging", "--json")
	var st struct {
		Campaign string `json:"campaign"`
		Staged   int    `json:"staged"`
		Env      string `json:"env"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Staged != 2 || st.Env != "staging" {
		t.Fatalf("status --json after send: %+v\n%s", st, r)
	}
	r = cli(t, env, "send", file, "--env", "staging")
	if r.code != 2 || strings.Count(r.stderr, "--resume-existing") != 1 {
		t.Errorf("second send: want exit 2 with the --resume-existing advice once\n%s", r)
	}
	r = cli(t, env, "send", file, "--env", "staging", "--resume-existing")
	if r.code != 2 || !strings.Contains(r.stderr, "pause") {
		t.Errorf("send --resume-existing of a running campaign: want exit 2 saying to pause it first\n%s", r)
	}
	if r = cli(t, env, "pause", "twice", "--env", "staging", "--reason", "re-stage"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	r = cli(t, env, "send", file, "--env", "staging", "--resume-existing")
	if r.code != 0 || !strings.Contains(r.stdout, "Staged") {
		t.Errorf("send --resume-existing of a paused campaign: want exit 0\n%s", r)
	}
	// The pause was someone's decision: the re-staging keeps it, and says so.
	if !strings.Contains(r.stdout, "The campaign stays paused, not running (paused by ") || !strings.Contains(r.stdout, ": re-stage); start it with: tidings resume twice --env staging") ||
		strings.Contains(r.stdout, "The campaign is running") {
		t.Errorf("send --resume-existing of a paused campaign: want it to stay paused, and say by whom and why\n%s", r)
	}
	if r = cli(t, env, "status", "twice", "--env", "staging"); !strings.Contains(r.stdout, "PAUSED") {
		t.Errorf("status after re-staging a paused campaign: want PAUSED\n%s", r)
	}
	if r = cli(t, env, "resume", "twice", "--env", "staging"); r.code != 0 {
		t.Errorf("resume after re-staging\n%s", r)
	}
}

// TestSendWhileAnotherStages: a second send while another one stages the
// campaign is refused for now (exit 3, as a Redis that cannot answer yet):
// run again once the other ends. It names who stages it.
func TestSendWhileAnotherStages(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "busy", rows: []string{"ada@example.org,Ada,en,1"}})
	if err := rd.Client().Set(context.Background(), "tidings:{busy}:staging", "s1|alice@box", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "send", file, "--env", "staging")
	if r.code != 3 || !strings.Contains(r.stderr, `campaign "busy" is being staged by alice@box`) || !strings.Contains(r.stderr, "until that staging ends") {
		t.Errorf("send while alice stages it: want exit 3 naming alice@box and saying to wait\n%s", r)
	}
	// On-call looking at it meanwhile is told it is being staged, not that
	// it does not exist or that Redis lost it. Its send wrote its record
	// as begun, then its control.
	if err := rd.Client().HSet(context.Background(), "tidings:stagings", "busy", fmt.Sprintf(`{"env":"staging","by":"alice@box","at":%d}`, time.Now().UnixMilli())).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Client().HSet(context.Background(), "tidings:{busy}:control", "state", "staged", "stage", "s1").Err(); err != nil {
		t.Fatal(err)
	}
	// report has no rows yet (exit 2, asked too early, in its own words,
	// with no "read meta:" of the store's before them: README walk-through;
	// TestReportOfACampaignBeingStaged); status shows it being staged
	// (exit 0: TestStatusOfAStagingSaysItOnce).
	r = cli(t, env, "report", "busy", "--env", "staging")
	if r.code != 2 || !strings.Contains(r.stderr, `campaign "busy" is being staged by alice@box since `) || !strings.Contains(r.stderr, "report it once its send ends") ||
		strings.Contains(r.stderr, "read meta") || strings.Contains(r.stderr, "lost") || strings.Contains(r.stderr, "does not exist") {
		t.Errorf("report while alice stages it: want exit 2 saying it is being staged, and to report it once its send ends\n%s", r)
	}
	if r = cli(t, env, "status", "busy", "--env", "staging"); r.code != 0 || !strings.Contains(r.stdout, "State:    BEING-STAGED by alice@box at ") || strings.Contains(r.stdout, "lost") || strings.Contains(r.stdout, "does not exist") {
		t.Errorf("status while alice stages it: want exit 0 showing it being staged by alice@box\n%s", r)
	}
	// Alice's send died: its lease is gone, its staging never finished.
	// status says so and what to do, and doing it stages the campaign.
	if err := rd.Client().Del(context.Background(), "tidings:{busy}:staging").Err(); err != nil {
		t.Fatal(err)
	}
	r = cli(t, env, "status", "busy", "--env", "staging")
	if r.code != 0 || !strings.Contains(r.stdout, "STAGING-INTERRUPTED") || !strings.Contains(r.stdout, "never finished") || !strings.Contains(r.stdout, "run the same send again") {
		t.Errorf("status after alice's send died: want exit 0 and state staging-interrupted, saying the staging never finished and to run send again\n%s", r)
	}
	if r = cli(t, env, "send", file, "--env", "staging"); r.code != 0 || !strings.Contains(r.stdout, "Staged 1 recipient") {
		t.Errorf("send again after an interrupted staging: want it staged\n%s", r)
	}
	// A campaign that was staged and whose definition Redis then lost
	// (evicted, say) is not taken for an unfinished staging: its audit log
	// says it was staged.
	if err := rd.Client().Del(context.Background(), "tidings:{busy}:meta").Err(); err != nil {
		t.Fatal(err)
	}
	// status shows what Redis still has of it (705f366), as for lost
	// chunks: exit 0, the loss and what to run.
	r = cli(t, env, "status", "busy", "--env", "staging")
	if r.code != 0 || !strings.Contains(r.stdout, "Redis lost this campaign's meta") || !strings.Contains(r.stdout, "do not resume") ||
		!strings.Contains(r.stdout, "--exclude-delivered") || strings.Contains(r.stdout+r.stderr, "never finished") {
		t.Errorf("status of a staged campaign whose definition Redis lost: want exit 0 saying Redis lost its meta and what to run\n%s", r)
	}
}

func TestSendRedisUnreachable(t *testing.T) {
	t.Parallel()
	host, port := closedPort(t)
	env := map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port)}
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	for _, args := range [][]string{
		{"send", file, "--env", "staging"},
		{"status", "--env", "staging"},
		{"pause", "c1", "--env", "staging", "--reason", "test"},
		{"report", "c1", "--env", "staging"},
	} {
		r := cli(t, env, args...)
		if r.code != 3 {
			t.Errorf("%s with Redis unreachable: want exit 3\n%s", args[0], r)
		}
		if !strings.Contains(r.stderr, fmt.Sprint(port)) {
			t.Errorf("%s: the message does not name the Redis address\n%s", args[0], r)
		}
	}
}

// TestSendUsesEnvironmentListUnsubscribe: a campaign without
// list_unsubscribe is staged with the environment's, so every worker sends
// the same header.
func TestSendUsesEnvironmentListUnsubscribe(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	env = merge(env, map[string]string{"TIDINGS_LIST_UNSUBSCRIBE": "https://example.org/unsub?id={id}"})
	file := writeCampaign(t, campaignFile{name: "unsub", rows: []string{"ada@example.org,Ada,en,1"}})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	meta, err := store.New(rd.Client()).Meta(t.Context(), "unsub", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := campaign.FromDefinition(meta.Definition)
	if err != nil {
		t.Fatal(err)
	}
	if c.ListUnsubscribe != "https://example.org/unsub?id={id}" {
		t.Errorf("staged list_unsubscribe %q, want the environment's", c.ListUnsubscribe)
	}
}

// TestSendResumeExistingOfAFinishedCampaign: a finished campaign stays
// finished: send --resume-existing says there is nothing left to send and
// neither reopens it (no waiting batches, no "canary sent" again) nor
// records a new start.
func TestSendResumeExistingOfAFinishedCampaign(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp))
	file := writeCampaign(t, campaignFile{name: "finished", rows: rowsIn(3, "en", "de"),
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	stop, log := sendUntil(t, env, file, "finished", "awaiting-approval")
	if r := cli(t, env, "approve", "finished", "--env", "staging"); r.code != 0 {
		t.Fatalf("approve\n%s", r)
	}
	waitState(t, env, "finished", "done", log)
	stop()
	before := status(t, env, "finished")

	r := cli(t, env, "send", file, "--env", "staging", "--resume-existing")
	if r.code != 0 || !strings.Contains(r.stdout, `Campaign "finished" is done: nothing is left to send.`) || strings.Contains(r.stdout, "Staged") {
		t.Errorf("send --resume-existing of a done campaign: want exit 0 and nothing left to send\n%s", r)
	}
	after := status(t, env, "finished")
	if after.State != "done" || len(after.Audit) != len(before.Audit) || after.Counts["sent"] != 6 {
		t.Errorf("after send --resume-existing: state %s, %d audit entries (before %d), counts %v; want done, unchanged, 6 sent",
			after.State, len(after.Audit), len(before.Audit), after.Counts)
	}
	if smtp.Count() != 6 {
		t.Errorf("%d messages, want 6", smtp.Count())
	}
}

// TestAnInterruptedSendSaysWhatToRun: a send interrupted (Ctrl-C) while it
// stages exits 130 saying which campaign's staging did not end, what that
// means and the same send to run again, with the flags it was given and
// its paths made absolute, so that it can be pasted as it is from any
// directory. It said "tidings: interrupted" and nothing more, though
// Redis held a staging only a pause acts on; then "(tidings send
// campaigns/altea.yaml --env production, with the flags it had)": a
// relative path, and flags for the operator to remember.
func TestAnInterruptedSendSaysWhatToRun(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(wd, "campaigns", "altea.yaml")
	tests := []struct {
		name string
		o    sendOptions
		want string // the command after "run the same send again to stage it: "
	}{
		{"no flags", sendOptions{env: "production"}, "tidings send " + file + " --env production"},
		{"skipped rows and a rejects file", sendOptions{env: "production", rejects: "out/rejects.csv", launch: launch.Options{SkipRefused: true, SkipInvalid: true}},
			"tidings send " + file + " --env production --skip-refused --skip-invalid --rejects " + filepath.Join(wd, "out", "rejects.csv")},
		{"a recovery, confirmed", sendOptions{env: "production", confirm: "altea", exclude: []string{"journals/host a", "/srv/report.csv"}, launch: launch.Options{ResumeExisting: true}},
			"tidings send " + file + " --env production --resume-existing --exclude-delivered '" + filepath.Join(wd, "journals", "host a") + "' --exclude-delivered /srv/report.csv --confirm altea"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			err := tt.o.interrupted(&launch.InterruptedError{Campaign: "altea", Err: fmt.Errorf("stage altea: %w", context.Canceled)}, "campaigns/altea.yaml")
			want := `tidings: interrupted while staging campaign "altea": its staging did not end, so no worker sends it and only a pause acts on it: run the same send again to stage it: ` + tt.want
			if code := exitCode(err, &stderr); code != 130 || strings.TrimSpace(stderr.String()) != want {
				t.Errorf("exit %d, stderr\n%s\nwant 130 and\n%s", code, stderr.String(), want)
			}
		})
	}
}
