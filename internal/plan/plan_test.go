package plan

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/userfile"
)

func engine(t testing.TB, policy render.Policy) *render.Engine {
	t.Helper()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte(`{{t "hello" .}}`)},
		"m/html.tmpl":    {Data: []byte(`<p>{{t "hello" .}}</p>`)},
	}
	loc := fstest.MapFS{}
	for lang, words := range map[string][2]string{
		"en": {"News", "Hello {{.Name}}"},
		"de": {"Neuigkeiten", "Hallo {{.Name}}"},
		"fr": {"Nouvelles", "Bonjour {{.Name}}"},
		"ja": {"お知らせ", "{{.Name}}さん、こんにちは"},
		"ar": {"أخبار", "مرحبا {{.Name}}"},
	} {
		loc[lang+".toml"] = &fstest.MapFile{Data: fmt.Appendf(nil, "[subject]\nother = %q\n[hello]\nother = %q\n", words[0], words[1])}
	}
	loc["it.toml"] = &fstest.MapFile{Data: []byte("[subject]\nother = \"Notizie\"\n")}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en", Policy: policy})
	if err != nil {
		t.Fatalf("render.New: %v", err)
	}
	return e
}

// postsEngine is an English-only engine whose text template uses the
// column posts: a row without it cannot be rendered.
func postsEngine(t testing.TB) *render.Engine {
	t.Helper()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte(`{{t "hello" .}} {{.Fields.posts}}`)},
		"m/html.tmpl":    {Data: []byte(`<p>{{t "hello" .}}</p>`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[subject]\nother = \"News\"\n[hello]\nother = \"Hello\"\n")}}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func testCampaign(t testing.TB, extra string) *campaign.Campaign {
	t.Helper()
	c, err := campaign.Parse([]byte("name: t\nenvironment: staging\ntemplate: m\nrecipients: testdata/recipients.csv\nfrom: a@example.com\n"+extra), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func staging(t testing.TB) *environment.Environment {
	t.Helper()
	env, err := environment.Load(nil, "", "staging", func(k string) string {
		if k == "TIDINGS_ALLOW" {
			return "example.com,example.jp"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func runFile(t *testing.T, in Input, file string) (*Summary, []Accepted) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in.Recipients, in.RecipientsName = f, file
	var got []Accepted
	s, err := Run(context.Background(), in, func(a Accepted) error {
		got = append(got, a)
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.Rows != s.Accepted+s.Refused+s.Invalid {
		t.Errorf("counts do not reconcile: rows %d != %d + %d + %d", s.Rows, s.Accepted, s.Refused, s.Invalid)
	}
	if len(got) != s.Accepted || len(s.Rejects) != s.Refused+s.Invalid {
		t.Errorf("emitted %d, accepted %d; rejects %d, refused+invalid %d", len(got), s.Accepted, len(s.Rejects), s.Refused+s.Invalid)
	}
	var perLocale int
	for _, l := range s.PerLocale {
		perLocale += l.Accepted + l.Refused
	}
	if perLocale != s.Accepted+s.Refused {
		t.Errorf("per-locale lines sum to %d, want %d", perLocale, s.Accepted+s.Refused)
	}
	return s, got
}

func TestRunCSV(t *testing.T) {
	t.Parallel()
	c := testCampaign(t, "locale_policy: {aliases: {gsw: de}}\nbatches: {canary_per_locale: 1, size: 1, interval: 10s}\nrate: 2/s\n")
	s, accepted := runFile(t, Input{Campaign: c, Engine: engine(t, render.Policy{Aliases: c.LocalePolicy.Aliases}), Env: staging(t)}, "testdata/recipients.csv")

	if s.Rows != 17 || s.Accepted != 7 || s.Refused != 5 || s.Invalid != 5 {
		t.Errorf("rows %d accepted %d refused %d invalid %d", s.Rows, s.Accepted, s.Refused, s.Invalid)
	}
	type acc struct {
		line        int
		lang, via   string
		batch       int
		canary      bool
		name, field string
	}
	want := []acc{
		{2, "de", render.ViaExact, 0, true, "Anna Müller", `Grüße, "quoted"`},
		{3, "fr", render.ViaMatch, 0, true, "Jean-Loïc", "multi\nline note"},
		{5, "ja", render.ViaExact, 0, true, "田中 花子", "東京 🗼"},
		{6, "ar", render.ViaExact, 0, true, "ليلى", "مرحبا"},
		{7, "en", render.ViaExact, 0, true, "Nguye\u0302\u0303n", "combining"},
		{8, "de", render.ViaAlias, 1, false, "Heidi", "alias"},
		{17, "de", render.ViaMatch, 2, false, "Zoë 👩‍👩‍👧", "zwj emoji"},
	}
	if len(accepted) != len(want) {
		t.Fatalf("accepted %d rows, want %d: %+v", len(accepted), len(want), accepted)
	}
	for i, w := range want {
		a := accepted[i]
		got := acc{a.Line, a.Match.Lang, a.Match.Via, a.Batch, a.Canary, a.Name, a.Fields["note"]}
		if got != w {
			t.Errorf("accepted[%d] = %+v, want %+v", i, got, w)
		}
	}

	wantRejects := []struct {
		line           int
		outcome, code  string
		field          string
		reasonContains string
	}{
		{9, OutcomeRefused, render.CodeIncomplete, "locale", "hello"},
		{10, OutcomeRefused, render.CodeNotCovered, "locale", "pt"},
		{11, OutcomeRefused, render.CodeEmpty, "locale", "empty"},
		{12, OutcomeInvalid, "invalid-email", "email", "not-an-email"},
		{13, OutcomeInvalid, "duplicate-email", "email", "line 2"},
		{14, OutcomeInvalid, "duplicate-id", "id", "line 2"},
		{15, OutcomeInvalid, "control-character", "name", "U+000A"},
		{18, OutcomeRefused, "not-allowed-in-staging", "email", "outsider@elsewhere.example"},
		{19, OutcomeRefused, render.CodeUnparsable, "locale", "xx-garbage!!"},
		{20, OutcomeInvalid, "bad-row", "", "fields"},
	}
	if len(s.Rejects) != len(wantRejects) {
		t.Fatalf("rejects = %+v", s.Rejects)
	}
	for i, w := range wantRejects {
		r := s.Rejects[i]
		if r.Line != w.line || r.Outcome != w.outcome || r.Code != w.code || r.Field != w.field || !strings.Contains(r.Reason, w.reasonContains) {
			t.Errorf("reject[%d] = %+v, want %+v", i, r, w)
		}
	}

	b := s.Batches
	if b.Canary != 5 || b.Regular != 2 || b.Count != 2 || b.Total() != 3 || b.CanaryPerLang["de"] != 1 {
		t.Errorf("batches = %+v", b)
	}
	// 7 at 2/s = 3.5s, plus 10s before each of the 2 regular batches.
	if s.Estimate != 23500*time.Millisecond {
		t.Errorf("estimate = %s", s.Estimate)
	}
	if strings.Join(s.Columns, ",") != "posts,note" {
		t.Errorf("columns = %q", s.Columns)
	}
}

func TestRunMissingLocaleAndNoEnv(t *testing.T) {
	t.Parallel()
	c := testCampaign(t, "locale_policy: {missing_locale: en}\nbatches: {size: 3, interval: 0s}\n")
	eng := engine(t, render.Policy{MissingLocale: "en"})
	s, accepted := runFile(t, Input{Campaign: c, Engine: eng}, "testdata/recipients.csv")
	// No allowlist: outsider accepted; gsw has no alias: refused; the empty
	// locale maps to en, the unparsable one (it may name a language) is
	// refused.
	if s.Accepted != 8 || s.Refused != 4 || s.Invalid != 5 {
		t.Errorf("accepted %d refused %d invalid %d: %+v", s.Accepted, s.Refused, s.Invalid, s.Rejects)
	}
	for _, a := range accepted {
		if a.Canary || a.Batch != (a.Batch) || a.Batch > 2 {
			t.Errorf("unexpected batch for %+v", a)
		}
	}
	if accepted[0].Batch != 0 || accepted[3].Batch != 1 || accepted[7].Batch != 2 {
		t.Errorf("regular batches without canary start at 0: %d %d %d", accepted[0].Batch, accepted[3].Batch, accepted[7].Batch)
	}
	if s.Batches.Canary != 0 || s.Batches.Count != 3 || s.Estimate != 0 {
		t.Errorf("batches = %+v estimate %s", s.Batches, s.Estimate)
	}
	var missing int
	for _, l := range s.PerLocale {
		if l.Via == render.ViaMissingLocale {
			missing += l.Accepted
		}
	}
	if missing != 1 {
		t.Errorf("missing_locale rows = %d, want 1", missing)
	}
}

func TestRunJSONL(t *testing.T) {
	t.Parallel()
	c := testCampaign(t, "")
	s, accepted := runFile(t, Input{Campaign: c, Engine: engine(t, render.Policy{}), Env: staging(t)}, "testdata/recipients.jsonl")
	if s.Rows != 6 || s.Accepted != 3 || s.Refused != 1 || s.Invalid != 2 {
		t.Errorf("summary = %+v", s)
	}
	if accepted[1].Fields["city"] != "東京" || accepted[1].Match.Lang != "ja" {
		t.Errorf("accepted = %+v", accepted[1])
	}
}

// TestRunRendersEveryRow: a row the template cannot be rendered with (here
// a column the template uses is missing) is invalid at plan time, with its
// line, instead of being refused by the worker after the plan accepted it.
func TestRunRendersEveryRow(t *testing.T) {
	t.Parallel()
	e := postsEngine(t)
	in := Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.jsonl", Format: recipient.FormatJSONL,
		Recipients: strings.NewReader(`{"email":"a@example.com","locale":"en","posts":"3"}` + "\n" + `{"email":"b@example.com","locale":"en"}` + "\n")}
	s, err := Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Accepted != 1 || s.Invalid != 1 || len(s.Rejects) != 1 {
		t.Fatalf("summary = %+v", s)
	}
	if r := s.Rejects[0]; r.Line != 2 || r.Code != CodeRender || !strings.Contains(r.Reason, "posts") {
		t.Errorf("reject = %+v, want line 2, code %s, naming posts", r, CodeRender)
	}
	// A second run over the same bytes with the first as Prior renders
	// nothing and comes to the same summary.
	in.Recipients = strings.NewReader(`{"email":"a@example.com","locale":"en","posts":"3"}` + "\n" + `{"email":"b@example.com","locale":"en"}` + "\n")
	in.Prior = s
	again, err := Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Accepted != 1 || again.Invalid != 1 || again.Rejects[0] != s.Rejects[0] {
		t.Errorf("second run with Prior = %+v, want the first's %+v", again, s)
	}
}

// TestRunChecksHoistedCounts: with templates that cannot fail once their
// messages are evaluated (render.Engine.Check does not execute them), a
// row whose plural count is missing or not a number is still invalid, with
// its line.
func TestRunChecksHoistedCounts(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte(`{{tc "posts" .Fields.posts .}} {{.Name}}`)},
		"m/html.tmpl":    {Data: []byte(`<p title="{{.Name}}">{{tc "posts" .Fields.posts .}}</p>`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[subject]\nother = \"News\"\n[posts]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n")}}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	rows := `{"email":"a@example.com","locale":"en","posts":"3"}
{"email":"b@example.com","locale":"en","posts":"x"}
{"email":"c@example.com","locale":"en"}
{"email":"d@example.com","locale":"en","posts":"1"}
`
	in := Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.jsonl", Format: recipient.FormatJSONL, Recipients: strings.NewReader(rows)}
	s, err := Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Accepted != 2 || s.Invalid != 2 || len(s.Rejects) != 2 {
		t.Fatalf("summary = %+v, want 2 accepted and 2 invalid", s)
	}
	for i, want := range []struct {
		line int
		text string
	}{{2, `"x"`}, {3, "posts"}} {
		if r := s.Rejects[i]; r.Line != want.line || r.Code != CodeRender || !strings.Contains(r.Reason, want.text) {
			t.Errorf("reject %d = %+v, want line %d, code %s, naming %s", i, r, want.line, CodeRender, want.text)
		}
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	c := testCampaign(t, "")
	eng := engine(t, render.Policy{})
	_, err := Run(context.Background(), Input{Campaign: c, Engine: eng, Recipients: strings.NewReader("mail,lang\n"), RecipientsName: "r.csv"}, nil)
	if err == nil || !strings.Contains(err.Error(), "r.csv:1: the header lacks the column(s) email, locale") {
		t.Errorf("header error = %v", err)
	}
	stop := errors.New("queue full")
	_, err = Run(context.Background(), Input{Campaign: c, Engine: eng, Recipients: strings.NewReader("email,locale\na@example.com,de\n"), RecipientsName: "r.csv"},
		func(Accepted) error { return stop })
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("emit error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, Input{Campaign: c, Engine: eng, Recipients: strings.NewReader("email,locale\n"), RecipientsName: "r.csv"}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run = %v", err)
	}
}

func TestWriteTextAndRejects(t *testing.T) {
	t.Parallel()
	c := testCampaign(t, "locale_policy: {aliases: {gsw: de}}\nbatches: {canary_per_locale: 1, size: 1, interval: 10s, approve_after_canary: true}\nrate: 2/s\n")
	s, _ := runFile(t, Input{Campaign: c, Engine: engine(t, render.Policy{Aliases: c.LocalePolicy.Aliases}), Env: staging(t)}, "testdata/recipients.csv")
	var text bytes.Buffer
	if err := s.WriteText(&text, 3); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{
		"Campaign t in environment staging, recipients testdata/recipients.csv",
		"17 rows: 7 accepted, 5 refused, 5 invalid",
		"LOCALE", "gsw", "alias",
		"(empty)", "empty locale",
		"first 3 of 10",
		"testdata/recipients.csv:9: locale: incomplete",
		"canary: 5 recipients (ar 1, de 1, en 1, fr 1, ja 1)",
		"then wait until someone approves the canary",
		"then 2 regular batches of 1, one every 10s",
		"Estimate: 23.5s at 2/s, plus the wait for approval",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ":12:") {
		t.Errorf("text shows more than 3 rejects:\n%s", out)
	}

	var buf bytes.Buffer
	if err := s.WriteRejectsCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 11 || strings.Join(recs[0], ",") != "line,id,email,locale,outcome,code,field,reason,campaign,env" {
		t.Fatalf("rejects csv = %q", recs)
	}
	if recs[7][0] != "15" || recs[7][5] != "control-character" {
		t.Errorf("row = %q", recs[7])
	}

	unlimited := *s
	unlimited.Rate = campaign.Rate{}
	text.Reset()
	_ = unlimited.WriteText(&text, 0)
	if !strings.Contains(text.String(), "rate unlimited, so the duration is unknown") {
		t.Errorf("unlimited text:\n%s", text.String())
	}
	// --show 0: the count, no header announcing rows that never follow.
	if want := "Refused and invalid rows: 10, none shown here (all of them go to the rejects file)\n"; !strings.Contains(text.String(), want) || strings.Contains(text.String(), "first 0 of") {
		t.Errorf("--show 0 text lacks %q:\n%s", want, text.String())
	}
}

func BenchmarkRun100k(b *testing.B) {
	const rows = 100_000
	data := benchRows(rows)
	c := testCampaign(b, "batches: {canary_per_locale: 2}\nrate: 1000/s\n")
	eng := engine(b, render.Policy{})
	env := staging(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s, err := Run(context.Background(), Input{Campaign: c, Engine: eng, Env: env, Recipients: strings.NewReader(data), RecipientsName: "b.csv"}, func(Accepted) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		if s.Rows != rows {
			b.Fatalf("rows %d", s.Rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// TestRunRendersAheadInOrder: over several read-ahead blocks (rows rendered
// in parallel), accepted rows come out in file order and each row the
// template cannot be rendered with is invalid with its own line.
func TestRunRendersAheadInOrder(t *testing.T) {
	t.Parallel()
	e := postsEngine(t)
	const n = 3*aheadBlock + 17
	var b strings.Builder
	wantBad := map[int]bool{}
	for i := range n {
		if i%97 == 5 {
			fmt.Fprintf(&b, `{"email":"u%d@example.com","locale":"en"}`+"\n", i)
			wantBad[i+1] = true // JSONL lines count from 1
		} else {
			fmt.Fprintf(&b, `{"email":"u%d@example.com","locale":"en","posts":"%d"}`+"\n", i, i)
		}
	}
	in := Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.jsonl", Format: recipient.FormatJSONL, Recipients: strings.NewReader(b.String())}
	var lines []int
	s, err := Run(context.Background(), in, func(a Accepted) error { lines = append(lines, a.Line); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != n || s.Invalid != len(wantBad) || s.Accepted != n-len(wantBad) {
		t.Fatalf("summary: rows %d, accepted %d, invalid %d; want %d, %d, %d", s.Rows, s.Accepted, s.Invalid, n, n-len(wantBad), len(wantBad))
	}
	if !slices.IsSorted(lines) || len(lines) != s.Accepted {
		t.Errorf("accepted rows out of file order or missing: %d of %d", len(lines), s.Accepted)
	}
	for _, r := range s.Rejects {
		if !wantBad[r.Line] || r.Code != CodeRender || !strings.Contains(r.Reason, "posts") {
			t.Errorf("reject %+v: want only the rows without posts, as render errors", r)
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestReadAheadHoldsAtMostAheadBytes: rows near recipient.MaxRowBytes each
// are read ahead a few at a time, not aheadBlock at a time: when the first
// row comes out, no more than aheadBytes of the file (and a row and the
// reader's buffer beyond it) has been read. Without the cap, all 40 MB had.
func TestReadAheadHoldsAtMostAheadBytes(t *testing.T) {
	t.Parallel()
	e := postsEngine(t)
	const n, size = 40, 1_000_000
	note := strings.Repeat("x", size)
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"email":"u%d@example.com","locale":"en","posts":"1","note":"%s"}`+"\n", i, note)
	}
	cr := &countingReader{r: strings.NewReader(b.String())}
	in := Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.jsonl", Format: recipient.FormatJSONL, Recipients: cr}
	first := int64(-1)
	s, err := Run(context.Background(), in, func(a Accepted) error {
		if first < 0 {
			first = cr.n.Load()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Accepted != n {
		t.Fatalf("accepted %d of %d rows", s.Accepted, n)
	}
	if most := int64(aheadBytes + 2*recipient.MaxRowBytes); first > most {
		t.Errorf("%d bytes of the file read before the first row came out, want at most %d: the read-ahead holds every row of a block, whatever their size", first, most)
	}
}

func TestAcceptedPerLanguage(t *testing.T) {
	t.Parallel()
	s := &Summary{PerLocale: []LocaleLine{
		{Requested: "de", Lang: "de", Accepted: 2}, {Requested: "de-AT", Lang: "de", Accepted: 1},
		{Requested: "fr", Lang: "fr", Accepted: 4}, {Requested: "xx", Refused: 3},
	}}
	got := s.AcceptedPerLanguage()
	if len(got) != 3 || got["de"] != 3 || got["fr"] != 4 || got[""] != 0 {
		t.Errorf("AcceptedPerLanguage = %v", got)
	}
}

func TestWriteRejectsFile(t *testing.T) {
	t.Parallel()
	s := &Summary{Campaign: "c1", Rejects: []Reject{{Line: 3, Email: "x@example.com", Outcome: "invalid", Reason: "bad"}}}
	path := filepath.Join(t.TempDir(), "r.csv")
	if got, err := s.WriteRejectsFile(t.Context(), path); err != nil || got != path {
		t.Fatalf("WriteRejectsFile(t.Context(), %s) = %s, %v", path, got, err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "line,id,email,locale,outcome,code,field,reason,campaign,env\n3,,x@example.com,,invalid,,,bad,c1,\n" {
		t.Errorf("file %q, %v", b, err)
	}
	// A directory that does not exist: the error names the path as given
	// and the directory (userfile.Error).
	nodir := filepath.Join(t.TempDir(), "no", "dir.csv")
	var ue *userfile.Error
	if _, err := s.WriteRejectsFile(t.Context(), nodir); !errors.As(err, &ue) || ue.Problem != userfile.NoDir || ue.Path != nodir {
		t.Errorf("unwritable path: %v, want a userfile.Error (NoDir) naming %s", err, nodir)
	}
	// A row made to run in a spreadsheet does not.
	s.Rejects = []Reject{{Line: 4, ID: "=1+1", Email: `=HYPERLINK("http://evil.example")`, Locale: "@x", Outcome: "invalid", Field: "email", Reason: "-bad"}}
	if _, err := s.WriteRejectsFile(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `4,'=1+1,"'=HYPERLINK(""http://evil.example"")",'@x,invalid,,email,'-bad`) {
		t.Errorf("rejects file %q: want every cell from the file defused", b)
	}
	// A later plan with nothing rejected removes the earlier plan's file
	// (its rows are no longer true), and no other file.
	s.Rejects = nil
	if got, err := s.WriteRejectsFile(t.Context(), path); err != nil || got != "" {
		t.Errorf("with no rejects: %q, %v; want nothing written", got, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the earlier plan's rejects file: %v, want it removed", err)
	}
	other := filepath.Join(t.TempDir(), "mine.csv")
	if err := os.WriteFile(other, []byte("name,email\nada,ada@x.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteRejectsFile(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is no rejects file: %v, want it kept", err)
	}
}

// TestRejectsFileNeverReplacesAnotherFile: a rejects file is written over
// a rejects file (this campaign's, another's, an earlier version's without
// the campaign column) or an empty file, never over another file: --rejects
// naming the recipients file (or the campaign file, a report) replaced it
// with the rejected rows, and every other row was lost. It is refused,
// naming the path and its first line, and the file is left as it was.
func TestRejectsFileNeverReplacesAnotherFile(t *testing.T) {
	t.Parallel()
	s := &Summary{Campaign: "c1", Rejects: []Reject{{Line: 3, Email: "x@example.com", Outcome: "invalid", Reason: "bad"}}}
	for _, tt := range []struct {
		refused       bool
		name, content string
	}{
		{true, "recipients file", "email,locale,name\nada@x.example,en,Ada\nx@example.com,en,X\n"},
		{true, "recipients file with a BOM", "\ufeffemail,locale\r\nada@x.example,en\r\n"},
		{true, "campaign file", "name: c1\nenvironment: staging\n"},
		{true, "report", "line,id,email,locale,lang,outcome,code,response,at,attempts,batch,campaign,run\n2,a,a@x.example,en,en,sent,250,ok,,1,0,c1,r\n"},
		{false, "rejects file of another campaign", "line,id,email,locale,outcome,code,field,reason,campaign\n4,,y@example.com,,invalid,,,bad,c0\n"},
		{false, "rejects file of an earlier version", "line,id,email,locale,outcome,code,field,reason\n4,,y@example.com,,invalid,,,bad\n"},
		{false, "empty file", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.csv")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := s.WriteRejectsFile(t.Context(), path)
			b, _ := os.ReadFile(path)
			switch {
			case tt.refused && (err == nil || !strings.Contains(err.Error(), path+": the file exists and is not a rejects file (its first line is ") || string(b) != tt.content):
				t.Errorf("WriteRejectsFile over a %s: %v, file %q; want it refused, naming the file, and the file as it was", tt.name, err, b)
			case !tt.refused && (err != nil || !strings.HasSuffix(string(b), ",bad,c1,\n")):
				t.Errorf("WriteRejectsFile over a %s: %v, file %q; want the rejects written", tt.name, err, b)
			}
		})
	}
}

// TestTextCounts: counts are worded for what they are: one batch is "1
// batch", and a kind of row there is none of is left out of the line
// saying where the rows not sent are (RejectsLine, which plan and send
// both print).
func TestTextCounts(t *testing.T) {
	t.Parallel()
	one := Summary{Campaign: "c", File: "r.csv", Rows: 3, Accepted: 3, Batches: BatchPlan{Regular: 3, Size: 500, Count: 1}}
	var text bytes.Buffer
	if err := one.WriteText(&text, 20); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "Batch plan: 1 batch\n") {
		t.Errorf("one batch:\n%s", text.String())
	}
	for _, tt := range []struct {
		refused, invalid, skipped int
		want                      string
	}{
		{5, 1, 0, "The 6 rows not sent (5 refused, 1 invalid) are in R"},
		{0, 200000, 0, "The 200000 rows not sent (200000 invalid) are in R"},
		{2, 0, 0, "The 2 rows not sent (2 refused) are in R"},
		{0, 1, 0, "The row not sent (invalid) is in R"},
		{1, 0, 0, "The row not sent (refused) is in R"},
		{1, 1, 0, "The 2 rows not sent (1 refused, 1 invalid) are in R"},
		{3, 0, 4, "The 7 rows not sent (3 refused, 4 skipped as already delivered) are in R"},
		{3, 2, 4, "The 9 rows not sent (3 refused, 2 invalid, 4 skipped as already delivered) are in R"},
		{0, 0, 1, "The row not sent (skipped as already delivered) is in R"},
		{0, 0, 0, "The rows not sent are in R"},
	} {
		s := Summary{Refused: tt.refused, Invalid: tt.invalid, Skipped: tt.skipped}
		if got := s.RejectsLine("R"); got != tt.want {
			t.Errorf("%d refused, %d invalid, %d skipped: %q, want %q", tt.refused, tt.invalid, tt.skipped, got, tt.want)
		}
	}
}

// TestRejectsOfEitherHeader: a plan or send with no rejected row removes
// the campaign's rejects file an earlier one in its environment left;
// never one that holds another campaign's rows, and never one with a row
// of another environment or of none (written before the env column),
// whose line and environment it names for the note.
func TestRejectsOfEitherHeader(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body  string
		ours  bool
		line  int
		other string
	}{
		{"line,id,email,locale,outcome,code,field,reason,campaign,env\n3,,x@example.com,,invalid,,,bad,c1,staging\n", true, 0, ""},
		{"line,id,email,locale,outcome,code,field,reason,campaign,env\n3,,x@example.com,,invalid,,,bad,c1,staging\n4,,y@example.com,,invalid,,,bad,c1,production\n", false, 3, "production"},
		{"line,id,email,locale,outcome,code,field,reason,campaign\n3,,x@example.com,,invalid,,,bad,c1\n", false, 2, ""},
		{"line,id,email,locale,outcome,code,field,reason,campaign,env\n3,,x@example.com,,invalid,,,bad,c0,staging\n", false, 0, ""},
		{"line,id,email,locale,outcome,code,field,reason,campaign\n3,,x@example.com,,invalid,,,bad,c0\n", false, 0, ""},
	} {
		if ours, line, other := rejectsOf([]byte(tt.body), "c1", "staging"); ours != tt.ours || line != tt.line || other != tt.other {
			t.Errorf("rejectsOf(%q, c1, staging) = %v, %d, %q; want %v, %d, %q", tt.body, ours, line, other, tt.ours, tt.line, tt.other)
		}
	}
}

// TestWriteDryRun: the dry run's line counts the accepted messages per
// catalog language in the engine's order, and names only the languages
// that have messages.
func TestWriteDryRun(t *testing.T) {
	t.Parallel()
	s := &Summary{Accepted: 5, PerLocale: []LocaleLine{
		{Requested: "fr", Lang: "fr", Accepted: 4}, {Requested: "de-AT", Lang: "de", Accepted: 1}, {Requested: "xx", Refused: 3},
	}}
	var b strings.Builder
	s.WriteDryRun(&b, []render.Coverage{{Lang: "de"}, {Lang: "en"}, {Lang: "fr"}})
	if want := "\nDry run: rendered 5 messages (de 1, fr 4); nothing was queued or delivered.\n"; b.String() != want {
		t.Errorf("dry run:\n got %q\nwant %q", b.String(), want)
	}
}
