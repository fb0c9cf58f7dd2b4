package cli

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

const (
	tokenURL    = "https://altea.example/unsubscribe?id={id}&token={token}"
	tokenSecret = "k9F2-unsubscribe-secret-of-the-site"
)

// verifyToken is README's verification of a {token}, written from the
// documented computation alone (crypto/hmac, not package unsubscribe).
func verifyToken(secret, id, token string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id))
	want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
	return hmac.Equal([]byte(token), []byte(want))
}

// unsubscribeTemplates copies the bundled welcome template into a new
// templates directory, with the body's link to {{.Unsubscribe}} as README
// shows it, and returns the directory.
func unsubscribeTemplates(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, link := range map[string]string{
		"subject.tmpl": "",
		"text.tmpl":    "{{if .Unsubscribe}}{{.Unsubscribe}}\n{{end}}",
		"html.tmpl":    `{{if .Unsubscribe}}<p><a href="{{.Unsubscribe}}">{{.Unsubscribe}}</a></p>{{end}}` + "\n",
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "templates", "welcome", name))
		if err != nil {
			t.Fatal(err)
		}
		fixture.Write(t, filepath.Join(dir, "welcome", name), string(b)+link)
	}
	return dir
}

var hrefRE = regexp.MustCompile(`<a href="(https://altea\.example/unsubscribe[^"]*)">`)

// TestUnsubscribeTokenEndToEnd: a campaign whose list_unsubscribe has
// {token}, sent through a real SMTP server by a worker holding the
// environment's secret: every message's List-Unsubscribe header, its text
// body's link and its HTML body's link are the same URL; its token
// verifies with an independent HMAC computation under the secret, not
// under another one, not for another id; and the secret is nowhere in
// Redis, in the worker's log or in status.
func TestUnsubscribeTokenEndToEnd(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": tokenSecret})
	file := writeCampaign(t, campaignFile{name: "tok", rows: []string{"Ana.Maria+x@example.org,Ana,de,2", "bo@example.org,Bo,en,1", "zoe@example.org,Zoë,fr,3"},
		tmpls: unsubscribeTemplates(t), extra: "list_unsubscribe: \"" + tokenURL + "\"\n"})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env)
	waitState(t, env, "tok", "done", log)
	msgs := smtp.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3\n%s", len(msgs), log)
	}
	for _, m := range msgs {
		d := decodeMail(t, m.Data)
		header := d.header.Get("List-Unsubscribe")
		lines := strings.Split(strings.TrimRight(d.text, "\n"), "\n")
		textLink := lines[len(lines)-1]
		if header != "<"+textLink+">" {
			t.Errorf("List-Unsubscribe %s, text body's link %s: want the same URL", header, textLink)
		}
		hm := hrefRE.FindStringSubmatch(d.html)
		if hm == nil || html.UnescapeString(hm[1]) != textLink {
			t.Errorf("HTML body's link %q, want %s", hm, textLink)
		}
		u, err := url.Parse(textLink)
		if err != nil {
			t.Fatal(err)
		}
		id, token := u.Query().Get("id"), u.Query().Get("token")
		to := strings.ToLower(strings.Trim(d.header.Get("To"), "<>"))
		if !strings.HasSuffix(to, id) || id == "" {
			t.Errorf("link names id %q, want the recipient's (%s)", id, d.header.Get("To"))
		}
		if !verifyToken(tokenSecret, id, token) {
			t.Errorf("%s: the token does not verify under the environment's secret", textLink)
		}
		if verifyToken(tokenSecret+"2", id, token) || verifyToken(tokenSecret, id+"x", token) {
			t.Errorf("%s: the token verifies under another secret or for another id", textLink)
		}
	}
	for k, vs := range redisValues(t, rd.Client()) {
		for _, v := range vs {
			if strings.Contains(v, tokenSecret) {
				t.Errorf("Redis key %s holds the unsubscribe secret", k)
			}
		}
	}
	if strings.Contains(log.String(), tokenSecret) {
		t.Errorf("the worker's log shows the secret")
	}
	if r := cli(t, env, "status", "tok", "--env", "staging", "--json"); strings.Contains(r.stdout+r.stderr, tokenSecret) {
		t.Errorf("status shows the secret")
	}
}

// TestUnsubscribeTokenWorkerWithoutSecret: a worker without the
// environment's unsubscribe secret sends nothing of a campaign whose
// List-Unsubscribe has {token}: it pauses it, saying what to set and the
// exact resume to run; a worker with the secret then sends it once
// resumed.
func TestUnsubscribeTokenWorkerWithoutSecret(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": tokenSecret})
	file := writeCampaign(t, campaignFile{name: "nosecret", rows: rowsIn(2, "en"), extra: "list_unsubscribe: \"" + tokenURL + "\"\n"})
	st := pausedByWorker(t, env, merge(env, map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": ""}), file, "nosecret", smtp)
	want := ` has no unsubscribe secret, and this campaign's List-Unsubscribe "` + tokenURL + `" needs one for {token}: it sends nothing rather than a link without its token; give this worker environment staging's secret (TIDINGS_UNSUBSCRIBE_SECRET, TIDINGS_UNSUBSCRIBE_SECRET_FILE or unsubscribe_secret_file, the same as the one send used), and every other worker without one too, then resume with: tidings resume nosecret --env staging (or cancel: tidings cancel nosecret --env staging --reason ...)`
	if !strings.HasPrefix(st.Reason, "worker ") || !strings.HasSuffix(st.Reason, want) {
		t.Errorf("reason %q, want worker ... on ...%s", st.Reason, want)
	}
	if r := cli(t, env, "resume", "nosecret", "--env", "staging"); r.code != 0 {
		t.Fatalf("resume\n%s", r)
	}
	_, log := startWorker(t, env)
	waitState(t, env, "nosecret", "done", log)
	if n := len(smtp.Messages()); n != 2 {
		t.Errorf("%d messages after resuming with the secret, want 2", n)
	}
}

// TestUnsubscribeTokenWorkerWithAnotherSecret: a worker whose unsubscribe
// secret is not the one send staged the campaign with (its fingerprint,
// stored with the staging, differs) sends nothing of a campaign whose
// List-Unsubscribe has {token}: every link would be one the site refuses.
// It pauses the campaign saying what to set and the exact resume to run
// (tidings resume NAME --env ENV); a worker with send's secret
// then sends it once resumed, links that verify under that secret. A
// campaign staged before fingerprints were stored (none in Redis) is sent
// as before.
func TestUnsubscribeTokenWorkerWithAnotherSecret(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": tokenSecret})
	other := merge(env, map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": "another-secret-of-another-site"})
	file := writeCampaign(t, campaignFile{name: "othersecret", rows: rowsIn(2, "en"), extra: "list_unsubscribe: \"" + tokenURL + "\"\n"})
	st := pausedByWorker(t, env, other, file, "othersecret", smtp)
	want := `: the site would refuse every link it mails, so it sends nothing; give this worker environment staging's secret (TIDINGS_UNSUBSCRIBE_SECRET, TIDINGS_UNSUBSCRIBE_SECRET_FILE or unsubscribe_secret_file, the same as the one send used and the site holds), and every other worker that holds another too, then resume with: tidings resume othersecret --env staging (or cancel: tidings cancel othersecret --env staging --reason ...)`
	if !strings.HasPrefix(st.Reason, "worker ") || !strings.Contains(st.Reason, " holds another unsubscribe secret than the one this campaign was staged with (key fingerprint ") || !strings.HasSuffix(st.Reason, want) {
		t.Errorf("reason %q, want worker ... holds another unsubscribe secret ...%s", st.Reason, want)
	}
	if strings.Contains(st.Reason, tokenSecret) || strings.Contains(st.Reason, "another-secret-of-another-site") {
		t.Errorf("reason %q shows a secret", st.Reason)
	}
	if r := cli(t, env, "resume", "othersecret", "--env", "staging"); r.code != 0 {
		t.Fatalf("resume\n%s", r)
	}
	_, log := startWorker(t, env)
	waitState(t, env, "othersecret", "done", log)
	msgs := smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages after resuming with send's secret, want 2", len(msgs))
	}
	for _, m := range msgs {
		u, err := url.Parse(strings.Trim(decodeMail(t, m.Data).header.Get("List-Unsubscribe"), "<>"))
		if err != nil {
			t.Fatal(err)
		}
		if !verifyToken(tokenSecret, u.Query().Get("id"), u.Query().Get("token")) {
			t.Errorf("%s: the token does not verify under send's secret", u)
		}
	}

	// Staged before fingerprints: nothing to compare, sent as before.
	file = writeCampaign(t, campaignFile{name: "nokey", rows: rowsIn(2, "en"), extra: "list_unsubscribe: \"" + tokenURL + "\"\n"})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	if n, err := rd.Client().HDel(t.Context(), "tidings:{nokey}:meta", "unsub_key").Result(); err != nil || n != 1 {
		t.Fatalf("remove the stored fingerprint: %d %v", n, err)
	}
	_, log = startWorker(t, env)
	waitState(t, env, "nokey", "done", log)
	if n := len(smtp.Messages()); n != 4 {
		t.Errorf("%d messages in all, want 4 (the campaign staged without a fingerprint sent as before)", n)
	}
}

// pausedByWorker sends campaign file (name) with env, runs a worker with
// workerEnv until it pauses the campaign, checks that nothing reached smtp,
// and returns the campaign's status.
func pausedByWorker(t *testing.T, env, workerEnv map[string]string, file, name string, smtp *smtpcapture.Server) statusJSON {
	t.Helper()
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	stop, log := startWorker(t, workerEnv)
	waitState(t, workerEnv, name, "paused", log)
	stop()
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("the worker sent %d messages of %s, want none", n, name)
	}
	return status(t, env, name)
}

// TestUnsubscribeTokenWithoutSecretRefusedAtPlan: plan and send refuse a
// list_unsubscribe with {token} in an environment without an unsubscribe
// secret (exit 2, nothing staged), at its line, saying what to set.
func TestUnsubscribeTokenWithoutSecretRefusedAtPlan(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	const fix = ` has {token}, and environment staging has no unsubscribe secret to make it: set TIDINGS_UNSUBSCRIBE_SECRET, TIDINGS_UNSUBSCRIBE_SECRET_FILE or unsubscribe_secret_file (at least 16 random bytes, e.g. openssl rand -base64 32), the same for send and every worker, and give it to the unsubscribe site`
	tests := []struct {
		name, campaign string
		vars           map[string]string
		want           string
	}{
		{name: "campaign", campaign: "list_unsubscribe: \"" + tokenURL + "\"\n", want: `campaign.yaml:13: list_unsubscribe: "` + tokenURL + `"` + fix},
		{name: "variable", vars: map[string]string{"TIDINGS_LIST_UNSUBSCRIBE": tokenURL}, want: `TIDINGS_LIST_UNSUBSCRIBE: "` + tokenURL + `"` + fix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "tok-" + tt.name
			file := writeCampaign(t, campaignFile{name: name, rows: []string{"ada@example.org,Ada,en,1"}, extra: tt.campaign})
			for _, cmd := range []string{"plan", "send"} {
				r := cli(t, merge(renv, tt.vars), cmd, file, "--env", "staging")
				if r.code != 2 {
					t.Errorf("%s: exit %d, want 2\n%s", cmd, r.code, r)
				}
				contains(t, cmd, r.stderr, tt.want)
			}
			if rd.Client().Exists(t.Context(), "tidings:{"+name+"}:meta").Val() == 1 {
				t.Errorf("campaign staged")
			}
		})
	}
}

// redisValues reads every key of db by its type, as text: each string, hash
// field and value, list element, set member, sorted set member and stream
// entry. (A DUMP cannot be searched: RDB compresses a value of more than 20
// bytes, so a secret inside a campaign's stored definition would not show.)
func redisValues(t *testing.T, db *redis.Client) map[string][]string {
	t.Helper()
	ctx := t.Context()
	out := map[string][]string{}
	keys, err := db.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("Redis holds no key: nothing was checked")
	}
	for _, k := range keys {
		var vs []string
		switch typ := db.Type(ctx, k).Val(); typ {
		case "none": // removed since KEYS listed it (the worker still runs: a finished task's key): it holds nothing
			continue
		case "string":
			vs = []string{db.Get(ctx, k).Val()}
		case "hash":
			for f, v := range db.HGetAll(ctx, k).Val() {
				vs = append(vs, f, v)
			}
		case "list":
			vs = db.LRange(ctx, k, 0, -1).Val()
		case "set":
			vs = db.SMembers(ctx, k).Val()
		case "zset":
			vs = db.ZRange(ctx, k, 0, -1).Val()
		case "stream":
			for _, m := range db.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					vs = append(vs, f, fmt.Sprint(v))
				}
			}
		default:
			t.Errorf("Redis key %s is of type %q, which this check does not read", k, typ)
		}
		out[k] = vs
	}
	return out
}
