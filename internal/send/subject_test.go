package send

import (
	"bytes"
	"fmt"
	"testing"
)

// subjectValues are subjects of every kind the field writer treats apart:
// plain ASCII, too long for a line, Latin with accents (Q), CJK and Arabic
// (B), control characters and line breaks to clean, "=?", runs of spaces,
// invalid UTF-8, empty.
var subjectValues = []string{
	"Action needed: re-register for the new Altea community",
	"",
	"Handlungsbedarf: Registrieren Sie sich neu für die neue Altea-Community",
	"対応が必要です：新しい Altea コミュニティに再登録してください",
	"إجراء مطلوب: أعد التسجيل في مجتمع Altea الجديد",
	"line\r\nBcc: evil@example.com",
	"tab\tand  two spaces, \x00 NUL, \u2028 separator",
	"=?UTF-8?B?Zm9v?= literal",
	"bad \xff utf-8",
	"  padded  ",
	"a-very-long-token-" + string(bytes.Repeat([]byte("x"), 120)),
}

// subjectFieldWant is the Subject field as writeMessage wrote it before the
// cache: the cleaned subject through fieldWriter.text.
func subjectFieldWant(s string) string {
	var b bytes.Buffer
	w := fieldWriter{b: &b}
	w.text("Subject", clean(s))
	return b.String()
}

// TestSubjectOf: the cached Subject field and cleaned subject equal what
// writing the field gives, on the first call (a miss) and the next (a hit,
// the same entry), and stay right when other subjects take the slots.
func TestSubjectOf(t *testing.T) {
	for round := range 2 {
		for _, s := range subjectValues {
			f := subjectOf(s)
			if got, want := string(f.field), subjectFieldWant(s); got != want {
				t.Fatalf("round %d, %q: field %q, want %q", round, s, got, want)
			}
			if f.clean != clean(s) {
				t.Fatalf("round %d, %q: clean %q, want %q", round, s, f.clean, clean(s))
			}
			if again := subjectOf(s); again != f {
				t.Fatalf("%q: the second call made a new entry: the field is not cached", s)
			}
		}
		// More subjects than slots: every slot replaced at least once.
		for i := range 4 * subjectSlots {
			s := fmt.Sprintf("Subject %d für Sie", i)
			if got, want := string(subjectOf(s).field), subjectFieldWant(s); got != want {
				t.Fatalf("%q: field %q, want %q", s, got, want)
			}
		}
	}
}

// FuzzSubjectOf compares the cached field with writing it, twice.
func FuzzSubjectOf(f *testing.F) {
	for _, s := range subjectValues {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := subjectFieldWant(s)
		for range 2 {
			sf := subjectOf(s)
			if string(sf.field) != want || sf.clean != clean(s) {
				t.Fatalf("%q: field %q clean %q, want %q and %q", s, sf.field, sf.clean, want, clean(s))
			}
		}
	})
}
