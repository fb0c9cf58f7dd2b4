package notify_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestDoneWithRecipientsInDoubtSaysWhatToRun: the "done" notification of
// a campaign with recipients in doubt counted them among its figures and
// stopped there, though they are never sent again and someone must ask
// the relay's logs about them: on-call learnt of them only from `tidings
// status`. Both channels (Slack's text, the generic webhook's event text)
// now say how many and the command that lists them, in the words status
// and the console use (nextstep.InDoubt). A done campaign without any
// says nothing of doubt; the command named lists the one in doubt. The campaign is staged in a real redis-server and
// finished through the ledger, as a worker finishes it.
func TestDoneWithRecipientsInDoubtSaysWhatToRun(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	h := newHook(t)
	n := notifier(t, w, h, "a", time.Now)
	finish := func(c string, second store.Kind) {
		t.Helper()
		w.Stage(t, consoletest.Spec{Name: c, N: 2, Locales: []string{"en"}})
		ctx := t.Context()
		ctl, err := w.Store.Control(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := w.Store.Tick(ctx, c, store.TickParams{Stage: ctl.Stage}, time.Now()); err != nil || res.Code != store.TickReleased {
			t.Fatalf("tick %s: %+v %v", c, res, err)
		}
		l, p := w.Store.Ledger(c, ctl.Stage), store.Policy{MaxAttempts: 3}
		recs := []store.Record{{ID: consoletest.Email(0, "en"), Lang: "en", Kind: store.KindSent},
			{ID: consoletest.Email(1, "en"), Lang: "en", Kind: second, Response: "connection lost after DATA"}}
		claims := make([]store.Claim, len(recs))
		for i, r := range recs {
			claims[i] = store.Claim{ID: r.ID, Lang: r.Lang, Token: fmt.Sprintf("t%d", i+1)}
		}
		if _, err := l.Step(ctx, nil, claims, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(ctx, recs, nil, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Store.Tick(ctx, c, store.TickParams{Stage: ctl.Stage}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if st, err := w.Store.Status(ctx, c); err != nil || st.State != store.StateDone {
			t.Fatalf("%s after its last record: %+v, %v; want it done", c, st, err)
		}
	}
	finish("doubtful", store.KindInDoubt)
	finish("clean", store.KindSent)
	if err := n.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	slack, _ := h.kinds()
	texts := map[string][]string{}
	for _, s := range slack {
		texts[campaignOf(s)] = append(texts[campaignOf(s)], "slack: "+s)
	}
	for _, ev := range h.events {
		if ev.Kind != "done" {
			t.Errorf("event %q of %s, want done only", ev.Kind, ev.Campaign)
		}
		texts[ev.Campaign] = append(texts[ev.Campaign], "webhook: "+ev.Text)
	}
	advice := nextstep.InDoubt(1, "doubtful", consoletest.EnvName)
	if len(texts["doubtful"]) != 2 || len(texts["clean"]) != 2 {
		t.Fatalf("notifications %v, want one per channel of each campaign", texts)
	}
	for _, s := range texts["doubtful"] {
		if !strings.Contains(s, advice) || !strings.Contains(s, "tidings report doubtful --env "+consoletest.EnvName+" --outcome in-doubt") {
			t.Errorf("%s\nwant it to say %q", s, advice)
		}
	}
	// The command it names lists the recipient in doubt, and only them.
	out, code := w.CLI(t, "report", "doubtful", "--env", consoletest.EnvName, "--outcome", "in-doubt")
	if code != 0 || !strings.Contains(out, consoletest.Email(1, "en")+",") || strings.Contains(out, consoletest.Email(0, "en")+",") {
		t.Errorf("tidings report doubtful --outcome in-doubt: exit %d\n%s\nwant exit 0 and %s (in doubt) listed, not %s (sent)", code, out, consoletest.Email(1, "en"), consoletest.Email(0, "en"))
	}
	for _, s := range texts["clean"] {
		if strings.Contains(s, "doubt") {
			t.Errorf("%s\nsays doubt of a campaign with none in doubt", s)
		}
	}
}

// campaignOf is the campaign a one-line summary names ("[env] c: ...").
func campaignOf(text string) string {
	_, rest, _ := strings.Cut(text, "] ")
	c, _, _ := strings.Cut(rest, ":")
	return c
}
