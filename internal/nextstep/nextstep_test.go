package nextstep

import (
	"strings"
	"testing"
)

// TestStagingAdvice: a refusal while a campaign is being staged says, for
// its first staging, to run the same send again as it was (never
// --resume-existing, which is for a campaign that exists) and how to
// cancel with nothing sent; for a re-staging, send --resume-existing.
// Without an environment (a console of a campaign file alone) it names
// no --env, rather than an empty one.
func TestStagingAdvice(t *testing.T) {
	t.Parallel()
	type advice struct {
		name, env string
		first     bool
		want, not []string
	}
	for _, tt := range []advice{
		{"first staging", "production", true, []string{"cannot cancel altea: its first staging has not ended", "run it again as it was: tidings send CAMPAIGN-FILE --env production (with the flags it had)", "pause it (tidings pause altea --env production --reason ...), run the send again (it stages it paused), then cancel it"}, []string{"--resume-existing"}},
		{"re-staging", "production", false, []string{"cannot cancel altea: it is being staged", "run it again: tidings send CAMPAIGN-FILE --env production --resume-existing"}, []string{"first staging"}},
		{"first staging, no environment", "", true, []string{"tidings send CAMPAIGN-FILE (with the flags it had)", "tidings pause altea --reason ..."}, []string{"--env"}},
		{"re-staging, no environment", "", false, []string{"tidings send CAMPAIGN-FILE --resume-existing"}, []string{"--env"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Staging("cancel", "altea", tt.env, tt.first)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("want %q in\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("want no %q in\n%s", n, got)
				}
			}
		})
	}
}
