package cli

import (
	"cmp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestSendAgainSaysWhatWorksInEveryState plays the operator at 2 a.m.
// running the production send of a campaign that exists again, in every
// state it can be in (real Redis, real SMTP, a real worker where one is
// needed). The send is refused before it asks for the campaign name (the
// standard input that would confirm it is not read, no PRODUCTION prompt
// is shown), the campaign is left as it was, and the refusal names what
// is accepted in that state, never a send --resume-existing that is then
// refused in turn (before: a running campaign was told to re-stage with
// --resume-existing, which was refused: "pause it first"). Then the
// commands it names are run, in its order, and must be accepted.
func TestSendAgainSaysWhatWorksInEveryState(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, smtpcapture.Config{})
	canary := "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"
	for _, tc := range []struct {
		name    string
		batches string
		setup   string // after the first send: "pause", "cancel", "approval", "done", "staged", "control-lost", "meta-lost"
		resume  bool   // the send again has --resume-existing
		code    int
		want    []string // in the refusal ({c}: the campaign)
		then    [][]string
		state   string // the campaign's state after them
	}{
		{name: "running", code: 2,
			want:  []string{`campaign "{c}" is running in production`, "tidings status {c} --env production --watch", "pause it first", "tidings pause {c} --env production --reason", "--resume-existing"},
			then:  [][]string{{"pause", "{c}", "--env", "production", "--reason", "restage"}, {"send", "{file}", "--env", "production", "--resume-existing", "--confirm", "{c}"}},
			state: "paused"},
		{name: "running-resume", resume: true, code: 2,
			want:  []string{`campaign "{c}" is running: pause it first (tidings pause {c} --env production`, "then send --resume-existing"},
			then:  [][]string{{"pause", "{c}", "--env", "production", "--reason", "restage"}, {"send", "{file}", "--env", "production", "--resume-existing", "--confirm", "{c}"}},
			state: "paused"},
		{name: "staged", setup: "staged", code: 2,
			want:  []string{`campaign "{c}" is staged in production`, "tidings status {c} --env production", "--resume-existing"},
			then:  [][]string{{"send", "{file}", "--env", "production", "--resume-existing", "--confirm", "{c}"}},
			state: "running"},
		{name: "paused", setup: "pause", code: 2,
			want:  []string{`campaign "{c}" is paused in production`, "tidings resume {c} --env production", "--resume-existing"},
			then:  [][]string{{"send", "{file}", "--env", "production", "--resume-existing", "--confirm", "{c}"}, {"resume", "{c}", "--env", "production"}},
			state: "running"},
		{name: "awaiting", batches: canary, setup: "approval", code: 2,
			want:  []string{`campaign "{c}" is awaiting-approval in production`, "tidings approve {c} --env production", "pause it first"},
			then:  [][]string{{"approve", "{c}", "--env", "production"}},
			state: "running"},
		{name: "awaiting-resume", batches: canary, setup: "approval", resume: true, code: 2,
			want:  []string{`campaign "{c}" is awaiting-approval: pause it first (tidings pause {c} --env production`},
			then:  [][]string{{"pause", "{c}", "--env", "production", "--reason", "restage"}, {"send", "{file}", "--env", "production", "--resume-existing", "--confirm", "{c}"}},
			state: "paused"},
		{name: "cancelled", setup: "cancel", code: 2,
			want:  []string{`campaign "{c}" is cancelled in production`, "--env production --resume-existing"},
			then:  [][]string{{"send", "{file}", "--env", "production", "--resume-existing", "--confirm", "{c}"}},
			state: "running"},
		{name: "done", setup: "done", code: 2,
			want:  []string{`campaign "{c}" is done in production`, "tidings report {c} --env production"},
			then:  [][]string{{"report", "{c}", "--env", "production"}},
			state: "done"},
		{name: "control-lost", setup: "control-lost", code: 2,
			want: []string{"Redis lost this campaign's control", "--env production --resume-existing --exclude-delivered JOURNAL_DIR"}},
		{name: "meta-lost", setup: "meta-lost", code: 1,
			want:  []string{"Redis lost its meta", "cancel it first (tidings cancel {c} --env production"},
			then:  [][]string{{"cancel", "{c}", "--env", "production", "--reason", "state loss"}},
			state: "cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			renv, rd := redisEnv(t)
			env := merge(renv, smtpEnv(smtp))
			c := "again-" + tc.name
			file := writeCampaign(t, campaignFile{name: c, env: "production", rows: rowsIn(2, "en"), batches: cmp.Or(tc.batches, "  interval: 0s")})
			fill := func(s string) string { return strings.NewReplacer("{c}", c, "{file}", file).Replace(s) }
			run := func(args ...string) {
				t.Helper()
				for i := range args {
					args[i] = fill(args[i])
				}
				if r := cli(t, env, args...); r.code != 0 {
					t.Fatalf("%s\n%s", strings.Join(args, " "), r)
				}
			}
			run("send", "{file}", "--env", "production", "--confirm", "{c}")
			setState(t, rd, env, c, tc.setup, run)
			before := rd.Client().HGetAll(t.Context(), "tidings:{"+c+"}:control").Val()

			args := []string{"send", file, "--env", "production"}
			if tc.resume {
				args = append(args, "--resume-existing")
			}
			stdin := strings.NewReader(c + "\n")
			r := cliIn(t, t.Context(), env, stdin, args...)
			if r.code != tc.code {
				t.Errorf("send again: exit %d, want %d\n%s", r.code, tc.code, r)
			}
			for _, w := range tc.want {
				contains(t, "the refusal", r.stderr, fill(w))
			}
			if strings.Contains(r.stderr, "--confirm") || strings.Contains(r.stdout, "PRODUCTION") || stdin.Len() != len(c)+1 {
				t.Errorf("the confirmation was asked (%d bytes of standard input read) before the refusal\n%s", len(c)+1-stdin.Len(), r)
			}
			if tc.setup != "staged" && strings.Contains(r.stderr, "already staged") {
				t.Errorf("the refusal says the campaign is merely staged\n%s", r)
			}
			if after := rd.Client().HGetAll(t.Context(), "tidings:{"+c+"}:control").Val(); after["state"] != before["state"] || after["stage"] != before["stage"] {
				t.Errorf("after the refusal the control is %v, want it as before, %v", after, before)
			}
			for _, cmd := range tc.then {
				run(cmd...)
			}
			if got := rd.Client().HGet(t.Context(), "tidings:{"+c+"}:control", "state").Val(); tc.state != "" && got != tc.state {
				t.Errorf("after %q: state %s, want %s", tc.then, got, tc.state)
			}
		})
	}
}

// setState brings campaign c, just sent (running) in production, to the
// state setup names, with the commands an operator runs (run) or a
// worker where one is needed; "staged" (a campaign staged and not
// started, which send does not leave) and the losses are written to
// Redis as they happen there.
func setState(t *testing.T, rd *redistest.Redis, env map[string]string, c, setup string, run func(args ...string)) {
	t.Helper()
	ctx, control := t.Context(), "tidings:{"+c+"}:control"
	switch setup {
	case "pause":
		run("pause", "{c}", "--env", "production", "--reason", "look at it")
	case "cancel":
		run("cancel", "{c}", "--env", "production", "--reason", "wrong list")
	case "approval", "done":
		want := map[string]string{"approval": "awaiting-approval", "done": "done"}[setup]
		stop, log := startWorker(t, env, "--env", "production", "--concurrency", "2", "--log-level", "warn")
		wait.For(t, time.Minute, c+" to be "+want, func() bool { return rd.Client().HGet(ctx, control, "state").Val() == want },
			func() string { return log.String() })
		stop()
	case "staged":
		rd.Client().HSet(ctx, control, "state", "staged")
	case "control-lost":
		rd.Client().Del(ctx, control)
	case "meta-lost":
		rd.Client().Del(ctx, "tidings:{"+c+"}:meta")
	}
}
