package oneline_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/tidings-mail/tidings/internal/oneline"
)

// TestOf checks what Of keeps (the author's text, Unicode spaces and runs
// of spaces included) and what it replaces (control characters, line
// separators, invalid UTF-8, surrounding white space), and that Is agrees.
func TestOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"Zoe Smith", "Zoe Smith"},
		{"Jürgen Groß", "Jürgen Groß"},
		{"Action requise : réinscrivez-vous", "Action requise : réinscrivez-vous"},
		{"Требуется действие: зарегистрируйтесь", "Требуется действие: зарегистрируйтесь"},
		{"対応のお願い：新しいAlteaコミュニティ", "対応のお願い：新しいAlteaコミュニティ"},
		{"مطلوب إجراء: أعد التسجيل", "مطلوب إجراء: أعد التسجيل"},
		{"emoji 🙂 and \uFFFD", "emoji 🙂 and \uFFFD"},
		// French typography, Japanese names, runs of spaces: as written.
		{"Action requise\u00a0: réinscrivez-vous\u202f!", "Action requise\u00a0: réinscrivez-vous\u202f!"},
		{"山田\u3000花子", "山田\u3000花子"},
		{"em\u2003space", "em\u2003space"},
		{"Altea  Café", "Altea  Café"},
		// Surrounding white space goes, Unicode spaces included.
		{" lead", "lead"},
		{"trail ", "trail"},
		{"\u00a0nbsp\u3000", "nbsp"},
		// What a header cannot carry: one space per run.
		{"tab\there", "tab here"},
		{"new\nline", "new line"},
		{"Hi\r\nBcc: victim@evil.test", "Hi Bcc: victim@evil.test"},
		{"a\n\n\nb\x00c\x1bd", "a b c d"},
		{" \tx\u0085y\u2029z\n ", "x y z"},
		{"a \n b", "a   b"},
		{"nul\x00", "nul"},
		{"del\x7fx", "del x"},
		{"nel\u0085here", "nel here"},
		{"ls\u2028ps\u2029", "ls ps"},
		{"c1\u009bcontrol", "c1 control"},
		{"bad \xff utf-8", "bad \uFFFD utf-8"},
		{"cut \xc3", "cut \uFFFD"},
		{"surrogate \xed\xa0\x80", "surrogate \uFFFD\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		got := oneline.Of(tt.in)
		if got != tt.want {
			t.Errorf("Of(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if is := oneline.Is(tt.in); is != (tt.in == tt.want) {
			t.Errorf("Is(%q) = %v, want %v", tt.in, is, tt.in == tt.want)
		}
	}
}

// FuzzOf checks, for any s, that Of(s) is one line a header can carry
// (valid UTF-8, no control character or line separator, no white space
// around it), that Of is idempotent and Is its shortcut, and that Of
// changed nothing but what it must: the characters that are neither white
// space nor must go are those of s, in order.
func FuzzOf(f *testing.F) {
	for _, s := range []string{"Jürgen Groß", "a  b", " x", "\u00a0", "\xff", "日本\u3000語", "\u2028", "a\r\nBcc: x", "Action\u00a0:\u202f!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := oneline.Of(s)
		if oneline.Is(s) != (got == s) {
			t.Fatalf("Is(%q) = %v, Of returns %q", s, oneline.Is(s), got)
		}
		if !oneline.Is(got) || oneline.Of(got) != got {
			t.Fatalf("Of(%q) = %q is not a fixed point", s, got)
		}
		if !utf8.ValidString(got) || strings.ContainsFunc(got, func(r rune) bool {
			return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
		}) || strings.TrimSpace(got) != got {
			t.Fatalf("Of(%q) = %q", s, got)
		}
		if !utf8.ValidString(s) {
			return
		}
		kept := func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
					return -1
				}
				return r
			}, s)
		}
		if kept(got) != kept(s) {
			t.Fatalf("Of(%q) = %q changed text it may keep", s, got)
		}
	})
}
