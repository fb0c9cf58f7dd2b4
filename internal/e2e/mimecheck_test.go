package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/wait"
)

// rawSMTPD is testdata/rawsmtpd.py: aiosmtpd storing every message exactly
// as it came over the wire, with its envelope, in dir/new.
type rawSMTPD struct {
	port int
	dir  string
}

// startRawSMTPD starts rawsmtpd.py; eightBit says whether EHLO offers
// 8BITMIME and SMTPUTF8.
func startRawSMTPD(t *testing.T, eightBit bool) *rawSMTPD {
	t.Helper()
	needAiosmtpd(t)
	s := &rawSMTPD{dir: filepath.Join(t.TempDir(), "raw")}
	script := filepath.Join(repoRoot, "internal", "e2e", "testdata", "rawsmtpd.py")
	s.port = startServer(t, "rawsmtpd", func(port int) (*exec.Cmd, string) {
		args := []string{script, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--dir", s.dir}
		if !eightBit {
			args = append(args, "--no-8bitmime")
		}
		return exec.Command(aiosmtpdPython, args...), "rawsmtpd.tidings.test"
	})
	return s
}

// Count counts the stored messages.
func (s *rawSMTPD) Count() int {
	es, _ := os.ReadDir(filepath.Join(s.dir, "new"))
	n := 0
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".eml") {
			n++
		}
	}
	return n
}

// wireExpect is what mimecheck.py must find in one recipient's message:
// the rendering the reference engine makes for that recipient, and the
// campaign's sender.
type wireExpect struct {
	Subject     string   `json:"subject"`
	FromName    string   `json:"from_name"`
	FromAddr    string   `json:"from_addr"`
	ReplyTo     string   `json:"reply_to"`
	ToName      string   `json:"to_name"`
	Lang        string   `json:"lang"`
	Text        string   `json:"text"`
	HTML        string   `json:"html"`
	Unsubscribe []string `json:"unsubscribe"`
}

// mimeDefect is one defect mimecheck.py reports.
type mimeDefect struct {
	File string `json:"file"`
	Rcpt string `json:"rcpt"`
	What string `json:"what"`
}

// mimeCheck runs testdata/mimecheck.py on dir (rawsmtpd's layout) with the
// expectations exp and, when preview is not "", the gallery of `tidings
// preview` to compare with, and returns how many messages it read and its
// defects.
func mimeCheck(t *testing.T, dir string, exp map[string]wireExpect, preview string) (int, []mimeDefect) {
	t.Helper()
	b, err := json.Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	expFile := filepath.Join(t.TempDir(), "expect.json")
	fixture.Write(t, expFile, string(b))
	script := filepath.Join(repoRoot, "internal", "e2e", "testdata", "mimecheck.py")
	args := []string{script, dir, expFile}
	if preview != "" {
		args = append(args, preview)
	}
	cmd := exec.Command(aiosmtpdPython, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mimecheck.py %s: %v\n%s", dir, err, stderr.String())
	}
	var out struct {
		Checked int          `json:"checked"`
		Defects []mimeDefect `json:"defects"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("mimecheck.py output: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return out.Checked, out.Defects
}

// hostileNotes go into the subject (bundledCampaignDirs) and at the end of
// both bodies: long non-ASCII text, very long words, text that looks like
// an encoded-word, quotes, right-to-left text and a direction mark mixed
// with digits and Latin, emoji sequences, line breaks (CRLF, LF, CR alone),
// lines of dots (SMTP's end of data), trailing white space, a NUL (the
// row is invalid: a NUL is not text) and a direction override (the row is
// invalid: it would reorder the subject; render.CauseDirectionControl).
var hostileNotes = []string{
	"",
	" " + strings.Repeat("漢字かな交じり文", 40),
	" " + strings.Repeat("Donaudampfschifffahrtsgesellschaftskapitän", 30),
	" =?utf-8?q?=41=42?= =?ISO-8859-1?B?SGk=?= ?= =?",
	` "quoted" 'single' \back\slash <angle> (comment) ; , : @`,
	" مرحبا 123 abc שלום \u200f",
	" bidi \u202eevil\u202c",
	" 👩‍👩‍👧‍👦🏳️‍🌈🇨🇭 " + strings.Repeat("😀", 80),
	" line one\r\nBcc: x@y.example\r\n\r\nline three",
	" " + strings.Repeat("Ж", 700),
	" tab\there\u00a0nbsp\u3000ideographic\u202fnarrow",
	" " + strings.Repeat("x", 1200),
	"\n.\n..dots\n.\nend",
	" cr\ronly\rhere trailing   \nspace\t\nFrom the start",
	" nul\x00byte",
}

// hostileNames are display names that are valid in a recipients file.
var hostileNames = []string{
	`O'Brien & "Sons", Ltd.`,
	"=?utf-8?B?SGFja2Vy?=",
	"Zoë \"Zee\" Dupont 🎉",
	"ليلى حداد",
	"山田 太郎",
	"\\Back\\slash (paren) <angle> @at; semi, comma",
	strings.Repeat("Łukasz", 40),
	"Ame\u0301lie",
	"",
	strings.Repeat("a", 1200),
	"spaced   out",
	"Mr. Smith (Jr.)",
}

// TestMessagesReadByPython sends campaigns of the bundled template in every
// bundled language, with hostile names and subjects, through the binary to
// rawsmtpd.py (aiosmtpd keeping the wire bytes) with and without 8BITMIME,
// and reads every message with Python's email package (testdata/
// mimecheck.py): no parser defect, lines within 998 octets, folding, RFC
// 2047 words, subject and names decode to what the reference rendering and
// the campaign say, Content-Language and the body's language are the
// recipient's, both parts present in UTF-8 and decoding to the rendering,
// transfer encodings legal for the server, unique valid Message-IDs, a Date,
// List-Unsubscribe. It then breaks copies of one received message in known
// ways and checks that the checker reports each: it can fail.
func TestMessagesReadByPython(t *testing.T) {
	t.Parallel()
	for _, eightBit := range []bool{true, false} {
		name := "8BITMIME"
		if !eightBit {
			name = "7-bit server"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			messagesReadByPython(t, eightBit)
		})
	}
}

const wireFrom = `"Altéa \"Zürich\" =?utf-8?q?x?= 社区 🎉" <community@altea.example>`

func messagesReadByPython(t *testing.T, eightBit bool) {
	srv := startRawSMTPD(t, eightBit)
	e := newEnv(t, srv.port, 2)
	// One campaign unsubscribes by https (with RFC 8058's one-click
	// header), the other by mailto (without it).
	campaign, unsub := "wire-8bit", "https://altea.example/unsubscribe?id="
	if !eightBit {
		campaign, unsub = "wire-7bit", "mailto:unsubscribe@altea.example?subject="
	}
	cdir := filepath.Join(e.dir, "campaign")
	tdir, ldir := bundledCampaignDirs(t, cdir, true)
	// The note also ends both bodies: long lines and words, right-to-left
	// text and line breaks in the parts.
	for _, f := range []string{"text.tmpl", "html.tmpl"} {
		p := filepath.Join(tdir, "welcome", f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fixture.Write(t, p, string(b)+"{{.Fields.note}}\n")
	}

	var rows []row
	for i, loc := range acceptedLocales {
		for k := range 3 {
			n := i*3 + k
			rows = append(rows, row{
				email:  fmt.Sprintf("wire%03d@e2e.example", n),
				name:   hostileNames[n%len(hostileNames)],
				locale: loc,
				posts:  fmt.Sprint(n % 7),
				note:   hostileNotes[n%len(hostileNotes)],
				want:   "sent",
			})
			if strings.Contains(rows[len(rows)-1].note, "\x00") || strings.ContainsRune(rows[len(rows)-1].note, '\u202e') {
				rows[len(rows)-1].want = "invalid" // a NUL is not text; an override would reorder the subject
			}
		}
	}
	// A local part that is not ASCII needs SMTPUTF8 (the 7-bit server
	// offers none: the recipient fails); a domain that is not ASCII goes
	// as its A-label.
	utf8Want := "sent"
	if !eightBit {
		utf8Want = "failed"
	}
	rows = append(rows, row{email: "jürgen@e2e.example", name: "Jürgen", locale: "de", posts: "1", want: utf8Want},
		row{email: "user@bücher.example", name: "Bücherwurm", locale: "de", posts: "2", want: "sent"},
		row{email: "badutf8@e2e.example", name: "Bad\xffByte", locale: "fr", posts: "2", want: "invalid"},
		row{email: "badnote@e2e.example", name: "Bad Note", locale: "ar", posts: "2", note: " \xfe\xff\xc3", want: "invalid"})
	rows = append(rows, row{email: "crlf@e2e.example", name: "Eve\r\nBcc: x@y.example", locale: "en", posts: "1", want: "invalid"},
		row{email: "lf@e2e.example", name: "Eve\nX-Evil: 1", locale: "de", posts: "1", want: "invalid"})
	y := fmt.Sprintf(`name: %s
environment: %s
template: welcome
templates_dir: templates
locales_dir: locales
default_locale: en
recipients: recipients.csv
from: '%s'
reply_to: support@altea.example
list_unsubscribe: "%s{id}"
batches:
  canary_per_locale: 0
  size: 1000
  interval: 0s
  approve_after_canary: false
rate: unlimited
auto_pause:
  error_rate: 0.5
  window: 200
data:
  reregister_url: "%s"
`, campaign, envName, wireFrom, unsub, reregisterURL)
	file := filepath.Join(cdir, "campaign.yaml")
	fixture.Write(t, file, y)
	fixture.Write(t, filepath.Join(cdir, "recipients.csv"), csvOf(t, rows))

	e.mustRun("send", file, "--env", envName, "--skip-refused", "--skip-invalid")
	w := e.startWorker("worker", 2)
	st := e.waitState(campaign, "done", 3*time.Minute, w)
	sent := int(st.Counts["sent"])
	wait.For(t, 20*time.Second, "rawsmtpd to have stored every sent message", func() bool { return srv.Count() >= sent })

	rep := e.report(campaign)
	outcome := map[string]string{}
	for _, rr := range rep.Recipients {
		outcome[strings.ToLower(rr.Email)] = rr.Outcome
	}
	eng, err := render.New(render.Config{
		Templates: os.DirFS(tdir), Locales: os.DirFS(ldir), Template: "welcome", DefaultLocale: "en",
		Policy: render.Policy{MissingLocale: "refuse"},
	})
	if err != nil {
		t.Fatalf("build the reference engine: %v", err)
	}
	from, err := mail.ParseAddress(wireFrom)
	if err != nil {
		t.Fatal(err)
	}
	exp := map[string]wireExpect{}
	for _, r := range rows {
		if got := outcome[r.id()]; got != r.want {
			t.Errorf("%s (name %q, locale %q): outcome %q, want %q", r.email, r.name, r.locale, got, r.want)
		}
		if r.want != "sent" {
			continue
		}
		match, err := eng.Resolve(r.locale)
		if err != nil {
			t.Fatalf("reference engine refuses %q: %v", r.locale, err)
		}
		out, err := eng.Render(match, render.Data{
			ID: r.id(), Email: r.email, Name: r.name, Campaign: campaign,
			Fields: map[string]string{"posts": r.posts, "note": r.note}, Data: map[string]any{"reregister_url": reregisterURL},
		})
		if err != nil {
			t.Fatalf("reference render for %s: %v", r.email, err)
		}
		exp[r.id()] = wireExpect{
			Subject: out.Subject, FromName: from.Name, FromAddr: from.Address, ReplyTo: "support@altea.example",
			ToName: r.name, Lang: r.lang(), Text: out.Text, HTML: out.HTML,
			Unsubscribe: []string{unsub + r.id()},
		}
	}
	if sent != len(exp) {
		t.Errorf("status says %d sent, want the %d valid rows", sent, len(exp))
	}

	// QA's gallery of the same campaign: every language's .eml is read too,
	// and each message's text must carry its language's preview.
	gallery := filepath.Join(e.dir, "gallery")
	e.mustRun("preview", file, "--out", gallery)
	checked, defects := mimeCheck(t, srv.dir, exp, gallery)
	if checked != sent || checked != len(exp) {
		t.Errorf("mimecheck.py read %d messages; %d were sent to %d recipients", checked, sent, len(exp))
	}
	l := &limit{t: t}
	for _, d := range defects {
		l.errorf("defect", "%s (%s): %s", d.File, d.Rcpt, d.What)
	}
	t.Logf("mimecheck.py read %d messages from a server %s 8BITMIME: %d defects", checked, map[bool]string{true: "with", false: "without"}[eightBit], len(defects))
	goReads(t, srv.dir, exp, l)
	if checked > 0 {
		checkerCatches(t, srv.dir, exp, gallery, eightBit)
	}
}

// breakage is one way of breaking a good message, and a piece of what the
// checker must then say.
type breakage struct {
	name, want string
	raw        func([]byte) []byte
	meta       func(map[string]any)
}

// checkerCatches copies the first message in dir into a scratch directory,
// once as it is and once per breakage, runs mimecheck.py on them and
// checks that the copy as it is has no defect, other than its Message-ID
// being on the other copies, and that each broken copy has the defect
// named. Last, it checks the message as it is against a copy of gallery
// whose preview of the message's language is another language's.
func checkerCatches(t *testing.T, dir string, exp map[string]wireExpect, gallery string, eightBit bool) {
	t.Helper()
	news := filepath.Join(dir, "new")
	es, err := os.ReadDir(news)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".eml") {
			first = strings.TrimSuffix(e.Name(), ".eml")
			break
		}
	}
	raw, err := os.ReadFile(filepath.Join(news, first+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	metaRaw, err := os.ReadFile(filepath.Join(news, first+".json"))
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("the message holds no %q to break", old)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	headerEnd := func(b []byte) int { return bytes.Index(b, []byte("\r\n\r\n")) }
	breakages := []breakage{
		{name: "asis"},
		{name: "bare-lf", want: "bare LF", raw: func(b []byte) []byte {
			i := headerEnd(b) + 4
			j := bytes.Index(b[i:], []byte("\r\n"))
			return append(append(append([]byte{}, b[:i+j]...), '\n'), b[i+j+2:]...)
		}},
		{name: "long-header", want: "over 998", raw: replace("\r\nX-Tidings-Campaign: ", "\r\nX-Long: "+strings.Repeat("x", 1000)+"\r\nX-Tidings-Campaign: ")},
		{name: "empty-fold", want: "white space only", raw: replace("\r\nX-Tidings-Campaign: ", "\r\nX-Tidings-Campaign:\r\n \r\n ")},
		{name: "lang", want: "Content-Language", raw: func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\nContent-Language: "))
			if i < 0 {
				t.Fatal("the message has no Content-Language to break")
			}
			j := i + len("\r\nContent-Language: ")
			return append(append(append([]byte{}, b[:j]...), "xx"...), b[j+bytes.Index(b[j:], []byte("\r\n")):]...)
		}},
		{name: "charset", want: "charset", raw: replace("charset=UTF-8", "charset=iso-8859-1")},
		{name: "subject", want: "Subject decodes to", raw: replace("\r\nSubject: ", "\r\nSubject: Re: ")},
		{name: "glued-word", want: "glued to the text before it", raw: replace("\r\nSubject: =?", "\r\nSubject: x=?")},
		{name: "second-to", want: "2 to headers", raw: replace("\r\nSubject: ", "\r\nTo: x@y.example\r\nSubject: ")},
		{name: "msgid", want: "not <dot-atom@dot-atom>", raw: replace("\r\nMessage-ID: <", "\r\nMessage-ID: <a b")},
		{name: "unsubscribe", want: "List-Unsubscribe", raw: replace("\r\nList-Unsubscribe: <", "\r\nList-Unsubscribe: ")},
		{name: "nbsp-7bit", want: "8-bit byte", raw: replace("\r\nX-Tidings-Campaign: ", "\r\nX-Note: \xc2\xa0\r\nX-Tidings-Campaign: "),
			meta: func(m map[string]any) { m["offered_8bitmime"] = false }},
		{name: "body-8bitmime", want: "BODY=8BITMIME", meta: func(m map[string]any) {
			m["offered_8bitmime"], m["mail_options"] = false, []string{"BODY=8BITMIME"}
		}},
	}
	scratch := filepath.Join(t.TempDir(), "broken")
	for _, b := range breakages {
		r := raw
		if b.raw != nil {
			r = b.raw(append([]byte{}, raw...))
		}
		var m map[string]any
		if err := json.Unmarshal(metaRaw, &m); err != nil {
			t.Fatal(err)
		}
		if b.meta != nil {
			b.meta(m)
		}
		mb, _ := json.Marshal(m)
		fixture.Write(t, filepath.Join(scratch, "new", b.name+".eml"), string(r))
		fixture.Write(t, filepath.Join(scratch, "new", b.name+".json"), string(mb))
	}
	_, defects := mimeCheck(t, scratch, exp, "")
	per := map[string][]string{}
	for _, d := range defects {
		per[strings.TrimSuffix(d.File, ".eml")] = append(per[strings.TrimSuffix(d.File, ".eml")], d.What)
	}
	for _, what := range per["asis"] {
		t.Errorf("the message as received (%s, server with 8BITMIME %t): %s", first, eightBit, what)
	}
	for _, b := range breakages[1:] {
		found := false
		for _, what := range per[b.name] {
			found = found || strings.Contains(what, b.want)
		}
		if !found {
			t.Errorf("mimecheck.py does not catch the %s breakage (want a defect with %q); it said %q", b.name, b.want, per[b.name])
		}
	}

	lang, other := exp[recipientOf(t, filepath.Join(news, first+".json"))].Lang, "ja"
	if lang == other {
		other = "en"
	}
	swapped := filepath.Join(t.TempDir(), "swapped")
	copyTree(t, gallery, swapped)
	b, err := os.ReadFile(filepath.Join(gallery, other+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	fixture.Write(t, filepath.Join(swapped, lang+".eml"), string(b))
	one := filepath.Join(t.TempDir(), "one")
	fixture.Write(t, filepath.Join(one, "new", "asis.eml"), string(raw))
	fixture.Write(t, filepath.Join(one, "new", "asis.json"), string(metaRaw))
	_, defects = mimeCheck(t, one, exp, swapped)
	var said []string
	for _, d := range defects {
		if d.File == "asis.eml" && strings.Contains(d.What, "lines of the "+lang+" preview") {
			return
		}
		said = append(said, d.File+": "+d.What)
	}
	t.Errorf("mimecheck.py does not see that a %s message is not in the language of a %s preview; it said %q", lang, other, said)
}

// aLabels is the wire form of the recipients' addresses whose domain is not
// ASCII: the domain's A-label (IDNA; "bücher" is RFC 3492's own example).
var aLabels = map[string]string{"user@xn--bcher-kva.example": "user@bücher.example"}

// recipientOf returns the one envelope recipient in rawsmtpd's sidecar
// file of a message, lower-cased, with its domain as the recipients file
// wrote it (aLabels).
func recipientOf(t *testing.T, sidecar string) string {
	t.Helper()
	var meta struct {
		Rcpts []string `json:"rcpts"`
	}
	b, err := os.ReadFile(sidecar)
	if err == nil {
		err = json.Unmarshal(b, &meta)
	}
	if err != nil || len(meta.Rcpts) != 1 {
		t.Fatalf("%s: %v, recipients %q; want one", sidecar, err, meta.Rcpts)
	}
	rc := strings.ToLower(meta.Rcpts[0])
	if u, ok := aLabels[rc]; ok {
		return u
	}
	return rc
}

// goReads reads every message in dir (rawsmtpd's layout) a second time,
// with Go's net/mail, mime.WordDecoder and mime/multipart (parseCaptured):
// the subject, the To name, Content-Language and both parts must be what
// exp says.
func goReads(t *testing.T, dir string, exp map[string]wireExpect, l *limit) {
	t.Helper()
	news := filepath.Join(dir, "new")
	es, err := os.ReadDir(news)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.NewReplacer("\r\n", "\n", "\r", "\n")
	read := 0
	for _, e := range es {
		name, ok := strings.CutSuffix(e.Name(), ".eml")
		if !ok {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(news, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		rc := recipientOf(t, filepath.Join(news, name+".json"))
		x, ok := exp[rc]
		c := parseCaptured(e.Name(), raw)
		switch {
		case !ok:
			l.errorf("go", "%s: a message to %q, who is not an expected recipient", c.file, rc)
			continue
		case c.err != nil:
			l.errorf("go", "%s: net/mail: %v", c.file, c.err)
			continue
		}
		read++
		if subj, err := c.subject(); err != nil || subj != x.Subject {
			l.errorf("go", "%s: Go reads the subject as %q (%v), want %q", c.file, subj, err, x.Subject)
		}
		if to, err := c.header.AddressList("To"); err != nil || len(to) != 1 || to[0].Name != x.ToName {
			l.errorf("go", "%s: Go reads To %q as %v (%v), want the name %q", c.file, c.header.Get("To"), to, err, x.ToName)
		}
		if got := c.header.Get("Content-Language"); got != x.Lang {
			l.errorf("go", "%s: Content-Language %q, want %q", c.file, got, x.Lang)
		}
		ps, err := c.parts()
		if err != nil {
			l.errorf("go", "%s: %v", c.file, err)
			continue
		}
		if ps.mediaType != "multipart/alternative" || strings.Join(ps.types, ",") != "text/plain,text/html" {
			l.errorf("go", "%s: %s with parts %v, want multipart/alternative of text/plain and text/html", c.file, ps.mediaType, ps.types)
		}
		if trimEnd(lines.Replace(ps.text)) != trimEnd(lines.Replace(x.Text)) || trimEnd(lines.Replace(ps.html)) != trimEnd(lines.Replace(x.HTML)) {
			l.errorf("go", "%s: Go decodes parts that differ from the rendering", c.file)
		}
	}
	if read != len(exp) {
		t.Errorf("Go read %d messages, want one for each of the %d recipients sent to", read, len(exp))
	}
}
