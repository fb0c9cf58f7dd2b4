package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// noRecipientURL is an https list_unsubscribe that names no recipient:
// one-click (RFC 8058) to it unsubscribes nobody.
const noRecipientURL = "https://altea.example/unsubscribe"

// TestListUnsubscribeNamingNobodyRefusedAtPlan: plan, send and rehearse
// refuse an https list_unsubscribe without {id} or {email} (exit 2,
// nothing staged), naming where it came from (the campaign file's line, the config file's
// line, or TIDINGS_LIST_UNSUBSCRIBE) and what to write; a URL that names
// the recipient, an http one (no one-click) and a mailto pass.
func TestListUnsubscribeNamingNobodyRefusedAtPlan(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	cfg := filepath.Join(t.TempDir(), "tidings.yaml")
	fixture.Write(t, cfg, "environments:\n  staging:\n    allow: [example.org]\n    list_unsubscribe: "+noRecipientURL+"?list=news\n")
	tests := []struct {
		name     string
		campaign string            // the campaign file's list_unsubscribe line ("": none)
		vars     map[string]string // more variables
		config   bool              // --config cfg (its list_unsubscribe names nobody)
		want     string            // in the error; "" when plan and send pass
	}{
		{name: "campaign", campaign: "list_unsubscribe: " + noRecipientURL + "\n",
			want: `campaign.yaml:13: list_unsubscribe: "` + noRecipientURL + `" names no recipient: ` /* line 13: after data */},
		{name: "variable", vars: map[string]string{"TIDINGS_LIST_UNSUBSCRIBE": noRecipientURL},
			want: `TIDINGS_LIST_UNSUBSCRIBE: "` + noRecipientURL + `" names no recipient: `},
		{name: "config", config: true,
			want: cfg + `:4: environments.staging.list_unsubscribe: "` + noRecipientURL + `?list=news" names no recipient: `},
		{name: "id", campaign: "list_unsubscribe: " + noRecipientURL + "?id={id}\n"},
		{name: "email", vars: map[string]string{"TIDINGS_LIST_UNSUBSCRIBE": "https://altea.example/u/{email}"}},
		{name: "http", campaign: "list_unsubscribe: http://altea.example/unsubscribe\n"},
		{name: "mailto", campaign: "list_unsubscribe: mailto:unsubscribe@altea.example\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "unsub-" + tt.name
			file := writeCampaign(t, campaignFile{name: name, rows: []string{"ada@example.org,Ada,en,1"}, extra: tt.campaign})
			env := merge(renv, tt.vars)
			var conf []string
			if tt.config {
				conf = []string{"--config", cfg}
			}
			cmds := [][]string{{"plan", file, "--env", "staging"}, {"send", file, "--env", "staging"}}
			if tt.want != "" { // a rehearsal that passes runs the whole campaign: plan and send show the pass
				cmds = append(cmds, []string{"rehearse", file, "--out", filepath.Join(t.TempDir(), "out")})
			}
			for _, args := range cmds {
				cmd := args[0]
				r := cli(t, env, append(args, conf...)...)
				if tt.want == "" {
					if r.code != 0 {
						t.Errorf("%s of list_unsubscribe %q\n%s", cmd, tt.campaign+tt.vars["TIDINGS_LIST_UNSUBSCRIBE"], r)
					}
					continue
				}
				if r.code != 2 {
					t.Errorf("%s: exit %d, want 2 (a configuration error)\n%s", cmd, r.code, r)
				}
				contains(t, cmd, r.stderr, tt.want, "put {id} or {email} in its path or query, e.g. ", "id={id}", "or give a mailto: URL")
			}
			staged := rd.Client().Exists(t.Context(), "tidings:{"+name+"}:meta").Val() == 1
			if staged != (tt.want == "") {
				t.Errorf("campaign staged: %v, want %v", staged, tt.want == "")
			}
		})
	}
}

// TestListUnsubscribeNamingNobodyStagedBefore: a campaign staged with an
// https list_unsubscribe that names no recipient (before tidings refused
// one), in an environment holding one, still runs: a worker sends its
// canary with the header as staged, and status, pause and cancel work.
// The refusal is plan's and send's, not the environment's or the stored
// definition's.
func TestListUnsubscribeNamingNobodyStagedBefore(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	good := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_LIST_UNSUBSCRIBE": noRecipientURL + "?id={id}"})
	file := writeCampaign(t, campaignFile{name: "legacy", rows: rowsIn(3, "en"),
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
	if r := cli(t, good, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	stageWithoutRecipient(t, rd, "legacy", noRecipientURL+"?id={id}", noRecipientURL)
	bad := merge(good, map[string]string{"TIDINGS_LIST_UNSUBSCRIBE": noRecipientURL})
	_, log := startWorker(t, bad)
	waitState(t, bad, "legacy", "awaiting-approval", log) // status, too
	msgs := smtp.Messages()
	if len(msgs) != 1 || !bytes.Contains(msgs[0].Data, []byte("List-Unsubscribe: <"+noRecipientURL+">\r\n")) {
		t.Fatalf("canary: %d messages, want 1 with List-Unsubscribe <%s>\n%s", len(msgs), noRecipientURL, log)
	}
	for _, args := range [][]string{
		{"pause", "legacy", "--env", "staging", "--reason", "check the unsubscribe link"},
		{"status", "legacy", "--env", "staging"},
		{"cancel", "legacy", "--env", "staging", "--reason", "it names nobody"},
	} {
		if r := cli(t, bad, args...); r.code != 0 {
			t.Errorf("%s with list_unsubscribe %s\n%s", args[0], noRecipientURL, r)
		}
	}
	if st := status(t, bad, "legacy"); st.State != "cancelled" {
		t.Errorf("state %q, want cancelled", st.State)
	}
}

// stageWithoutRecipient rewrites the list_unsubscribe of campaign name's
// stored definition from was to now, as one staged before send refused
// it.
func stageWithoutRecipient(t *testing.T, rd *redistest.Redis, name, was, now string) {
	t.Helper()
	key := "tidings:{" + name + "}:meta"
	def := rd.Client().HGet(t.Context(), key, "def").Val()
	if !strings.Contains(def, `"list_unsubscribe":"`+was+`"`) {
		t.Fatalf("stored definition lacks list_unsubscribe %s: %s", was, def)
	}
	def = strings.Replace(def, `"list_unsubscribe":"`+was+`"`, `"list_unsubscribe":"`+now+`"`, 1)
	if err := rd.Client().HSet(t.Context(), key, "def", def).Err(); err != nil {
		t.Fatal(err)
	}
}
