package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestErrorsNameNoAddress: relays name the recipient in their replies;
// the errors list (status's errors by reply, the console, notifications'
// top error, the batch gate's last error) and the auto-pause reason have
// every address masked, and so group the same reply for different
// recipients, while each recipient's ledger entry (the report) keeps its
// reply whole.
func TestErrorsNameNoAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ reply, masked string }{
		{"<r@example.org>: Recipient address rejected: User unknown in local recipient table", "<address>: Recipient address rejected: User unknown in local recipient table"},
		{"Recipient jane.doe+tag@mail.example.org not found by SMTP address lookup", "Recipient <address> not found by SMTP address lookup"},
		{`mailbox "jane@example.org" unknown; see jane@example.org.`, `mailbox "<address>" unknown; see <address>.`},
		{`<"jane doe"@example.org>... User unknown`, "<address>... User unknown"},
		{"jane@[192.0.2.1]: relaying denied", "<address>: relaying denied"},
		{"<jöran@exämple.org> rejected (jöran@exämple.org)", "<address> rejected (<address>)"},
		{"Relay access denied", "Relay access denied"},
		{"over quota @ 100%", "over quota @ 100%"},
	} {
		t.Run(tc.masked, func(t *testing.T) {
			t.Parallel()
			const n = 4
			c := fmt.Sprintf("c-mask-%x", tc.reply)[:40]
			// One more recipient, left pending: the auto-pause pauses a
			// campaign that has something left to send.
			st, _, l := released(t, c, n+1, n+1)
			ctx := context.Background()
			pol := store.Policy{MaxAttempts: 1, Window: 10, ErrorRate: 0.5, MinAttempts: n}
			var cls []store.Claim
			var recs []store.Record
			replies := map[string]string{}
			for i := range n {
				id := fmt.Sprint("r", i)
				cls = append(cls, store.Claim{ID: id, Lang: "de", Token: id})
				// The same reply about another recipient.
				replies[id] = strings.NewReplacer("jane", "jane"+id, "<r@", "<"+id+"@").Replace(tc.reply)
				recs = append(recs, store.Record{ID: id, Lang: "de", Kind: store.KindFailed, Code: "550 5.1.1", Response: replies[id], Token: id})
			}
			if _, err := l.Step(ctx, nil, cls, pol, time.Now()); err != nil {
				t.Fatal(err)
			}
			res, err := l.Step(ctx, recs, nil, pol, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if want := "(last error: 550 5.1.1 " + tc.masked + ")"; !strings.HasSuffix(res.AutoPaused, want) {
				t.Errorf("auto-pause reason %q, want it to end %q", res.AutoPaused, want)
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Errors) != 1 || s.Errors[0].Response != tc.masked || s.Errors[0].Count != n {
				t.Errorf("errors %+v, want one group of %d: %q", s.Errors, n, tc.masked)
			}
			if a := s.Audit[len(s.Audit)-1]; a.Reason != res.AutoPaused || s.Reason != res.AutoPaused {
				t.Errorf("audit %q, control %q: want the masked reason %q", a.Reason, s.Reason, res.AutoPaused)
			}
			ids := []string{"r0", "r1", "r2", "r3"}
			es, err := st.Entries(ctx, c, ids)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range es {
				if e.Response != replies[ids[i]] {
					t.Errorf("%s's ledger reply %q, want it whole: %q", ids[i], e.Response, replies[ids[i]])
				}
			}
		})
	}
}
