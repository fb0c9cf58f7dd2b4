package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

// TestControlLostRecovery: Redis loses the control of a paused campaign
// alone (tidings:{c}:control: an eviction, an operator's clean-up over the
// weekend; TestKeyLostWhilePaused in worker). status says so: Redis lost
// its control state, part of its state, and its ledger may be incomplete;
// and what to run: stage it again excluding the journals' deliveries (no
// cancel: nothing is left to cancel). Running exactly the command status
// prints ends the campaign with everyone mailed once and nobody twice
// (counted at the SMTP server). Before, status said the campaign's staging
// again was interrupted and to run that send again, without the journals.
func TestControlLostRecovery(t *testing.T) {
	t.Parallel()
	const (
		name = "e2e-controllost"
		n    = 3000
	)
	srv := startSMTPSink(t)
	e := newEnv(t, srv.Port(), 4)
	file, rows := e.sendLossCampaign(name, n)
	w := e.startWorker("worker", 4)
	wait.For(t, 2*time.Minute, "500 messages", func() bool { return srv.Count() >= 500 })
	e.mustRun("pause", name, "--env", envName, "--reason", "the weekend")
	e.waitState(name, "paused", 2*time.Minute, w)
	if err := e.redis.Client().Unlink(context.Background(), "tidings:{"+name+"}:control").Err(); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun("status", name, "--env", envName).stdout
	if strings.Contains(out, "restaging-interrupted") || strings.Contains(out, "staging again never finished") {
		t.Errorf("status says a staging again was interrupted; Redis lost the campaign's control:\n%s", out)
	}
	if !strings.Contains(out, "Redis lost this campaign's control") {
		t.Errorf("status does not say that Redis lost the campaign's control:\n%s", out)
	}
	sendCmd := regexp.MustCompile(`tidings (send \S+ --env \S+ --resume-existing --exclude-delivered) JOURNAL_DIR`).FindStringSubmatch(out)
	if sendCmd == nil || !strings.Contains(sendCmd[1], " "+file+" ") {
		t.Fatalf("status does not say to stage it again excluding the deliveries:\n%s", out)
	}
	for _, action := range []string{"resume", "cancel"} {
		r := e.run(action, name, "--env", envName, "--reason", "Monday")
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Redis lost this campaign's control") {
			t.Errorf("%s does not refuse saying that Redis lost the campaign's control: %s", action, r)
		}
	}
	sent := srv.Count()
	e.mustRun(append(strings.Fields(sendCmd[1]), e.dir+"/state/journal")...)
	st := e.waitState(name, "done", 3*time.Minute, w)
	checkOnce(t, srv, rows, true) // everybody exactly once
	t.Logf("%d sent before the loss; after recovery %d received; counts %v; status advised:\n%s", sent, srv.Count(), st.Counts, out)
}
