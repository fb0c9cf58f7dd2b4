package statusview_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusWritesNoControlCharacter (red team 33d): status printed a
// campaign's reason, who set it, the audit log's entries and the SMTP
// responses as Redis held them. A reason recorded by an older tidings (or
// by anything that writes Redis) with a terminal escape or a line break
// coloured the on-call's terminal and wrote a line that looked like
// status's own. Every such value is now written on one line: each run of
// control characters is one space.
func TestStatusWritesNoControlCharacter(t *testing.T) {
	t.Parallel()
	const evil = "look\x1b[31mRED\nAudit log:\r\x1b]0;title\x07\u0085x"
	st := &store.Status{Campaign: "c1", Env: "staging", Control: store.Control{State: store.StatePaused, Reason: evil, By: "eve\n@box", At: at, CurBatch: -1},
		Counts: counts(), Total: 1,
		Audit:  []store.AuditEntry{{At: at, Who: "eve\x1b[2J", Host: "box\n", Env: "staging", Action: "pause", Reason: evil}},
		Errors: []store.ErrorGroup{{Code: "451", Response: "4.3.0 try\x1b[31m later\nfake", Count: 1, Last: at}}}
	var b bytes.Buffer
	statusview.WriteAt(&b, st, at, "")
	out := b.String()
	if strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && (r < ' ' || r == 0x7f || r >= 0x80 && r <= 0x9f) }) {
		t.Errorf("status wrote a control character:\n%q", out)
	}
	for _, want := range []string{
		"State:    PAUSED by eve @box at 2026-03-01 09:30:00 UTC: look [31mRED Audit log: ]0;title x\n",
		"  2026-03-01 09:30:00 UTC  pause    by eve [2J@box (staging): look [31mRED Audit log: ]0;title x\n",
		"451 4.3.0 try [31m later fake (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
