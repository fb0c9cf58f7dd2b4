package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestStatusJSONAndWatchSayRedisHoldsTheCampaign: the held line of
// status CAMPAIGN must reach the views a script or a log reads too:
// status --json (field held: redis, code, reason) of the campaign and of
// the list, and each line of status --watch not to a terminal (held=...).
// Before, neither had it: a job grepping the log saw only state=running.
func TestStatusJSONAndWatchSayRedisHoldsTheCampaign(t *testing.T) {
	t.Parallel()
	c := "held-views"
	r, env := heldEnv(t, c)
	ctx := t.Context()
	eachHold(t, r, func(tc hold) {
		type held struct {
			Campaign string
			Held     *struct{ Redis, Code, Reason string }
		}
		var one held
		var list []held
		for _, v := range []struct {
			args []string
			into any
		}{{[]string{"status", c, "--env", "staging", "--json"}, &one}, {[]string{"status", "--env", "staging", "--json"}, &list}} {
			res := cli(t, env, v.args...)
			if res.code != 0 {
				t.Fatalf("%s\n%s", v.args, res)
			}
			if err := json.Unmarshal([]byte(res.stdout), v.into); err != nil {
				t.Fatalf("%s: %v\n%s", v.args, err, res)
			}
		}
		if len(list) != 1 || list[0].Campaign != c {
			t.Fatalf("status --env staging --json lists %+v, want %s alone", list, c)
		}
		for name, h := range map[string]held{"status CAMPAIGN --json": one, "status --json": list[0]} {
			said := h.Held != nil && h.Held.Redis == r.Addr && h.Held.Code == "NOREPLICAS" && strings.Contains(h.Held.Reason, "min-replicas-to-write")
			if said != tc.held || (h.Held != nil) != tc.held {
				t.Errorf("min-replicas-to-write %s: %s gives held %+v, want it given: %v", tc.minReplicas, name, h.Held, tc.held)
			}
		}
		wctx, stop := context.WithCancel(ctx)
		out := &stopAtLines{lines: 1, stop: stop}
		var stderr syncbuf.Buffer
		code := run(wctx, []string{"status", c, "--env", "staging", "--watch"}, strings.NewReader(""), out, &stderr, func(k string) string { return env[k] }, environOf(env))
		stop()
		line := out.String()
		if code != 0 || !strings.Contains(line, "state=running") {
			t.Fatalf("status --watch to a pipe: exit %d\n%s\n%s", code, line, stderr.String())
		}
		said := strings.Contains(line, ` held="Redis at `+r.Addr+` refuses writes (NOREPLICAS: `)
		if said != tc.held {
			t.Errorf("min-replicas-to-write %s: status --watch to a pipe says the hold: %v, want %v\n%s", tc.minReplicas, said, tc.held, line)
		}
	})
}
