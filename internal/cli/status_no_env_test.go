package cli

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusOfACampaignWithoutItsEnvironment: a campaign whose record
// lacks its environment (staged by an older version) is shown in the
// environment status was asked for, and what status says to run names
// that environment: never an empty --env (before: "tidings resume c
// --env  (or cancel: ...", "(environment )", and "env": "" in JSON);
// the list of the environment's campaigns has it (before, it left it
// out, though status of it showed it).
func TestStatusOfACampaignWithoutItsEnvironment(t *testing.T) {
	t.Parallel()
	env, r := redisEnv(t)
	c, ctx := stageCampaign(t, env, "old"), context.Background()
	if err := r.Client().HDel(ctx, "tidings:{old}:meta", "env").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(r.Client()).Pause(ctx, c, store.Actor{Who: "alice", Env: "staging"}, "check the list"); err != nil {
		t.Fatal(err)
	}
	bogus := regexp.MustCompile(`--env ( |\(|-|$)|environment (\)|$)`)
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"one", []string{"status", c, "--env", "staging"}, []string{"Campaign old (environment staging)", "tidings resume old --env staging"}},
		{"list", []string{"status", "--env", "staging"}, []string{"\nold "}},
	} {
		res := cli(t, env, tt.args...)
		for _, want := range tt.want {
			if res.code != 0 || !strings.Contains(res.stdout, want) {
				t.Errorf("%s: want exit 0 and %q\n%s", tt.name, want, res)
			}
		}
		if m := bogus.FindString(res.stdout); m != "" {
			t.Errorf("%s: names no environment (%q)\n%s", tt.name, m, res)
		}
	}
	var doc struct {
		Env string `json:"env"`
	}
	if res := cli(t, env, "status", c, "--env", "staging", "--json"); json.Unmarshal([]byte(res.stdout), &doc) != nil || doc.Env != "staging" {
		t.Errorf("status --json: env %q, want staging\n%s", doc.Env, res)
	}
}
