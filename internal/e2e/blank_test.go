package e2e

import (
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestBlankTranslationIsNotSentWithTheBinary: a de catalog whose subject
// is a no-break space holds every key, but its recipients would get a
// blank subject. The binary, a real redis-server and aiosmtpd: plan
// refuses the de rows as incomplete (exit 1), naming the blank form; send
// --skip-refused stages only the en rows; the worker sends exactly those,
// each with its subject, and the report accounts for every row.
func TestBlankTranslationIsNotSentWithTheBinary(t *testing.T) {
	t.Parallel()
	srv := startAiosmtpd(t)
	e := newEnv(t, srv.Port(), 2)
	const name = "e2e-blank"
	cdir := filepath.Join(e.dir, "campaign")
	_, ldir := bundledCampaignDirs(t, cdir, false)
	de, err := os.ReadFile(filepath.Join(ldir, "de.toml"))
	if err != nil {
		t.Fatal(err)
	}
	const subject = `other = "Bitte registrieren Sie sich neu: die Altea-Community ist umgezogen"`
	if !strings.Contains(string(de), subject) {
		t.Fatal("the de catalog's subject changed: update the test")
	}
	fixture.Write(t, filepath.Join(ldir, "de.toml"), strings.Replace(string(de), subject, `other = "\u00A0"`, 1))
	var csv strings.Builder
	csv.WriteString("email,name,locale,posts\n")
	want := map[string]string{} // email -> outcome
	for i := range 6 {
		loc := []string{"en", "de", "de-CH"}[i%3]
		email := fmt.Sprintf("u%d@ok.example", i)
		fmt.Fprintf(&csv, "%s,User %d,%s,%d\n", email, i, loc, i)
		want[email] = map[bool]string{true: "sent", false: "refused"}[loc == "en"]
	}
	file := writeCampaign(t, cdir, campaignSpec{name: name, templatesDir: "templates", localesDir: "locales", size: 10}, csv.String())

	p := e.run("plan", file)
	if p.code != 1 || !strings.Contains(p.stdout+p.stderr, "welcome.subject (other: blank)") {
		t.Fatalf("plan of a campaign whose de subject is blank: want exit 1 naming welcome.subject (other: blank), got %s", p)
	}
	e.mustRun("send", file, "--env", envName, "--skip-refused", "--rejects", filepath.Join(e.dir, "rejects.csv"))
	w := e.startWorker("worker-1", 2)
	st := e.waitState(name, "done", 3*time.Minute, w)
	sent := int(st.Counts["sent"])
	wait.For(t, 20*time.Second, "aiosmtpd to have stored every sent message", func() bool { return srv.Count() >= sent })
	for _, m := range srv.Messages(t) {
		if m.err != nil {
			t.Errorf("%s: %v", m.file, m.err)
			continue
		}
		if len(m.rcpts) != 1 || want[m.rcpts[0]] != "sent" {
			t.Errorf("%s: sent to %v, who must be refused (blank de subject)", m.file, m.rcpts)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject"))
		if err != nil || strings.TrimSpace(strings.ReplaceAll(subj, "\u00A0", "")) == "" {
			t.Errorf("%s: blank subject %q (%v)", m.file, m.header.Get("Subject"), err)
		}
	}
	rep := e.report(name)
	if len(rep.Recipients) != len(want) {
		t.Errorf("report lists %d recipients, want %d", len(rep.Recipients), len(want))
	}
	for _, r := range rep.Recipients {
		if r.Outcome != want[r.Email] {
			t.Errorf("%s (%s): outcome %s, want %s", r.Email, r.Locale, r.Outcome, want[r.Email])
		}
	}
	if srv.Count() != 2 {
		t.Errorf("%d messages delivered, want 2 (the en rows)", srv.Count())
	}
}
