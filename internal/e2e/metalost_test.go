package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

// TestMetaLostRecovery: Redis loses the meta of a running campaign alone
// (tidings:{c}:meta: an eviction, a DEL) a third of the way through. The
// worker pauses it as state loss, and status says what to run: cancel it,
// then stage it again excluding the journals' deliveries. Running exactly
// the commands status prints ends the campaign with everyone mailed once
// and nobody twice (counted at the SMTP server). Before, the cancel was
// refused ("the campaign is running (staging)"): the advice could not be
// followed.
func TestMetaLostRecovery(t *testing.T) {
	t.Parallel()
	const (
		name = "e2e-metalost"
		n    = 3000
	)
	srv := startSMTPSink(t)
	e := newEnv(t, srv.Port(), 4)
	file, rows := e.sendLossCampaign(name, n)
	w := e.startWorker("worker", 4)
	wait.For(t, 2*time.Minute, "1,000 messages", func() bool { return srv.Count() >= 1000 })
	if err := e.redis.Client().Unlink(context.Background(), "tidings:{"+name+"}:meta").Err(); err != nil {
		t.Fatal(err)
	}
	e.waitState(name, "paused", 2*time.Minute, w)
	out := e.mustRun("status", name, "--env", envName).stdout
	cancelCmd := regexp.MustCompile(`tidings (cancel \S+ --env \S+ --reason) "([^"]*)"`).FindStringSubmatch(out)
	sendCmd := regexp.MustCompile(`tidings (send \S+ --env \S+ --resume-existing --exclude-delivered) JOURNAL_DIR`).FindStringSubmatch(out)
	if cancelCmd == nil || sendCmd == nil || !strings.Contains(sendCmd[1], " "+file+" ") {
		t.Fatalf("status does not say to cancel and stage again excluding the deliveries:\n%s", out)
	}
	journal := e.dir + "/state/journal"
	r := e.mustRun(append(strings.Fields(cancelCmd[1]), cancelCmd[2])...)
	if !strings.Contains(r.stdout, "Redis lost this campaign's meta") {
		t.Errorf("cancel does not say that it could record no recipient (the meta is lost):\n%s", r)
	}
	sent := srv.Count()
	e.mustRun(append(strings.Fields(sendCmd[1]), journal)...)
	st := e.waitState(name, "done", 3*time.Minute, w)
	checkOnce(t, srv, rows, true) // everybody exactly once
	t.Logf("%d sent before the cancel; after recovery %d received; counts %v; status advised:\n%s", sent, srv.Count(), st.Counts, out)
}
