package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestReasonsAndNamesAreRecordedOnOneLine (red team 33d): a reason
// (pause --reason, the console's reason field, an operator's or a
// console user's name) was recorded as given, and status printed it so:
// `pause --reason $'look\x1b[31mRED\nfake: line'` coloured the terminal of
// whoever ran status next, and wrote a line of its own under State: and
// in the audit log that looked like tidings' output (a console operator
// could so write escapes into the on-call's terminal). Every reason and
// actor the store records is now one line: each run of control
// characters (escape, CR, LF, BEL, C1) is one space.
func TestReasonsAndNamesAreRecordedOnOneLine(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	stage(t, st, "c1", stageOpts{n: 3, size: 3})
	const reason = "look\x1b[31mRED\nfake: line\r\x1b]0;title\x07"
	const want = "look [31mRED fake: line ]0;title"
	eve := store.Actor{Who: "eve\n2026-12-06 09:00:00  resume   by bob", Host: "box\x1b[2J", Env: "test"}
	if _, err := st.Pause(ctx, "c1", eve, reason); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	last := s.Audit[len(s.Audit)-1]
	for what, got := range map[string]string{"reason": s.Reason, "by": s.By, "audit reason": last.Reason, "audit who": last.Who, "audit host": last.Host} {
		if strings.ContainsFunc(got, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Errorf("%s recorded as %q: holds a control character", what, got)
		}
	}
	if s.Reason != want || last.Reason != want || last.Who != "eve 2026-12-06 09:00:00  resume   by bob" || last.Host != "box [2J" {
		t.Errorf("recorded reason %q (audit %q), who %q, host %q; want the reason %q, each on one line", s.Reason, last.Reason, last.Who, last.Host, want)
	}
	ctl, err := st.Pause(ctx, "c1", store.Actor{Who: "bob", Env: "test"}, "again")
	if err != nil || ctl == nil {
		t.Fatalf("second pause: %v %v, want the pause in force", ctl, err)
	}
	if a := ctl.Already("pause"); strings.ContainsAny(a, "\x1b\n\r\x07") || !strings.Contains(a, want) {
		t.Errorf("second pause says %q: want the first's reason on one line", a)
	}
	if _, _, err := st.Cancel(ctx, "c1", eve, "done\n\x1b[0m"); err != nil {
		t.Fatal(err)
	}
	if s, err := st.Status(ctx, "c1"); err != nil || s.Audit[len(s.Audit)-1].Reason != "done [0m" {
		t.Errorf("cancel's audit entry: %+v %v, want its reason on one line", s.Audit[len(s.Audit)-1], err)
	}
}
