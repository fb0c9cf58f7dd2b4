package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/wait"
)

// row is one recipients row and what must become of it.
type row struct {
	email, name, locale, posts string
	note                       string // extra column; the e2e subject carries it
	line                       int    // where the row starts in the file
	want                       string // sent, refused or invalid
}

// id is the recipient id tidings derives: the lower-cased email.
func (r row) id() string { return strings.ToLower(r.email) }

// lang is the catalog language an accepted row must be written in, derived
// independently of tidings: the locale's base language.
func (r row) lang() string {
	return strings.ToLower(strings.FieldsFunc(r.locale, func(c rune) bool { return c == '-' || c == '_' })[0])
}

// csvOf writes rows as a recipients CSV (email,name,locale,posts,note) and fills
// in each row's starting line, counting the line breaks inside quoted
// fields as a CSV reader must.
func csvOf(t *testing.T, rows []row) string {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	write := func(rec []string) {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Flush()
	}
	write([]string{"email", "name", "locale", "posts", "note"})
	for i := range rows {
		rows[i].line = bytes.Count(buf.Bytes(), []byte("\n")) + 1
		write([]string{rows[i].email, rows[i].name, rows[i].locale, rows[i].posts, rows[i].note})
	}
	return buf.String()
}

// copyTree copies the regular files of src into dst, skipping .go files.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if filepath.Ext(p) == ".go" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// bundledCampaignDirs copies the repository's templates/ and locales/ into
// dir, adds testdata/locales-incomplete/pt.toml (so pt and pt-BR recipients
// are refused: it lacks welcome.reregister) and, when nameInSubject, appends
// the recipient's name and the note column to the subject, so that emoji,
// CJK, right-to-left and combining characters from the data travel through
// the RFC 2047 subject, and line breaks in the data (valid in an extra
// column) try to inject a header there.
func bundledCampaignDirs(t *testing.T, dir string, nameInSubject bool) (templates, locales string) {
	t.Helper()
	templates, locales = filepath.Join(dir, "templates"), filepath.Join(dir, "locales")
	copyTree(t, filepath.Join(repoRoot, "templates"), templates)
	copyTree(t, filepath.Join(repoRoot, "locales"), locales)
	pt, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "locales-incomplete", "pt.toml"))
	if err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, filepath.Join(locales, "pt.toml"), string(pt))
	if nameInSubject {
		fixture.Write(t, filepath.Join(templates, "welcome", "subject.tmpl"), "{{t \"welcome.subject\" .}} · {{.Name}}{{.Fields.note}}\n")
	}
	return templates, locales
}

// names exercise what the product promises survives: emoji (with ZWJ and
// skin tones), CJK, right-to-left scripts, combining characters, and HTML
// that must be escaped.
var names = []string{
	"Ada Lovelace",
	"Zoë Dupont 🎉",
	"山田 太郎",
	"ليلى حداد",
	"עדי כהן",
	"Иван Петров",
	"Ame\u0301lie Poulain",
	"👩🏽‍💻 Dev Person",
	"佐藤 花子 🌸",
	"<script>alert(1)</script>",
	"Łukasz Wójcik",
	`O'Brien & "Sons", Ltd.`,
	"Nguye\u0302\u0303n Thi\u0323",
	"김민준",
}

const scriptName = "<script>alert(1)</script>"

// acceptedLocales cover the 9 bundled languages, with regional variants and
// odd case.
var acceptedLocales = []string{
	"en", "en-GB", "EN-us", "de", "de-CH", "de-AT", "fr", "fr-BE", "fr-CA",
	"it", "it-CH", "es", "es-MX", "ja", "ja-JP", "ar", "ar-EG", "ru", "ru-RU", "pl", "pl-PL",
}

// refusedLocales: pt is incomplete (testdata's pt.toml lacks a key), rm, da
// and sv have no catalog (and must not fall back to de, nb or en), empty and
// unparsable locales are refused by default.
var refusedLocales = []string{"pt", "pt-BR", "rm", "da", "", "xx!!", "sv"}

// injections are note values that try to start a Bcc header in the subject.
var injections = []string{"\r\nBcc: x@y.example", "\nBcc: x@y.example\n", "\u2028Bcc: x@y.example", "\r\n\r\n<b>body?</b>"}

// manyRecipients builds n normal rows (every 40th refused, every 13th with a
// header injection attempt in its note) plus invalid rows, among them
// header-injection attempts through the name and the email, placed at fixed
// positions.
func manyRecipients(n int) []row {
	var rows []row
	for i := range n {
		r := row{
			email: fmt.Sprintf("user%05d@e2e.example", i),
			name:  names[i%len(names)],
			posts: strconv.Itoa(i % 23),
			want:  "sent",
		}
		if i%13 == 5 {
			r.note = injections[(i/13)%len(injections)]
		}
		if i%40 == 7 {
			r.locale, r.want = refusedLocales[(i/40)%len(refusedLocales)], "refused"
		} else {
			r.locale = acceptedLocales[i%len(acceptedLocales)]
		}
		rows = append(rows, r)
	}
	invalid := []struct {
		at  int
		row row
	}{
		{3, row{email: "eve@e2e.example", name: "Eve\r\nBcc: x@y.example", locale: "en", posts: "1"}},
		{n / 4, row{email: "not-an-email", name: "Broken Row", locale: "en", posts: "1"}},
		{n / 2, row{email: "mallet@e2e.example\r\nBcc: x@y.example", name: "Mallet", locale: "de", posts: "2"}},
		{3 * n / 4, row{email: strings.ToUpper(rows[10].email), name: "Same Person Again", locale: "fr", posts: "3"}},
		{n - 1, row{email: "c1@e2e.example", name: "Control\u0085Char", locale: "it", posts: "4"}},
	}
	for k := len(invalid) - 1; k >= 0; k-- {
		iv := invalid[k]
		iv.row.want = "invalid"
		rows = append(rows[:iv.at], append([]row{iv.row}, rows[iv.at:]...)...)
	}
	return rows
}

// limit caps the errors reported for one kind of failure.
type limit struct {
	t    *testing.T
	left map[string]int
}

func (l *limit) errorf(kind, format string, args ...any) {
	l.t.Helper()
	if l.left == nil {
		l.left = map[string]int{}
	}
	n, ok := l.left[kind]
	if !ok {
		n = 10
	}
	if n > 0 {
		l.t.Errorf(format, args...)
	} else if n == 0 {
		l.t.Errorf("(more %q failures not shown)", kind)
	}
	l.left[kind] = n - 1
}

var rowsLine = regexp.MustCompile(`(\d+) rows: (\d+) accepted, (\d+) refused, (\d+) invalid`)
var rejectLine = regexp.MustCompile(`recipients\.csv:(\d+):`)
var bccLine = regexp.MustCompile(`(?im)^bcc:`)

// TestCampaignEndToEndAiosmtpd sends a campaign of 3,000 recipients in 9
// languages through the binary (plan, send, two workers, status, report) on a
// real redis-server and Debian's aiosmtpd, and checks every captured message.
func TestCampaignEndToEndAiosmtpd(t *testing.T) {
	t.Parallel()
	srv := startAiosmtpd(t)
	e := newEnv(t, srv.Port(), 4)
	const name = "e2e-aiosmtpd"
	cdir := filepath.Join(e.dir, "campaign")
	tdir, ldir := bundledCampaignDirs(t, cdir, true)
	rows := manyRecipients(3000)
	file := writeCampaign(t, cdir, campaignSpec{name: name, templatesDir: "templates", localesDir: "locales", size: 1000}, csvOf(t, rows))

	want := map[string]int{}
	wantLines := map[int]bool{}
	accepted := map[string]row{}
	for _, r := range rows {
		want[r.want]++
		if r.want == "sent" {
			accepted[r.id()] = r
		} else {
			wantLines[r.line] = true
		}
	}

	// plan: exit 1, every refused and invalid row listed with its line.
	p := e.run("plan", file, "--show", "1000", "--rejects", filepath.Join(e.dir, "plan-rejects.csv"))
	if p.code != 1 {
		t.Fatalf("plan with refused and invalid rows: want exit 1, got %s", p)
	}
	m := rowsLine.FindStringSubmatch(p.stdout)
	if m == nil {
		t.Fatalf("plan output lacks the 'N rows: ...' line:\n%s", p)
	}
	if got := fmt.Sprintf("%s rows: %s accepted, %s refused, %s invalid", m[1], m[2], m[3], m[4]); got != fmt.Sprintf("%d rows: %d accepted, %d refused, %d invalid", len(rows), want["sent"], want["refused"], want["invalid"]) {
		t.Errorf("plan says %q; want %d rows: %d accepted, %d refused, %d invalid", got, len(rows), want["sent"], want["refused"], want["invalid"])
	}
	listed := map[int]bool{}
	for _, mm := range rejectLine.FindAllStringSubmatch(p.stdout, -1) {
		n, _ := strconv.Atoi(mm[1])
		listed[n] = true
	}
	for _, r := range rows {
		switch {
		case r.want != "sent" && !listed[r.line]:
			t.Errorf("plan does not list %s row at line %d (email %q, name %q, locale %q)", r.want, r.line, r.email, r.name, r.locale)
		case r.want == "sent" && listed[r.line]:
			t.Errorf("plan lists line %d (email %q, locale %q) as refused or invalid; it must be accepted", r.line, r.email, r.locale)
		}
	}
	if t.Failed() {
		t.Logf("plan output:\n%s", p.stdout)
	}

	// send, then two workers.
	e.mustRun("send", file, "--env", envName, "--skip-refused", "--skip-invalid", "--rejects", filepath.Join(e.dir, "send-rejects.csv"))
	w1 := e.startWorker("worker-1", 4)
	w2 := e.startWorker("worker-2", 4)
	st := e.waitState(name, "done", 3*time.Minute, w1, w2)
	sent := int(st.Counts["sent"])
	wait.For(t, 20*time.Second, "aiosmtpd to have stored every sent message", func() bool { return srv.Count() >= sent })
	msgs := srv.Messages(t)

	// The engine the test builds on the same directories says what each
	// recipient's message must be.
	eng, err := render.New(render.Config{
		Templates: os.DirFS(tdir), Locales: os.DirFS(ldir), Template: "welcome", DefaultLocale: "en",
		Policy: render.Policy{MissingLocale: "refuse"},
	})
	if err != nil {
		t.Fatalf("build the reference engine: %v", err)
	}
	l := &limit{t: t}
	seenID := map[string]string{}
	perRcpt := byRecipient(msgs)
	for _, c := range msgs {
		if len(c.rcpts) != 1 {
			l.errorf("rcpts", "%s: envelope recipients %v, want exactly one", c.file, c.rcpts)
			continue
		}
		rc := c.rcpts[0]
		if c.err != nil {
			l.errorf("parse", "%s: %v", c.file, c.err)
			continue
		}
		r, ok := accepted[rc]
		if !ok {
			l.errorf("unexpected", "%s: message to %q, who is not an accepted recipient", c.file, rc)
			continue
		}
		if to, err := c.header.AddressList("To"); err != nil || len(to) != 1 || strings.ToLower(to[0].Address) != rc {
			l.errorf("to", "%s: To %q (%v), want %s", c.file, c.header.Get("To"), err, rc)
		}
		// A header starts a line; a folded continuation starts with white
		// space, so "Bcc: x@y.example" inside a subject is only text.
		if _, ok := c.header["Bcc"]; ok || bccLine.MatchString(c.rawHeader) {
			l.errorf("bcc", "%s: a Bcc header is in the header:\n%s", c.file, c.rawHeader)
		}
		if _, ok := c.header["Cc"]; ok {
			l.errorf("bcc", "%s: a Cc header is in the header:\n%s", c.file, c.rawHeader)
		}
		id := c.header.Get("Message-ID")
		switch {
		case id == "":
			l.errorf("msgid", "%s: no Message-ID", c.file)
		case seenID[id] != "":
			l.errorf("msgid", "%s: Message-ID %s also on %s", c.file, id, seenID[id])
		default:
			seenID[id] = c.file
		}
		if got := c.header.Get("X-Tidings-Campaign"); got != name {
			l.errorf("campaign", "%s: X-Tidings-Campaign %q, want %q", c.file, got, name)
		}
		match, err := eng.Resolve(r.locale)
		if err != nil {
			l.errorf("resolve", "reference engine refuses %q: %v", r.locale, err)
			continue
		}
		exp, err := eng.Render(match, render.Data{
			ID: r.id(), Email: r.email, Name: r.name, Campaign: name,
			Fields: map[string]string{"posts": r.posts, "note": r.note}, Data: map[string]any{"reregister_url": reregisterURL},
		})
		if err != nil {
			l.errorf("render", "reference render for %s: %v", rc, err)
			continue
		}
		subj, err := c.subject()
		if err != nil {
			l.errorf("subject", "%s: %v", c.file, err)
		} else if subj != exp.Subject {
			l.errorf("subject", "%s (%s, locale %q, name %q): subject\n got %q\nwant %q", c.file, rc, r.locale, r.name, subj, exp.Subject)
		}
		ps, err := c.parts()
		if err != nil {
			l.errorf("parts", "%s: %v", c.file, err)
			continue
		}
		if ps.mediaType != "multipart/alternative" || ps.text == "" || ps.html == "" {
			l.errorf("parts", "%s: %s with parts %v, want multipart/alternative with text/plain and text/html", c.file, ps.mediaType, ps.types)
			continue
		}
		if got := langOfHTML(ps.html); got != r.lang() {
			l.errorf("lang", "%s: %s (locale %q) got a message in %q, want %q", c.file, rc, r.locale, got, r.lang())
		}
		if strings.Contains(strings.ToLower(ps.html), "<script") {
			l.errorf("html", "%s: HTML holds an unescaped <script", c.file)
		}
		if r.name == scriptName && !strings.Contains(ps.html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			l.errorf("html", "%s: the name %q is not escaped as &lt;script&gt; in the HTML part", c.file, r.name)
		}
		if trimEnd(ps.html) != trimEnd(exp.HTML) {
			l.errorf("html-body", "%s (%s): HTML part differs from the rendering of the same recipient\n got %q\nwant %q", c.file, rc, ps.html, exp.HTML)
		}
		if trimEnd(ps.text) != trimEnd(exp.Text) {
			l.errorf("text-body", "%s (%s): text part differs from the rendering of the same recipient\n got %q\nwant %q", c.file, rc, ps.text, exp.Text)
		}
	}
	for _, r := range rows {
		n := perRcpt[r.id()]
		switch {
		case r.want == "sent" && n != 1:
			l.errorf("count", "%s (line %d, locale %q) received %d messages, want exactly 1", r.email, r.line, r.locale, n)
		case r.want != "sent" && n != 0 && accepted[r.id()].email == "":
			l.errorf("count", "%s row at line %d (%q, locale %q) received %d messages, want none", r.want, r.line, r.email, r.locale, n)
		}
	}
	if perRcpt["x@y.example"] > 0 {
		t.Errorf("x@y.example (injected through a name or an email) received %d messages", perRcpt["x@y.example"])
	}

	// The report reconciles with what the server received.
	rep := e.report(name)
	if int(rep.Counts["sent"]) != len(msgs) {
		t.Errorf("report counts %d sent, aiosmtpd received %d messages", rep.Counts["sent"], len(msgs))
	}
	if got := rep.Counts["sent"] + rep.Counts["refused"] + rep.Counts["invalid"]; int(got) != len(rows) {
		t.Errorf("report: sent %d + refused %d + invalid %d = %d, want the %d rows read", rep.Counts["sent"], rep.Counts["refused"], rep.Counts["invalid"], got, len(rows))
	}
	for _, o := range []string{"sent", "refused", "invalid"} {
		if int(rep.Counts[o]) != want[o] {
			t.Errorf("report: %d %s, want %d", rep.Counts[o], o, want[o])
		}
	}
	for _, o := range []string{"failed", "in-doubt", "pending", "cancelled", "skipped"} {
		if rep.Counts[o] != 0 {
			t.Errorf("report: %d %s, want 0", rep.Counts[o], o)
		}
	}
	if len(rep.Recipients) != len(rows) {
		t.Errorf("report lists %d recipients, want the %d rows", len(rep.Recipients), len(rows))
	}
	byLine := map[int]row{}
	for _, r := range rows {
		byLine[r.line] = r
	}
	for _, rr := range rep.Recipients {
		r, ok := byLine[rr.Line]
		switch {
		case !ok:
			l.errorf("report", "report row at line %d (%q) is not a row of the file", rr.Line, rr.Email)
		case rr.Outcome != r.want:
			l.errorf("report", "report: line %d (%q, locale %q) is %s (%s %s), want %s", rr.Line, rr.Email, r.locale, rr.Outcome, rr.Code, rr.Response, r.want)
		case r.want == "sent" && rr.Lang != r.lang():
			l.errorf("report", "report: line %d (%q, locale %q) matched %q, want %q", rr.Line, rr.Email, r.locale, rr.Lang, r.lang())
		}
	}
	t.Logf("%d rows: %d sent (%d messages received), %d refused, %d invalid", len(rows), rep.Counts["sent"], len(msgs), rep.Counts["refused"], rep.Counts["invalid"])
}

// trimEnd drops trailing white space, which a transfer encoding may change.
func trimEnd(s string) string { return strings.TrimRight(s, " \t\r\n") }
