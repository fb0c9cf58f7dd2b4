package worker_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// On-call's night: several campaigns of one environment at once, on the
// same workers and Redis, sharing their recipients (recipient i of each
// test campaign has the same address).

// campaignOf is another campaign of e's environment (its Redis, store and
// SMTP server), not staged yet.
func (e *env) campaignOf() *env {
	c := *e
	c.byLang = map[string]int{}
	return &c
}

// waitQuiet waits until c is in state want and holds no claim: what it
// sent is all at the SMTP server.
func (e *env) waitQuiet(t *testing.T, want store.State) {
	t.Helper()
	wait.For(t, time.Minute, e.name+" "+string(want)+" with no claim held", func() bool {
		return e.state(t) == want && e.claimed(t) == 0
	})
}

// messagesOf is the messages of campaign c at e's SMTP server
// (X-Tidings-Campaign).
func (e *env) messagesOf(c string) []smtpcapture.Message {
	var out []smtpcapture.Message
	hdr := []byte("X-Tidings-Campaign: " + c + "\r\n")
	for _, m := range e.smtp.Messages() {
		if bytes.Contains(m.Data, hdr) {
			out = append(out, m)
		}
	}
	return out
}

// subjectOf is the Subject header of each message of campaign c at e's
// SMTP server, by recipient address.
func (e *env) subjectOf(c string) map[string]string {
	out := map[string]string{}
	for _, m := range e.messagesOf(c) {
		_, rest, _ := bytes.Cut(m.Data, []byte("\r\nSubject: "))
		subject, _, _ := bytes.Cut(rest, []byte("\r\n"))
		for _, to := range m.To {
			out[to] = string(subject)
		}
	}
	return out
}

// checkOwn checks campaign c's own accounting: each address received at
// most one message of c, status's counts sum to its total, its report has
// its own staged rows only and says sent exactly those who received c's
// message, and the workers' tidings_messages_total of c equal its ledger's
// counts.
func (e *env) checkOwn(t *testing.T, regs ...*prometheus.Registry) *store.Status {
	t.Helper()
	ctx := context.Background()
	got := e.receivedOf(e.name)
	for addr, n := range got {
		if n > 1 {
			t.Errorf("%s received %d messages of %s", addr, n, e.name)
		}
	}
	st, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != int64(e.staged) {
		t.Errorf("%s: status total %d, staged %d", e.name, st.Total, e.staged)
	}
	rows := 0
	err = e.st.Report(ctx, e.name, func(r store.Row) error {
		rows++
		if sent := r.Outcome == store.OutcomeSent; sent != (got[r.Email] == 1) {
			t.Errorf("%s: %s is %s in its report, received %d of its messages", e.name, r.Email, r.Outcome, got[r.Email])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != e.staged {
		t.Errorf("%s: report has %d rows, %d staged", e.name, rows, e.staged)
	}
	if st.Counts[store.OutcomeSent] != int64(len(got)) {
		t.Errorf("%s: status counts %d sent, the SMTP server received %d of its messages", e.name, st.Counts[store.OutcomeSent], len(got))
	}
	counted := messagesBy(t, func(l map[string]string) string {
		if l["campaign"] != e.name {
			return ""
		}
		return l["outcome"]
	}, regs...)
	for _, o := range []string{store.OutcomeSent, store.OutcomeFailed, store.OutcomeInDoubt} {
		if int64(counted[o]) != st.Counts[o] {
			t.Errorf("%s: the workers' tidings_messages_total counts %v %s, its ledger %d", e.name, counted[o], o, st.Counts[o])
		}
	}
	return st
}

// servusLocales is the bundled catalogs with another German subject.
func servusLocales(t *testing.T) fs.FS {
	t.Helper()
	return editedLocales(t, "de.toml", func(b []byte) []byte {
		return bytes.Replace(b, []byte(`other = "Bitte registrieren Sie sich neu: die Altea-Community ist umgezogen"`), []byte(`other = "Servus, bitte neu registrieren"`), 1)
	})
}

// TestCampaignsAtOnceStayApart: three campaigns of the same recipients on
// the same two workers and Redis: "big" (1,200 at 40/s), "gated" (120,
// awaiting approval after its canary, its own German catalog) and "small"
// (600 at 20/s). While gated awaits approval the others send; pausing big
// leaves small sending and gated waiting, and big's count flat; approving
// gated sends gated alone to done (big stays paused and flat); a worker
// restart mid-way loses none of them; cancelling small leaves big to
// resume and finish, small's count flat. Each campaign mailed each
// recipient once, in its own catalog's words; its status, report and the
// workers' metrics count its own rows only; the environment's list holds
// the three, each in its state.
func TestCampaignsAtOnceStayApart(t *testing.T) {
	t.Parallel()
	scenario(t)
	e := newEnv(t, nil)
	campaignsAtOnce(t, e, e.rdb, [3]string{"big", "gated", "small"})
}

// TestCampaignsAtOnceStayApartOnCluster: TestCampaignsAtOnceStayApart on a
// Redis Cluster of 3 masters (and a replica each), each campaign in a
// slot of another master.
func TestCampaignsAtOnceStayApartOnCluster(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := t.Context()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	var names [3]string
	taken := map[string]bool{}
	for i, base := range []string{"big", "gated", "small"} {
		for n := 0; names[i] == ""; n++ {
			c := fmt.Sprintf("%s-%d", base, n)
			m, err := cl.MasterForSlotOf(ctx, "{"+c+"}")
			if err != nil {
				t.Fatal(err)
			}
			if !taken[m.Addr()] {
				taken[m.Addr()], names[i] = true, c
			}
		}
	}
	srv, err := smtpcapture.Start(context.WithoutCancel(ctx), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cc := cl.ClusterClient()
	campaignsAtOnce(t, &env{st: store.New(cc), smtp: srv, byLang: map[string]int{}}, cc, names)
}

// campaignsAtOnce is TestCampaignsAtOnceStayApart on e's Redis (rdb, the
// workers' client), the campaigns named big, gated and small by names.
func campaignsAtOnce(t *testing.T, e *env, rdb redis.UniversalClient, names [3]string) {
	ctx := context.Background()
	big, gated, small := e.campaignOf(), e.campaignOf(), e.campaignOf()
	big.stage(t, opts{name: names[0], n: 1200, size: 300, rate: "40/s"})
	gated.stage(t, opts{name: names[1], n: 120, canary: 1, approve: true, size: 120, locales: servusLocales(t)})
	small.stage(t, opts{name: names[2], n: 600, size: 300, rate: "20/s"})
	regA, regB, regC := prometheus.NewRegistry(), prometheus.NewRegistry(), prometheus.NewRegistry()
	stopA := e.startWorker(t, wopts{id: "A", metrics: regA, rdb: rdb})
	e.startWorker(t, wopts{id: "B", metrics: regB, rdb: rdb})

	// gated's gate does not hold the others.
	gated.waitState(t, time.Minute, store.StateAwaitingApproval)
	canary := len(e.receivedOf(gated.name))
	wait.For(t, time.Minute, "big and small to send while gated awaits approval", func() bool {
		return len(e.receivedOf(big.name)) >= 100 && len(e.receivedOf(small.name)) >= 50
	})

	// Pausing big stops big alone.
	if _, err := e.st.Pause(ctx, big.name, tester, "the migration mail waits"); err != nil {
		t.Fatal(err)
	}
	big.waitQuiet(t, store.StatePaused)
	bigAtPause, smallAtPause := len(e.receivedOf(big.name)), len(e.receivedOf(small.name))
	wait.For(t, time.Minute, "small to send 60 more while big is paused", func() bool {
		return len(e.receivedOf(small.name)) >= smallAtPause+60
	})
	if n := len(e.receivedOf(big.name)); n != bigAtPause {
		t.Errorf("big received %d messages while paused (%d at the pause)", n-bigAtPause, bigAtPause)
	}
	if s, n := gated.state(t), len(e.receivedOf(gated.name)); s != store.StateAwaitingApproval || n != canary {
		t.Errorf("pausing big left gated %s with %d messages; want %s with its canary's %d", s, n, store.StateAwaitingApproval, canary)
	}

	// Approving gated sends gated alone.
	if _, err := e.st.Approve(ctx, gated.name, "", false, tester, "canary checked"); err != nil {
		t.Fatal(err)
	}
	gated.waitState(t, time.Minute, store.StateDone)
	if s, n := big.state(t), len(e.receivedOf(big.name)); s != store.StatePaused || n != bigAtPause {
		t.Errorf("approving gated left big %s with %d messages; want %s with %d", s, n, store.StatePaused, bigAtPause)
	}

	// A worker restart mid-way: A stops, C takes its place.
	if s := small.state(t); s != store.StateRunning {
		t.Fatalf("small is %s before the restart; want it running (it sends 20/s)", s)
	}
	stopA()
	e.startWorker(t, wopts{id: "C", metrics: regC, rdb: rdb})
	smallAtRestart := len(e.receivedOf(small.name))
	wait.For(t, time.Minute, "small to send on after the restart", func() bool {
		return len(e.receivedOf(small.name)) >= smallAtRestart+40
	})

	// Cancelling small stops small alone; big resumes to done.
	if _, _, err := e.st.Cancel(ctx, small.name, tester, "superseded"); err != nil {
		t.Fatal(err)
	}
	small.waitQuiet(t, store.StateCancelled)
	smallAtCancel := len(e.receivedOf(small.name))
	if smallAtCancel >= small.staged {
		t.Fatalf("small sent all %d before its cancel: the test proves nothing", smallAtCancel)
	}
	if s := big.state(t); s != store.StatePaused {
		t.Errorf("cancelling small left big %s; want %s", s, store.StatePaused)
	}
	if _, err := e.st.Resume(ctx, big.name, tester, ""); err != nil {
		t.Fatal(err)
	}
	big.waitState(t, 2*time.Minute, store.StateDone)
	if n := len(e.receivedOf(small.name)); n != smallAtCancel {
		t.Errorf("small received %d messages after its cancel", n-smallAtCancel)
	}

	// Accounting, each campaign its own.
	for _, c := range []*env{big, gated, small} {
		c.checkOwn(t, regA, regB, regC)
	}
	if n := len(e.receivedOf(big.name)); n != big.staged {
		t.Errorf("big: %d recipients received its message, %d staged", n, big.staged)
	}
	if n := len(e.receivedOf(gated.name)); n != gated.staged {
		t.Errorf("gated: %d recipients received its message, %d staged", n, gated.staged)
	}
	listed, err := e.st.List(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[string]store.State{big.name: store.StateDone, gated.name: store.StateDone, small.name: store.StateCancelled} {
		if !slices.Contains(listed, c) {
			t.Errorf("the environment's list %v lacks %s", listed, c)
		}
		if st, err := e.st.Status(ctx, c); err != nil || st.State != want {
			t.Errorf("status of %s: %v, %v; want %s", c, st, err, want)
		}
	}

	// The same recipient in each campaign: in each, in its own words.
	bigSubjects, gatedSubjects := e.subjectOf(big.name), e.subjectOf(gated.name)
	de := 0
	for addr, s := range gatedSubjects {
		if langOf(addr) != "de" {
			continue
		}
		de++
		if s != "Servus, bitte neu registrieren" {
			t.Errorf("%s: gated's subject %q, want its own catalog's", addr, s)
		}
		if b := bigSubjects[addr]; !strings.HasPrefix(b, "Bitte registrieren Sie sich neu") {
			t.Errorf("%s: big's subject %q, want the bundled catalog's", addr, b)
		}
	}
	if de == 0 {
		t.Error("no German recipient of gated received its message")
	}
}

// TestOneCampaignsTroubleStopsItAlone: three campaigns at once on the same
// two workers and Redis: "storm", whose recipients' domain refuses every
// message (550), "lost", whose Redis loses one of its chunks mid-way, and
// "calm" (600 at 20/s). Storm's error window pauses storm, the lost chunk
// pauses lost for state loss; calm, running all the while, is paused by
// neither, fails nobody and sends everyone once; the workers count an
// automatic pause of storm and of lost, none of calm.
func TestOneCampaignsTroubleStopsItAlone(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := context.Background()
	e := newEnv(t, func(rcpt string) error {
		if strings.HasSuffix(rcpt, "@bad.example") {
			return smtpReject(550, "5.1.1 no such domain here")
		}
		return nil
	})
	storm, lost, calm := e.campaignOf(), e.campaignOf(), e.campaignOf()
	calm.stage(t, opts{name: "calm", n: 600, size: 300, rate: "20/s"})
	storm.stage(t, opts{name: "storm", n: 300, size: 300, rate: "50/s", domain: func(int) string { return "bad.example" }})
	lost.stage(t, opts{name: "lost", n: 300, size: 100, rate: "20/s"})
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	e.startWorker(t, wopts{id: "A", metrics: regA})
	e.startWorker(t, wopts{id: "B", metrics: regB})

	wait.For(t, time.Minute, "lost to send 20", func() bool { return len(e.receivedOf("lost")) >= 20 })
	meta, err := e.st.Meta(ctx, "lost", false)
	if err != nil {
		t.Fatal(err)
	}
	last := meta.Batches[len(meta.Batches)-1].Last
	if n, err := e.rdb.Del(ctx, fmt.Sprintf("tidings:{lost}:chunk:%d", last)).Result(); err != nil || n != 1 {
		t.Fatalf("delete lost's chunk %d: %d, %v", last, n, err)
	}
	storm.waitQuiet(t, store.StatePaused)
	lost.waitQuiet(t, store.StatePaused)
	switch st := calm.status(t); st.State {
	case store.StateRunning:
	case store.StateDone:
		t.Fatal("calm was done before storm and lost paused: the test proves nothing")
	default:
		t.Fatalf("calm is %s (%s %q) once storm and lost paused; want it running on", st.State, st.Action, st.Reason)
	}
	for c, action := range map[*env]string{storm: "auto-pause", lost: "state-loss"} {
		if st := c.status(t); st.Action != action {
			t.Errorf("%s paused as %q (%s); want %s", c.name, st.Action, st.Reason, action)
		}
	}
	calm.waitState(t, 2*time.Minute, store.StateDone)
	st := calm.checkOwn(t, regA, regB)
	if st.Counts[store.OutcomeSent] != int64(calm.staged) {
		t.Errorf("calm: %v; want all %d sent", st.Counts, calm.staged)
	}
	if n := len(e.receivedOf("storm")); n != 0 {
		t.Errorf("storm's refused domain received %d messages", n)
	}
	storm.checkOwn(t, regA, regB) // lost's report refuses: it names the chunk Redis lost
	for addr, n := range e.receivedOf("lost") {
		if n > 1 {
			t.Errorf("%s received %d messages of lost", addr, n)
		}
	}
	pauses := countersBy(t, "tidings_auto_pauses_total", func(l map[string]string) string { return l["campaign"] }, regA, regB)
	if pauses["storm"] != 1 || pauses["lost"] != 1 || pauses["calm"] != 0 {
		t.Errorf("tidings_auto_pauses_total by campaign: %v; want storm 1, lost 1, calm 0", pauses)
	}
}

// TestUrgentCampaignWaitsBehindOneBatchAtMost: README (Several campaigns
// at once): the chunks of an environment's campaigns are taken in the
// order they were released, and a campaign's batches are released one at
// a time, so a campaign started while another runs waits behind that
// one's released batch at most. "big" (6,000 in batches of 500 at 200/s)
// runs; "urgent" (200) is started: its first message goes out before any
// of big's batches released after it (after the one big had released when
// urgent's staging ended, and the one after, which may come in the tick
// that releases urgent's);
// urgent reaches done while big still runs. It logs how long urgent took
// and how many big sent meanwhile.
func TestUrgentCampaignWaitsBehindOneBatchAtMost(t *testing.T) {
	t.Parallel()
	scenario(t)
	ctx := context.Background()
	e := newEnv(t, nil)
	big, urgent := e.campaignOf(), e.campaignOf()
	const size = 500
	big.stage(t, opts{name: "big", n: 6000, size: size, rate: "200/s"})
	e.startWorker(t, wopts{id: "A"})
	e.startWorker(t, wopts{id: "B"})
	wait.For(t, time.Minute, "big to send 300", func() bool { return len(e.receivedOf("big")) >= 300 })
	start, bigAt := time.Now(), len(e.receivedOf("big"))
	urgent.stage(t, opts{name: "urgent", n: 200, size: 200})
	// big's batch once urgent is staged (read before the staging, a slow
	// staging under load could see two of big's batches released in it).
	ctl, err := e.st.Control(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	urgent.waitState(t, time.Minute, store.StateDone)
	t.Logf("urgent (200) done %.1f s after its staging began; big (batches of %d at 200/s) sent %d meanwhile, its batch %d released once urgent was staged",
		time.Since(start).Seconds(), size, len(e.receivedOf("big"))-bigAt, ctl.CurBatch)
	if s := big.state(t); s != store.StateRunning {
		t.Fatalf("big is %s once urgent is done; want it running (6,000 at 200/s, urgent's 200 unlimited): urgent waited behind big's later batches", s)
	}
	first := int64(-1)
	for _, m := range e.messagesOf("urgent") {
		if first < 0 || m.Seq < first {
			first = m.Seq
		}
	}
	later := ctl.CurBatch + 2 // the first batch of big surely released after urgent's (+1 may come in the tick that releases urgent's)
	for _, m := range e.messagesOf("big") {
		var i int
		if _, err := fmtSscanf(m.To[0], &i); err != nil {
			t.Fatal(err)
		}
		if b := i / size; b >= later && m.Seq < first {
			t.Errorf("big's %s (batch %d, released after urgent's staging began) went out before urgent's first message (seq %d < %d)", m.To[0], b, m.Seq, first)
		}
	}
}
