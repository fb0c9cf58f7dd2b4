package send

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzQuotedAsQuote compares writing a display name as a quoted-string
// without making it (quotedFits, quotedTokens) with making it (quote,
// plainFits, tokens), for names without '"' and '\\', from a field name of
// every length that changes where the first token fits.
func FuzzQuotedAsQuote(f *testing.F) {
	for _, s := range []string{"Ada Lovelace", "a", " a ", "a  b", "x " + strings.Repeat("n", 76) + " y", strings.Repeat("n", 80), "O'Brien, Z", "=?x?=", "tab\there", "é"} {
		for _, field := range []string{"To", "Reply-To", strings.Repeat("X", 60)} {
			f.Add(s, field)
		}
	}
	f.Fuzz(func(t *testing.T, name, field string) {
		if strings.ContainsAny(name, `"\`) || len(field) > lineLen {
			return // quote escapes those: the other branch
		}
		var old, got bytes.Buffer
		ow, nw := fieldWriter{b: &old}, fieldWriter{b: &got}
		ow.start(field)
		nw.start(field)
		q := quote(name)
		oldFits, fits := plainFits(q, ow.firstBudget()), quotedFits(name, nw.firstBudget())
		if fits != oldFits {
			t.Fatalf("name %q after %q: quotedFits %v, plainFits of the quoted string %v", name, field, fits, oldFits)
		}
		if !fits {
			return
		}
		ow.tokens(q)
		nw.quotedTokens(name)
		if !bytes.Equal(got.Bytes(), old.Bytes()) || nw.col != ow.col || nw.any != ow.any {
			t.Fatalf("name %q after %q:\ngot  %q (col %d)\nwant %q (col %d)", name, field, got.Bytes(), nw.col, old.Bytes(), ow.col)
		}
	})
}

// TestNoCopyTokensAsBefore compares, for every length around a line's,
// the display names and List-Unsubscribe URIs written without making
// their tokens (quotedTokens, uris) with the writers that made them (quote
// and tokens; oldFields.uris): a token that fits exactly, or by one
// character too few, with its quote or comma.
func TestNoCopyTokensAsBefore(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 2*lineLen+4; n++ {
		word := strings.Repeat("n", n)
		for _, name := range []string{word, "a " + word, word + " b", "a " + word + " " + word} {
			for _, field := range []string{"To", "Reply-To"} {
				var old, got bytes.Buffer
				ow, nw := fieldWriter{b: &old}, fieldWriter{b: &got}
				ow.start(field)
				nw.start(field)
				q := quote(name)
				if fits, oldFits := quotedFits(name, nw.firstBudget()), plainFits(q, ow.firstBudget()); fits != oldFits {
					t.Fatalf("name of %d bytes %q after %s: quotedFits %v, plainFits of the quoted string %v", len(name), name, field, fits, oldFits)
				} else if fits {
					ow.tokens(q)
					nw.quotedTokens(name)
				}
				if got.String() != old.String() {
					t.Fatalf("name %q after %s:\ngot  %q\nwant %q", name, field, got.String(), old.String())
				}
			}
		}
		uri := "https://a.example/" + word
		for _, uris := range [][]string{{uri}, {uri, "mailto:u@a.example"}, {"mailto:u@a.example", uri, uri}, {"mailto:u" + word + "@a.example", "https://a.example/x"}} {
			var old, got bytes.Buffer
			oldFields{&fieldWriter{b: &old}}.uris("List-Unsubscribe", uris)
			(&fieldWriter{b: &got}).uris("List-Unsubscribe", uris)
			if got.String() != old.String() {
				t.Fatalf("URIs %q:\ngot  %q\nwant %q", uris, got.String(), old.String())
			}
		}
	}
}
