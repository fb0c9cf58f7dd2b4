package send

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mixParts returns n recipients' parts of the bench's mixed-language mail
// (testdata/mix: the welcome template's text and HTML in six languages),
// in the order the bench's recipients come (the languages in turn), each
// recipient with their own name and address.
func mixParts(tb testing.TB, n int) []struct{ lang, text, html string } {
	tb.Helper()
	type lang struct{ code, name, text, html string }
	var langs []lang
	for i, l := range []struct{ code, name string }{
		{"en", "Ada Lovelace"}, {"de", "Jürg Müller"}, {"fr", "Zoë Dupont"},
		{"it", "Niccolò Rossi"}, {"ja", "山田 太郎"}, {"ar", "ليلى حداد"},
	} {
		read := func(ext string) string {
			b, err := os.ReadFile(filepath.Join("testdata", "mix", l.code+"."+ext))
			if err != nil {
				tb.Fatal(err)
			}
			return string(b)
		}
		text, html := read("txt"), read("html")
		addr := "user" + strconv.Itoa(i) + "@bench.example"
		if !strings.Contains(text, addr) || !strings.Contains(html, addr) || !strings.Contains(text, l.name) {
			tb.Fatalf("%s: the recipient's name or address not in testdata/mix", l.code)
		}
		langs = append(langs, lang{l.code, l.name, text, html})
	}
	out := make([]struct{ lang, text, html string }, n)
	for i := range out {
		l := langs[i%len(langs)]
		r := strings.NewReplacer("user"+strconv.Itoa(i%len(langs))+"@bench.example", "u"+strconv.Itoa(i)+"@bench.example",
			l.name, l.name+" "+strconv.Itoa(i))
		out[i].lang, out[i].text, out[i].html = l.code, r.Replace(l.text), r.Replace(l.html)
	}
	return out
}

// BenchmarkWriteLines writes the two parts of the bench's mixed-language
// messages, each recipient's own, as writeMessage does for a server with
// 8BITMIME: one op is one message's two parts (docs/benchmarks.md, "The
// parts' lines").
func BenchmarkWriteLines(b *testing.B) {
	parts := mixParts(b, 600)
	c := capability{eightBit: true}
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := parts[i%len(parts)]
		buf.Reset()
		if _, ok := writeLines(&buf, "text/plain; charset=UTF-8", p.text, c); !ok {
			b.Fatal("text not written")
		}
		if _, ok := writeLines(&buf, "text/html; charset=UTF-8", p.html, c); !ok {
			b.Fatal("html not written")
		}
	}
}
