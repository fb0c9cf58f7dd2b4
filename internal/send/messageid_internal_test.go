package send

import (
	"strings"
	"testing"
)

// validMessageIDByComparisons is validMessageID as it was first written,
// one comparison per excluded byte: FuzzValidMessageID's reference.
func validMessageIDByComparisons(id string) bool {
	at := strings.IndexByte(id, '@')
	if at <= 0 || at == len(id)-1 || len("Message-ID: <>")+len(id) > 998 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// FuzzValidMessageID: the table validMessageID reads says what the
// comparisons said, for every byte.
func FuzzValidMessageID(f *testing.F) {
	for c := range 256 {
		f.Add("a" + string([]byte{byte(c)}) + "@x.example")
	}
	for _, s := range []string{"c.42@tidings.example", "@x", "x@", "a@b", "", strings.Repeat("a", 990) + "@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validMessageID(id), validMessageIDByComparisons(id); got != want {
			t.Fatalf("validMessageID(%q) = %v, want %v", id, got, want)
		}
	})
}
