package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
)

// TestCheckWording: every check of the bench, passed and failed, as the
// report prints it (testdata/checks.golden): a passed check says what
// held; a failed one says what went wrong, with its figures, and what to
// do, never the sentence that would mean it held ("WARNING: the machine
// was steady" for a machine that was not).
func TestCheckWording(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		ok, fail []check
	}{
		{"wire", []check{wireCheck(1234, 1234)}, []check{wireCheck(1300, 1234), wireCheck(1300, 0)}},
		{"steady", []check{steadyCheck(summarize(ceilingRun{MsgPerS: 1000}, ceilingRun{MsgPerS: 950}))},
			[]check{steadyCheck(summarize(ceilingRun{MsgPerS: 1000}, ceilingRun{MsgPerS: 860}))}},
		{"delivery", deliveryChecks(1000, 1000, "map[sent:1000]", 1000, 8, 8),
			deliveryChecks(990, 1000, "map[failed:10 sent:990]", 989, 9, 8)},
		{"more", nil, deliveryChecks(1000, 1000, "map[sent:1000]", 1002, 0, 8)[1:]},
		{"cpu", []check{redisCPUCheck(2.01, 2.0)}, []check{redisCPUCheck(2.5, 2.0), redisCPUCheck(1.5, 2.0)}},
		{"acks", []check{ackCheck(round{Acks: 1}, 1), ackCheck(round{}, 0)},
			[]check{ackCheck(round{Acks: 1}, 0), ackCheck(round{}, 0.5)}},
		{"lifetime", []check{lifetimeCheck(1, 1.2, 2)}, []check{lifetimeCheck(1.5, 1.2, 2)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			for _, ch := range tt.ok {
				if !ch.OK {
					t.Errorf("%+v failed; want it to pass", ch)
				}
				out.WriteString(ch.line() + "\n")
			}
			for _, ch := range tt.fail {
				if ch.OK {
					t.Errorf("%+v passed; want it to fail", ch)
				}
				line := ch.line()
				if strings.Contains(line, ch.Name) {
					t.Errorf("failed check %q prints what would mean it held: %s", ch.Name, line)
				}
				out.WriteString(line + "\n")
			}
			golden.Check(t, filepath.Join("testdata", "checks-"+tt.name+".golden"), out.String())
		})
	}
}
