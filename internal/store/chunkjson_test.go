package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"unsafe"
)

// referenceChunk decodes s as decodeChunk did before fastChunk.
func referenceChunk(s string) ([]Recipient, error) {
	var recs []Recipient
	err := json.Unmarshal([]byte(s), &recs)
	return recs, err
}

// sameAsReference fails t unless fastChunk's answer for s, if it gives one,
// is encoding/json's.
func sameAsReference(t *testing.T, s string) (fast bool) {
	t.Helper()
	got, ok := fastChunk(s)
	if !ok {
		return false
	}
	want, err := referenceChunk(s)
	if err != nil {
		t.Fatalf("fastChunk decoded %q, encoding/json fails: %v", s, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fastChunk(%q)\n = %#v\nencoding/json\n = %#v", s, got, want)
	}
	return true
}

// stagedChunk is a chunk as staging writes it.
func stagedChunk(t testing.TB, recs []Recipient) string {
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFastChunk(t *testing.T) {
	staged := stagedChunk(t, []Recipient{
		{Line: 2, ID: "u1", Email: "a@example.org", Name: "Jürgen Groß", Locale: "de-CH", Lang: "de", Via: "match", Values: []string{"12", "", "x"}},
		{Line: 3, ID: "u2", Email: "b@example.org", Lang: "en"},
		{Line: 4, ID: "u<3>&", Email: "c\"q\\@example.org", Name: "tab\there\nnl \u2028 \x01", Lang: "ja", Values: []string{"<b>"}},
		{Line: -1, ID: "\xff\xfe bad utf-8", Email: "e", Lang: "ar", Values: []string{}},
		{Line: 1 << 40, ID: "🙂", Email: "😀@x", Lang: "ru", Values: []string{"\xc3"}},
	})
	cases := []struct {
		s    string
		fast bool // fastChunk decodes it (else decodeChunk falls back)
	}{
		{staged, true},
		{`[]`, true},
		{`[{}]`, true},
		{`[{"n":0,"i":"","f":[]}]`, true},
		{`[{"n":-0}]`, true},
		{`[{"i":"a\u00e9\ud83d\ude00","e":"\/"}]`, true},
		{`[{"f":["a\"b","c"]}]`, true},
		{"[{\"i\":\"\xff\",\"e\":\"ok \xc3\xa9\"}]", true},
		// not the staged shape: encoding/json decides
		{`null`, false},
		{` []`, false},
		{`[] `, false},
		{`[{"n":1} ]`, false},
		{`[{"n": 1}]`, false},
		{`[{"n":1.0}]`, false},
		{`[{"n":1e3}]`, false},
		{`[{"n":01}]`, false},
		{`[{"n":-}]`, false},
		{`[{"n":+1}]`, false},
		{`[{"n":99999999999999999999}]`, false},
		{`[{"n":"1"}]`, false},
		{`[{"N":1}]`, false},
		{`[{"I":"x"}]`, false},
		{`[{"x":"y"}]`, false},
		{`[{"-":"y"}]`, false},
		{`[{"i":"a","i":"b"}]`, false},
		{`[{"i":null}]`, false},
		{`[{"f":null}]`, false},
		{`[{"f":[null]}]`, false},
		{`[{"f":"x"}]`, false},
		{`[{"i":"a` + "\n" + `"}]`, false},
		{`[{"i":"\x"}]`, false},
		{`[{"i":"\u12"}]`, false},
		{`[{"i":"abc}]`, false},
		{`[{"i":"abc\"}]`, false},
		{`[{"i":"a"}`, false},
		{`[{"i":"a"},]`, false},
		{`[{"i":"a",}]`, false},
		{`[{"i":"a"}]x`, false},
		{`[[]]`, false},
		{`{}`, false},
		{``, false},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got := sameAsReference(t, c.s); got != c.fast {
				t.Fatalf("fastChunk(%q) decoded: %v, want %v", c.s, got, c.fast)
			}
			// decodeChunk gives encoding/json's answer either way.
			got, err := decodeChunk("c", 1, c.s)
			want, werr := referenceChunk(c.s)
			if (err != nil) != (werr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
				t.Fatalf("decodeChunk(%q) = %#v, %v; encoding/json %#v, %v", c.s, got, err, want, werr)
			}
		})
	}
}

func FuzzFastChunk(f *testing.F) {
	f.Add(stagedChunk(f, []Recipient{{Line: 2, ID: "u1", Email: "a@example.org", Name: "Jürgen", Locale: "de-CH", Lang: "de", Via: "match", Values: []string{"12", ""}}}))
	f.Add(`[{"n":1,"i":"a\u00e9\ud83d","e":"\/","f":[]},{}]`)
	f.Add(`[{"n":01,"I":"x","f":null}]`)
	f.Add("[{\"i\":\"\xff\\n\"}]")
	f.Fuzz(func(t *testing.T, s string) {
		sameAsReference(t, s)
	})
}

func BenchmarkDecodeChunk(b *testing.B) {
	recs := make([]Recipient, 200)
	for i := range recs {
		recs[i] = Recipient{Line: i + 2, ID: fmt.Sprintf("user-%06d", i), Email: fmt.Sprintf("user%06d@example.org", i),
			Name: "Jürgen Groß", Locale: "de-CH", Lang: "de", Via: "match", Values: []string{fmt.Sprint(i % 40)}}
	}
	s := stagedChunk(b, recs)
	for _, fast := range []bool{true, false} {
		b.Run(fmt.Sprintf("fast=%v", fast), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if fast {
					if _, err := decodeChunk("c", 1, s); err != nil {
						b.Fatal(err)
					}
				} else if _, err := referenceChunk(s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/recipient")
		})
	}
}

// TestFastChunkCopiesLang: a decoded recipient's language does not share
// the chunk's memory (a worker keeps it as a metric label for as long as it
// runs, and a substring would keep the whole chunk), and recipients of one
// language share one copy; the other strings are the chunk's own bytes.
func TestFastChunkCopiesLang(t *testing.T) {
	s := `[{"n":1,"i":"a","e":"a@x","l":"de"},{"n":2,"i":"b","e":"b@x","l":"de"},{"n":3,"i":"c","e":"c@x","l":"ja"}]`
	recs, ok := fastChunk(s)
	if !ok || len(recs) != 3 {
		t.Fatalf("fastChunk: %v, %v", recs, ok)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	within := func(v string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
		return p >= start && p < start+uintptr(len(s))
	}
	for _, r := range recs {
		if within(r.Lang) {
			t.Errorf("recipient %s: Lang %q shares the chunk's memory", r.ID, r.Lang)
		}
		if !within(r.ID) {
			t.Errorf("recipient %s: ID copied; want the chunk's bytes", r.ID)
		}
	}
	if unsafe.StringData(recs[0].Lang) != unsafe.StringData(recs[1].Lang) {
		t.Error("two recipients of one language hold two copies")
	}
}
