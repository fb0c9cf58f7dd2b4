package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

// statesListed is `tidings status --env e2e --json`: the state of each
// campaign of the environment.
func (e *env) statesListed() map[string]string {
	e.t.Helper()
	r := e.mustRun("status", "--env", envName, "--json")
	var doc []struct {
		Campaign string `json:"campaign"`
		State    string `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		e.t.Fatalf("parse status --json (the list): %v\n%s", err, r)
	}
	out := map[string]string{}
	for _, c := range doc {
		out[c.Campaign] = c.State
	}
	return out
}

// consoleRow is a campaign's row of the console's list: its name and state.
var consoleRow = regexp.MustCompile(`(?s)<tr[^>]* data-campaign="([^"]+)".*?<span class="state s-([a-z-]+)">`)

// consoleStates is the state of each campaign the console's list at base
// shows, to c (a signed-in session).
func consoleStates(t *testing.T, c *http.Client, base string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range consoleRow.FindAllStringSubmatch(get(t, c, base+"/"), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestSeveralCampaignsAtOnceWithTheBinary: on-call's night with the real
// binary: three campaigns of the same recipients on two workers, one
// Redis, postfix's smtp-sink: "big" (1,500 at 100/s), "small" (the first
// 400 at 40/s) and "gated" (the first 120, awaiting approval after its
// canary). The gate holds gated alone; pausing big leaves small sending;
// `status --env` (the list) and the console's list show each in its own
// state; a worker killed (SIGKILL) mid-way and another started, gated
// approved and big resumed, all three reach done. Each campaign's report
// holds its own rows only, and each recipient received at most one
// message of each campaign, exactly one of each that reports it sent.
func TestSeveralCampaignsAtOnceWithTheBinary(t *testing.T) {
	t.Parallel()
	srv := startSMTPSink(t)
	e := newEnv(t, srv.Port(), 4)
	addConsole(t, e, "")
	rows := simpleRows(1500, acceptedLocales)
	of := map[string][]row{"big": rows, "small": rows[:400], "gated": rows[:120]}
	e.stageIn("big", campaignSpec{name: "big", size: 500, rate: "100/s"}, of["big"])
	e.stageIn("small", campaignSpec{name: "small", size: 200, rate: "40/s"}, of["small"])
	e.stageIn("gated", campaignSpec{name: "gated", canary: 1, size: 200, approve: true}, of["gated"])
	w1, w2 := e.startWorker("worker-1", 4), e.startWorker("worker-2", 4)
	base := e.startConsole(t)
	session := consoleSession(t, base)

	sentOf := func(c string) map[string]int {
		out := map[string]int{}
		for _, m := range srv.Messages(t) {
			if m.header.Get("X-Tidings-Campaign") == c {
				for _, r := range m.rcpts {
					out[r]++
				}
			}
		}
		return out
	}
	e.waitState("gated", "awaiting-approval", 2*time.Minute, w1, w2)
	wait.For(t, 2*time.Minute, "big and small to send while gated awaits approval", func() bool {
		return len(sentOf("big")) >= 100 && len(sentOf("small")) >= 40
	})
	e.mustRun("pause", "big", "--env", envName, "--reason", "e2e: the migration mail waits")
	waitClaimsEnded(t, e.redis.Client(), "big", of["big"])
	bigAtPause, smallAtPause := len(sentOf("big")), len(sentOf("small"))
	wait.For(t, 2*time.Minute, "small to send 40 more while big is paused", func() bool {
		return len(sentOf("small")) >= smallAtPause+40
	})
	want := map[string]string{"big": "paused", "small": "running", "gated": "awaiting-approval"}
	if got := e.statesListed(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("status --env %s lists %v; want %v", envName, got, want)
	}
	if got := consoleStates(t, session, base); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the console lists %v; want %v", got, want)
	}
	if n := len(sentOf("big")); n != bigAtPause {
		t.Errorf("big: %d messages while paused", n-bigAtPause)
	}

	w1.kill()
	w3 := e.startWorker("worker-3", 4)
	e.mustRun("approve", "gated", "--env", envName)
	e.mustRun("resume", "big", "--env", envName)
	for c := range want {
		e.waitState(c, "done", 3*time.Minute, w2, w3)
	}
	done := map[string]string{"big": "done", "small": "done", "gated": "done"}
	if got := e.statesListed(); fmt.Sprint(got) != fmt.Sprint(done) {
		t.Errorf("status --env %s lists %v; want %v", envName, got, done)
	}
	if got := consoleStates(t, session, base); fmt.Sprint(got) != fmt.Sprint(done) {
		t.Errorf("the console lists %v; want %v", got, done)
	}
	for c, rs := range of {
		got := sentOf(c)
		rep := e.report(c)
		if len(rep.Recipients) != len(rs) {
			t.Errorf("report %s: %d rows, %d staged", c, len(rep.Recipients), len(rs))
		}
		ours := map[string]bool{}
		for _, r := range rs {
			ours[r.id()] = true
		}
		sent := 0
		for _, r := range rep.Recipients {
			switch {
			case !ours[r.ID]:
				t.Errorf("report %s: row %s is not one of its recipients", c, r.ID)
			case r.Outcome == "sent" && got[r.ID] != 1:
				t.Errorf("report %s: %s sent, received %d of its messages", c, r.ID, got[r.ID])
			case r.Outcome != "sent" && r.Outcome != "in-doubt":
				t.Errorf("report %s: %s %s", c, r.ID, r.Outcome)
			}
			if r.Outcome == "sent" {
				sent++
			}
		}
		for rc, n := range got {
			if n > 1 || !ours[rc] {
				t.Errorf("%s received %d messages of %s (one of its recipients: %v)", rc, n, c, ours[rc])
			}
		}
		t.Logf("%s: %d rows, %d sent, %d in doubt (worker-1 killed)", c, len(rep.Recipients), sent, len(rep.Recipients)-sent)
	}
}
