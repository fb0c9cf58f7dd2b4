package cli

import (
	"bytes"
	"maps"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestLocaleRuleOnRestagingAndRetry: the locale rule (README, "The locale
// rule") on the paths that send after the first staging, with locales a
// migration brings (EN_us, zh-Hant-TW, sr-Latn, und, empty with
// missing_locale, i-klingon, no beside nb.toml, pt and pt-PT beside
// pt-BR.toml, rm, da, an alias gsw: de), through a real Redis, worker and
// SMTP server. The canary fails temporarily (the relay answers 451) and
// the gate pauses the campaign; then, as an operator fixing the campaign
// would, the recipients file changes (a pending German recipient is now
// French, a pending Norwegian one Danish), da.toml is added, pt-BR.toml
// removed and zh-Hant.toml corrected, and `send --resume-existing
// --skip-refused` stages it again. Every message is then in the language
// its recipient's row resolves to at the staging that sent it, by its
// subject (the catalog's text) and its Content-Language: nobody whose
// pt-BR message failed before the catalog was removed receives it, the
// recipient now French gets French, the one refused for da at the first
// staging gets da once its catalog exists; every refused locale gets
// nothing. A permanent failure re-queued by `retry --permanent` goes out
// in its language too. Nobody receives two messages.
func TestLocaleRuleOnRestagingAndRetry(t *testing.T) {
	t.Parallel()
	const name = "hostile"
	var down, bounceFR atomic.Bool
	down.Store(true)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
		switch {
		case down.Load():
			return smtpcapture.Reject(451, "4.3.0 try again later")
		case bounceFR.Load() && rcpt == "a15@example.org":
			return smtpcapture.Reject(550, "5.2.1 mailbox disabled")
		}
		return nil
	}})
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(smtp))

	root, locales := repoRoot(t), hostileCatalogs(t, "en", "de", "fr", "it", "ja")

	// email's number -> locale; the file's line is the number + 1.
	locale := []string{"", "EN_us", "zh-Hant-TW", "sr-Latn", "und", "", "i-klingon", "no", "nb", "pt", "pt-BR",
		"rm", "da", "de-CH", "gsw", "fr", "it", "pt-PT", "zh-TW", "zh", "en-US", "NB", "nn", "de", "de"}
	rows := func() []string { return numberedRows(locale) }
	file := writeCampaign(t, campaignFile{name: name, rows: rows(), locales: locales,
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s\n  max_failure_rate: 0.5",
		extra: "locale_policy:\n  aliases: { gsw: de }\n  missing_locale: en\n" +
			"auto_pause:\n  error_rate: 0.5\n"})
	recipients := filepath.Join(filepath.Dir(file), "recipients.csv")
	rejects := filepath.Join(filepath.Dir(file), "rejects.csv")

	if r := cli(t, env, "send", file, "--env", "staging", "--skip-refused", "--rejects", rejects); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env)
	waitState(t, env, name, "paused", log) // the canary failed temporarily: the gate paused it
	if n := smtp.Count(); n != 0 {
		t.Fatalf("%d messages accepted while the relay answered 451", n)
	}

	// The operator's fixes, then the campaign staged again.
	locale[13], locale[8] = "fr", "da" // a13 (de-CH) and a8 (nb) were in the failed canary
	fixture.Write(t, recipients, "email,name,locale,posts\n"+strings.Join(rows(), "\n")+"\n")
	copyCatalog(t, filepath.Join(root, "locales", "en.toml"), filepath.Join(locales, "da.toml"), "MARK da")
	if err := os.Remove(filepath.Join(locales, "pt-BR.toml")); err != nil {
		t.Fatal(err)
	}
	copyCatalog(t, filepath.Join(root, "locales", "ja.toml"), filepath.Join(locales, "zh-Hant.toml"), "MARK zh-Hant fixed")
	down.Store(false)
	bounceFR.Store(true)
	r := cli(t, env, "send", file, "--env", "staging", "--resume-existing", "--skip-refused", "--rejects", rejects)
	if r.code != 0 {
		t.Fatalf("send --resume-existing\n%s", r)
	}
	contains(t, "send --resume-existing", r.stdout, "recipients.csv:10: locale: not-covered: no catalog for pt:",
		"recipients.csv:11: locale: not-covered: no catalog for pt-BR:")
	waitState(t, env, name, "awaiting-approval", log)
	if r := cli(t, env, "approve", name, "--env", "staging"); r.code != 0 {
		t.Fatalf("approve\n%s", r)
	}
	waitState(t, env, name, "done", log)
	bounceFR.Store(false)
	if r := cli(t, env, "retry", name, "--env", "staging", "--permanent", "--code", "5.2.1"); r.code != 0 ||
		!strings.Contains(r.stdout, "Re-queued 1 temporary and permanent failures with reply code 5.2.1") {
		t.Fatalf("retry --permanent\n%s", r)
	}
	wait.For(t, time.Minute, "a15's message after the retry", func() bool { return perAddress(smtp)["a15@example.org"] > 0 }, log.String)
	waitState(t, env, name, "done", log)

	// What each recipient's row resolves to at the second staging (README,
	// "Which tags are the same language"): "" is refused.
	want := map[string]string{"a1": "en", "a2": "zh-Hant", "a4": "en", "a5": "en", "a8": "da", "a12": "da",
		"a13": "fr", "a14": "de", "a15": "fr", "a16": "it", "a18": "zh-Hant", "a20": "en", "a21": "nb", "a23": "de", "a24": "de"}
	// The catalogs as the first staging had them: a message in one of
	// them is in its language, though not the one now staged.
	checkLanguages(t, smtp, locales, map[string]string{"MARK pt-BR": "pt-BR", "MARK zh-Hant": "zh-Hant (before its fix)"}, locale, want)
	rep := reportJSON(t, env, name)
	for _, x := range rep.Recipients {
		who := strings.TrimSuffix(x.Email, "@example.org")
		if wantOutcome := map[bool]string{true: "sent", false: "refused"}[want[who] != ""]; x.Outcome != wantOutcome {
			t.Errorf("report: %s (line %d) is %s (%s), want %s", who, x.Line, x.Outcome, x.Response, wantOutcome)
		}
	}
	if len(rep.Recipients) != len(locale)-1 {
		t.Errorf("the report has %d rows, want %d", len(rep.Recipients), len(locale)-1)
	}
}

// hostileCatalogs returns a new locales directory holding the bundled
// catalogs of langs and catalogs of languages the bundled sample lacks:
// nb, zh-Hant and pt-BR, another catalog's messages (its plural forms
// those of the language) under a subject of their own ("MARK nb"), which
// names the catalog a message came from.
func hostileCatalogs(t *testing.T, langs ...string) string {
	t.Helper()
	root := repoRoot(t)
	locales := filepath.Join(t.TempDir(), "locales")
	for _, l := range langs {
		copyCatalog(t, filepath.Join(root, "locales", l+".toml"), filepath.Join(locales, l+".toml"), "")
	}
	copyCatalog(t, filepath.Join(root, "locales", "en.toml"), filepath.Join(locales, "nb.toml"), "MARK nb")
	copyCatalog(t, filepath.Join(root, "locales", "ja.toml"), filepath.Join(locales, "zh-Hant.toml"), "MARK zh-Hant")
	copyCatalog(t, filepath.Join(root, "locales", "es.toml"), filepath.Join(locales, "pt-BR.toml"), "MARK pt-BR")
	return locales
}

// numberedRows returns a recipients row for each locale[N] but the
// first: email aN@example.org, name AN, 2 posts.
func numberedRows(locale []string) []string {
	var out []string
	for i := 1; i < len(locale); i++ {
		out = append(out, "a"+itoa(i)+"@example.org,A"+itoa(i)+","+locale[i]+",2")
	}
	return out
}

// TestLocaleRuleOnStateLossRecovery: the locale rule on a recovery after
// Redis lost a campaign (README, "When Redis loses a campaign"): the
// canary (one per language: EN_us, zh-Hant-TW, de-CH, NB, pt) was
// delivered, Redis is wiped, and before the recovery the operator
// changes the recipients file and catalogs: a delivered recipient's
// locale is now fr and a pending one's it (fr.toml and it.toml added),
// pt-BR.toml is removed, zh-Hant.toml corrected, and missing_locale goes
// from en to refuse. `send --exclude-delivered JOURNAL_DIR
// --skip-refused` stages what is left: every recipient the journal holds
// as delivered gets nothing more (whatever their row now says), every
// other one a message in the language their row now resolves to, and
// the rows the new policy refuses (und, empty) nothing.
func TestLocaleRuleOnStateLossRecovery(t *testing.T) {
	t.Parallel()
	const name = "hostile-lost"
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(renv, smtpEnv(smtp))
	root, locales := repoRoot(t), hostileCatalogs(t, "en", "de")
	locale := []string{"", "EN_us", "zh-Hant-TW", "und", "de-CH", "gsw", "NB", "pt", "de", "", "en-US", "zh-TW"}
	file := writeCampaign(t, campaignFile{name: name, rows: numberedRows(locale), locales: locales,
		batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s",
		extra:   "locale_policy:\n  aliases: { gsw: de }\n  missing_locale: en\n"})
	dir := filepath.Dir(file)
	rejects := filepath.Join(dir, "rejects.csv")
	journal := filepath.Join(env["TIDINGS_STATE_DIR"], "journal")

	if r := cli(t, env, "send", file, "--env", "staging", "--rejects", rejects); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	stop, log := startWorker(t, env)
	waitState(t, env, name, "awaiting-approval", log)
	stop()
	canary := map[string]string{"a1": "en", "a2": "zh-Hant", "a4": "de", "a6": "nb", "a7": "pt-BR"}
	checkLanguages(t, smtp, locales, nil, locale, canary)
	if err := rd.Wipe(t.Context()); err != nil {
		t.Fatal(err)
	}

	locale[1], locale[8] = "fr", "it" // a1 was mailed in en; a8 (de) is pending
	fixture.Write(t, filepath.Join(dir, "recipients.csv"), "email,name,locale,posts\n"+strings.Join(numberedRows(locale), "\n")+"\n")
	copyCatalog(t, filepath.Join(root, "locales", "fr.toml"), filepath.Join(locales, "fr.toml"), "")
	copyCatalog(t, filepath.Join(root, "locales", "it.toml"), filepath.Join(locales, "it.toml"), "")
	if err := os.Remove(filepath.Join(locales, "pt-BR.toml")); err != nil {
		t.Fatal(err)
	}
	copyCatalog(t, filepath.Join(root, "locales", "ja.toml"), filepath.Join(locales, "zh-Hant.toml"), "MARK zh-Hant fixed")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, file, strings.Replace(string(b), "missing_locale: en", "missing_locale: refuse", 1))
	r := cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", journal, "--skip-refused", "--rejects", rejects)
	if r.code != 0 {
		t.Fatalf("send --exclude-delivered\n%s", r)
	}
	contains(t, "send --exclude-delivered", r.stdout, "recipients.csv:4: locale: not-covered: no catalog for und (it says the recipient has no language", "recipients.csv:10: locale: empty locale")
	_, log = startWorker(t, env)
	toDone(t, env, name, log)

	// The canary once each, in the language it was sent in; the rest in
	// their language now.
	want := map[string]string{"a5": "de", "a8": "it", "a10": "en", "a11": "zh-Hant"}
	maps.Copy(want, canary)
	checkLanguages(t, smtp, locales, map[string]string{"MARK pt-BR": "pt-BR", "MARK zh-Hant": "zh-Hant"}, locale, want)
}

// checkLanguages checks that every message smtp received is in the
// language of a catalog in locales (or one of before, subject ->
// language, which are no longer there) by its subject, says so in its
// Content-Language, and that recipient aN (locale[N]) received exactly
// one message, in want["aN"], or none when want has no language for them.
func checkLanguages(t *testing.T, smtp *smtpcapture.Server, locales string, before map[string]string, locale []string, want map[string]string) {
	t.Helper()
	subjects := catalogSubjects(t, locales)
	for k, v := range before {
		subjects[k] = v
	}
	got := map[string][]string{}
	for _, m := range smtp.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("message to %v: %v", m.To, err)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("message to %v: subject: %v", m.To, err)
		}
		lang, ok := subjects[subj]
		if !ok {
			t.Errorf("message to %v: subject %q is no catalog's", m.To, subj)
		}
		if cl := msg.Header.Get("Content-Language"); cl != lang {
			t.Errorf("message to %v: Content-Language %q, but its subject is the %s catalog's", m.To, cl, lang)
		}
		for _, to := range m.To {
			who := strings.TrimSuffix(to, "@example.org")
			got[who] = append(got[who], lang)
		}
	}
	for i := 1; i < len(locale); i++ {
		who := "a" + itoa(i)
		switch w := want[who]; {
		case w == "" && len(got[who]) > 0:
			t.Errorf("%s (locale %q, refused) received %v", who, locale[i], got[who])
		case w != "" && (len(got[who]) != 1 || got[who][0] != w):
			t.Errorf("%s (locale %q) received %v, want one message in %s", who, locale[i], got[who], w)
		}
	}
}

// copyCatalog copies the catalog from to to, its welcome.subject replaced
// by subject when subject is not empty.
func copyCatalog(t *testing.T, from, to, subject string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if subject != "" {
		re := regexp.MustCompile(`(?s)(\[welcome\.subject\][^\[]*?other = ")[^"]*"`)
		if !re.MatchString(s) {
			t.Fatalf("%s has no welcome.subject to replace", from)
		}
		s = re.ReplaceAllString(s, `${1}`+subject+`"`)
	}
	fixture.Write(t, to, s)
}

// catalogSubjects maps the welcome.subject of every catalog in dir to its
// language (the file's name).
func catalogSubjects(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		var c struct {
			Welcome struct {
				Subject struct{ Other string } `toml:"subject"`
			} `toml:"welcome"`
		}
		if _, err := toml.DecodeFile(f, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		lang := strings.TrimSuffix(filepath.Base(f), ".toml")
		if prev, dup := out[c.Welcome.Subject.Other]; dup || c.Welcome.Subject.Other == "" {
			t.Fatalf("%s: subject %q is also %s's: it cannot tell the languages apart", f, c.Welcome.Subject.Other, prev)
		}
		out[c.Welcome.Subject.Other] = lang
	}
	return out
}
