package suppress_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/suppress"
)

// TestMatchIsMailboxIdentity: an address is suppressed when its mailbox
// identity (address.Key) is on the list, whatever its spelling, and never
// by a looser rule (a +tag, another domain, a dot moved).
func TestMatchIsMailboxIdentity(t *testing.T) {
	t.Parallel()
	const list = "# unsubscribed\n" +
		"Anna.B@Example.COM\n" +
		"jose\u0301@bücher.test\n" + // NFD local part, Unicode domain
		"  bob@example.org  \r\n" +
		"\n" +
		"用户@例子.广告\n"
	l, err := suppress.Parse(strings.NewReader(list), "optout.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		email string
		line  int // 0: not suppressed
	}{
		{"anna.b@example.com", 2},
		{"ANNA.B@EXAMPLE.COM", 2},
		{"Anna.B@example.com", 2},
		{"jos\u00e9@bücher.test", 3},        // NFC
		{"JOS\u00c9@xn--bcher-kva.test", 3}, // upper case, A-label domain
		{"bob@EXAMPLE.org", 4},
		{"用户@例子。广告", 6}, // ideographic full stop
		{"anna.b+news@example.com", 0},
		{"annab@example.com", 0},
		{"anna.b@example.co", 0},
		{"jose@bücher.test", 0},
		{"bob@example.org.evil", 0},
	}
	for _, tc := range tests {
		a, err := address.Parse(tc.email)
		if err != nil {
			t.Fatalf("%s: %v", tc.email, err)
		}
		src, ok := l.Match(a)
		if got := map[bool]int{true: src.Line}[ok]; got != tc.line {
			t.Errorf("Match(%s) = line %d (%v), want line %d", tc.email, src.Line, ok, tc.line)
		}
		if ok && src.File != "optout.txt" {
			t.Errorf("Match(%s) file = %q", tc.email, src.File)
		}
	}
	if l.Len() != 4 {
		t.Errorf("Len = %d, want 4", l.Len())
	}
}

// TestCSVWithEmailColumn: a CSV with a header naming an email column (an
// export of unsubscribes or hard bounces) is read by that column only.
func TestCSVWithEmailColumn(t *testing.T) {
	t.Parallel()
	const list = "\uFEFF# bounces exported 2026-12-01\n" +
		"reason,Email,at\n" +
		"hard bounce,\"x@example.com\",2026-11-30\n" +
		"# a comment between rows\n" +
		"unsubscribed,Y@Example.com,2026-12-01\n"
	l, err := suppress.Parse(strings.NewReader(list), "bounces.csv")
	if err != nil {
		t.Fatal(err)
	}
	for email, line := range map[string]int{"x@example.com": 3, "y@example.com": 5} {
		a, _ := address.Parse(email)
		if src, ok := l.Match(a); !ok || src.Line != line {
			t.Errorf("Match(%s) = %v %v, want line %d", email, src, ok, line)
		}
	}
	a, _ := address.Parse("hard@example.com")
	if _, ok := l.Match(a); ok {
		t.Error("a cell of another column was read as an address")
	}
	if l.Len() != 2 || l.Size(0) != 2 {
		t.Errorf("Len = %d, Size(0) = %d, want 2 and 2", l.Len(), l.Size(0))
	}
}

// TestBadLinesAreErrors: a line that holds no address is an error naming
// the file, the line and the field and what to do; none is passed over.
func TestBadLinesAreErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, list string
		want       string
	}{
		{"not an address", "a@example.com\nnot-an-address\n",
			"optout:2: email: \"not-an-address\" "},
		{"two on a line", "a@example.com, b@example.com\n",
			"optout:1: email: \"a@example.com, b@example.com\" is not one address: a list without a header holds one address a line; for a CSV file, give it a header row with an \"email\" column\n"},
		{"empty CSV cell", "id,email\n1,\n2,b@example.com\n",
			"optout:2: email: the email is empty: fill it in or remove the line\n"},
		{"short CSV row", "email,id\n\"a@example.com\",1\n\n",
			""},
		{"broken quote", "email\n\"a@example.com\n",
			"optout:2: email: the CSV cannot be read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := suppress.Parse(strings.NewReader(tc.list), "optout")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err =\n%s\nwant it to begin with\n%s", err, tc.want)
			}
			var le *suppress.LineError
			if !errors.As(err, &le) || le.File != "optout" || le.Field != "email" {
				t.Errorf("err is not a LineError of optout, field email: %#v", le)
			}
		})
	}
}

// TestManyBadLinesSayHowMany: every bad line is counted, and the message
// ends saying nothing is sent until each is fixed.
func TestManyBadLinesSayHowMany(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for range 25 {
		b.WriteString("nope\n")
	}
	_, err := suppress.Parse(strings.NewReader(b.String()), "l.txt")
	var me *suppress.ManyError
	if !errors.As(err, &me) || me.Total != 25 || len(me.Lines) != 20 {
		t.Fatalf("err = %v, want 25 bad lines, 20 named", err)
	}
	if !strings.Contains(err.Error(), "... and 5 more such lines\n25 line(s) of the suppression list hold no address tidings can match: fix or remove each (a comment starts with #); nothing is sent until every line is read") {
		t.Errorf("err = %s", err)
	}
}

// TestLoadFailsClosed: a list that cannot be read is an error, never an
// empty list.
func TestLoadFailsClosed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "gone.txt")
	if _, err := suppress.Load([]string{missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing list: err = %v, want an error naming %s", err, missing)
	}
	ok := filepath.Join(dir, "ok.txt")
	if err := os.WriteFile(ok, []byte("a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := suppress.Load([]string{ok, ok})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Files()) != 1 {
		t.Errorf("Files = %v, want the path once", l.Files())
	}
	if os.Getuid() != 0 {
		locked := filepath.Join(dir, "locked.txt")
		if err := os.WriteFile(locked, []byte("a@example.com\n"), 0o000); err != nil {
			t.Fatal(err)
		}
		if _, err := suppress.Load([]string{ok, locked}); err == nil {
			t.Error("an unreadable list was read as empty")
		}
	}
}
