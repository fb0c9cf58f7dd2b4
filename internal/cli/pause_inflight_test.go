package cli

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

// TestPauseSaysHowManyMessagesMayStillGoOut: on-call pauses a campaign
// while a worker's messages are in the hands of a slow SMTP server (it
// holds every RCPT). The claims held then finish: pause must say how many
// ("N messages were in flight and may still be delivered"), and that
// nothing more will be claimed, not only that in-flight messages finish.
// The number is checked against the run: once the server answers, the
// worker delivers the one held and gives back the claims of its window it
// had not begun to send (12 claimed at once here, 1 delivered: so the
// words say a claim not begun is given back); what is delivered is never
// more than N, and every recipient not delivered is pending again.
func TestPauseSaysHowManyMessagesMayStillGoOut(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	smtp, held, release := holdingSMTP(t)
	env := merge(renv, smtpEnv(smtp))
	const n = 12
	var rows []string
	for i := range n {
		rows = append(rows, fmt.Sprintf("r%d@example.org,R%d,en,%d", i, i, i))
	}
	file := writeCampaign(t, campaignFile{name: "slowrelay", rows: rows})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env, "--concurrency", "2", "--log-level", "warn")
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatalf("no message reached the SMTP server\n%s", log)
	}
	r := cli(t, env, "pause", "slowrelay", "--env", "staging", "--reason", "relay slow")
	m := regexp.MustCompile(`^Paused slowrelay\. (\d+) messages? (?:were|was) in flight and may still be delivered[^\n]*; nothing more will be claimed\.`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("pause while messages are in the SMTP server's hands: want exit 0 saying how many may still be delivered\n%s", r)
	}
	said, _ := strconv.Atoi(m[1])
	if said < 1 || said > n {
		t.Fatalf("pause says %d in flight, want between 1 (one is held at the server) and %d\n%s", said, n, r)
	}
	release()
	// The worker records what it held: once the ledger holds nobody
	// claimed (read here, not through the store), what went out is what
	// the pause said might.
	ledger := rd.Client()
	wait.For(t, time.Minute, "the messages in flight to be recorded", func() bool {
		entries, err := ledger.HVals(context.Background(), "tidings:{slowrelay}:ledger").Result()
		if err != nil {
			return false
		}
		for _, e := range entries {
			if strings.HasPrefix(e, "sending|") {
				return false
			}
		}
		return true
	}, func() string { return log.String() })
	st := status(t, env, "slowrelay")
	if sent := int(st.Counts["sent"]); sent < 1 || sent > said || smtp.Count() != sent {
		t.Errorf("after the pause, %d recorded sent and %d received by the server; want the one held, and at most the %d the pause said may still be delivered\n%s", sent, smtp.Count(), said, r)
	}
	if st.Counts["pending"] != n-st.Counts["sent"] {
		t.Errorf("%d pending and %d sent after the pause, want the other %d pending: nothing more claimed, nobody in doubt", st.Counts["pending"], st.Counts["sent"], n)
	}
}
