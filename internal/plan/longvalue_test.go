package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/render"
)

// TestTextClipsLongValues (red team 29a): in a recipients file of 50,000
// rows, one row's locale holds 10 KB (a column shifted by an export, a
// note pasted into the wrong cell). The plan printed that value whole in
// the per-locale table, so every line of the table was padded to 10 KB
// (tabwriter aligns the column), and again whole in the row's refusal:
// the operator's terminal showed screens of "dddd" and no table. A long
// value is now shortened where it is shown on screen (the rejects file
// and --format json keep it whole), as an address already was.
func TestTextClipsLongValues(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("d", 10240)
	file := filepath.Join(t.TempDir(), "r.csv")
	data := "email,locale,name\nana@example.com,de,Ana\nbo@example.com," + long + ",Bo\ncy@example.com,en,Cy\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := runFile(t, Input{Campaign: testCampaign(t, ""), Engine: engine(t, render.Policy{})}, file)
	if s.Refused != 1 {
		t.Fatalf("refused %d, want the long locale's row: %+v", s.Refused, s.Rejects)
	}
	var text bytes.Buffer
	if err := s.WriteText(&text, 20); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(text.String(), "\n") {
		// A reason with what to do runs to some 300 bytes; the long
		// value would make it 10 KB.
		if len(l) > 400 {
			t.Errorf("a line of %d bytes: %.120s...", len(l), l)
		}
	}
	for _, want := range []string{"r.csv:3: locale: unparsable locale \"" + strings.Repeat("d", 40) + "…\"", "\n" + strings.Repeat("d", 40) + "…  -"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("output lacks %q:\n%.2000s", want, text.String())
		}
	}
	if s.Rejects[0].Locale != long {
		t.Errorf("the reject's locale is %d bytes, want the value whole (%d): the rejects file shows what to fix", len(s.Rejects[0].Locale), len(long))
	}
}

// TestTextQuotesAnInvisibleLocale (red team 30): two exports pasted
// together leave the second's byte order mark at the start of a row, in
// its locale. plan's per-locale table printed the value as it is: a line
// "es  -  -  0  1  unparsable locale ..." whose LOCALE looks like the es
// that is accepted a line above it (the BOM shows as nothing), though the
// REASON beside it quotes "\ufeffes". A locale holding a character a
// spreadsheet does not show is now quoted in the table as the reason
// quotes it; a plain one is not.
func TestTextQuotesAnInvisibleLocale(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "r.csv")
	data := "email,locale,name\nana@example.com,de,Ana\nbo@example.com,\ufeffde,Bo\ncy@example.com,de\u200b,Cy\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := runFile(t, Input{Campaign: testCampaign(t, ""), Engine: engine(t, render.Policy{})}, file)
	var text bytes.Buffer
	if err := s.WriteText(&text, 20); err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(text.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = true
		}
	}
	for _, want := range []string{`de`, `"\ufeffde"`, `"de\u200b"`} {
		if !lines[want] {
			t.Errorf("no table line begins with %s:\n%s", want, text.String())
		}
	}
}
