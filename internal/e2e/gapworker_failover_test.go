package e2e

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWorkerStartedInAPlannedSentinelFailoverGap is a worker that starts
// (or restarts) in the gap of a planned Sentinel failover (two replicas,
// min_replica_acks auto; see TestPauseInAPlannedSentinelFailover): B is
// promoted, the old master still takes writes with C alone attached, and
// Sentinel still names it, so the worker reaches it. Judged from the old
// master's INFO alone, auto would wait for 1 acknowledgement (C's): the
// claims C acknowledges vanish when C resynchronises from B, and the
// chunks run again on B, mailing their recipients twice. The worker must
// wait for every replica Sentinel lists too (2): it logs replica_acks=2,
// sends nothing the failover can lose, and once Sentinel finishes, the
// campaign is done with nobody mailed twice and every recipient sent or in
// doubt.
func TestWorkerStartedInAPlannedSentinelFailoverGap(t *testing.T) {
	t.Parallel()
	const name, n = "e2e-gap-worker", 400
	rows := simpleRows(n, acceptedLocales)
	var srv *smtpSink
	g := openFailoverGap(t, func(sen *redistest.Sentinel) *env {
		var e *env
		e, srv = stageOnSentinel(t, sen, campaignSpec{name: name, size: 100, rate: "100/s"}, rows)
		return e
	})
	e := g.e
	if err := g.inWindow(); err != nil {
		t.Fatalf("before the worker starts, not in the window this test is about: %v", err)
	}
	w := e.startWorker("worker-1", 4)
	judged := regexp.MustCompile(` replica_acks=(\d+) required=`)
	var acks string
	wait.For(t, 30*time.Second, "the worker to judge its replica acknowledgements", func() bool {
		b, _ := os.ReadFile(w.log)
		if m := judged.FindSubmatch(b); m != nil {
			acks = string(m[1])
		}
		return acks != ""
	}, func() string { return tail(w.log, 4000) })
	if err := g.inWindow(); err != nil {
		t.Fatalf("the worker judged, but not in the window this test is about: %v", err)
	}
	if acks != "2" {
		t.Errorf("a worker started in the failover's gap waits for %s replica acknowledgement(s), want 2 (every replica Sentinel lists): C's alone are lost when it resynchronises from B\n%s", acks, tail(w.log, 4000))
		// Let it send on the old master, to show what that costs.
		wait.For(t, 30*time.Second, "messages sent on the old master", func() bool { return srv.Count() >= 50 })
	}
	inGap := srv.Count()
	g.restore()
	if err := g.sen.WaitSettled(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := e.waitState(name, "done", 3*time.Minute, w)
	per := checkOnce(t, srv, rows, false)
	checkOutcomes(t, e.report(name), per, false)
	if got := st.Counts["sent"] + st.Counts["in-doubt"]; got != n {
		t.Errorf("sent %d + in doubt %d = %d, want %d; counts %v", st.Counts["sent"], st.Counts["in-doubt"], got, n, st.Counts)
	}
	t.Logf("%d messages received in the gap, %d in all", inGap, srv.Count())
}
