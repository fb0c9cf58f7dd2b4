package journal

import (
	"encoding/json"
	"testing"
)

// checkAppendString fails unless appendString quotes s as json.Marshal
// does: a journal line is read back with encoding/json.
func checkAppendString(t *testing.T, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
		t.Fatalf("appendString(%q) = %s, want x%s", s, got, want)
	}
}

// TestAppendString checks every byte value alone and inside plain text
// (the fast path must send each byte that needs quoting to json.Marshal),
// and the strings a journal line holds.
func TestAppendString(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		checkAppendString(t, string([]byte{byte(c)}))
		checkAppendString(t, "250 2.0.0 Ok: queued as "+string([]byte{byte(c)})+" id")
	}
	for _, s := range []string{"", "sent", "u1", "user0@bench.example", "de-CH", "bench01",
		"250 2.0.0 Ok: queued as 4ABC", "550 5.1.1 <x@y>: unknown", "jürgen@example.de", "a\"b\\c", "\xff\xfe"} {
		checkAppendString(t, s)
	}
}

// FuzzAppendString: appendString quotes any string as json.Marshal does.
func FuzzAppendString(f *testing.F) {
	f.Add("250 2.0.0 Ok: queued as 4ABC")
	f.Add("<&>\u2028\x00\xff")
	f.Fuzz(checkAppendString)
}
