package send

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// stuffed is raw dot-stuffed by the dotStuffer, with its end-of-data
// marker: what Send wrote before dataOf, the reference dataOf must equal.
func stuffed(raw []byte) []byte {
	d := getStuffer()
	defer putStuffer(d)
	_, _ = d.Write(raw)
	return bytes.Clone(d.finish())
}

// FuzzData builds whole messages from random text, HTML and a header
// field, for servers with and without 8BITMIME, and checks that dataOf,
// which skips the dot-stuffing pass when writeMessage reports that no line
// starts with ".", gives exactly the bytes the dotStuffer gives for the
// same message: every line break CRLF, a line starting with "." doubled,
// the end-of-data marker after a line break. The seeds run with go test;
// the table's cases are the ends a message can have (a line break, a lone
// CR, neither), the dots it can hold in parts written in one pass, as
// quoted-printable (a long line) or base64, and a field name that starts
// with ".".
func FuzzData(f *testing.F) {
	for _, s := range []string{
		"Hello,\nplease re-register.\n",
		".leading dot\nbare\rcr\n",
		"a line\n.dot after a line break\n..two\n",
		"no line break at the end",
		"ends with a lone CR\r",
		"ends with CRLF\r\n",
		"CRLF\r\n.dot\r\n",
		"Grüße aus Zürich " + strings.Repeat("é", 600) + "\n.x",
		strings.Repeat("語", 400),
		".",
		"",
		"long line\n." + strings.Repeat("x", 1000) + "\n.after",
		"\x00nul\n.dot",
		"\n.é",
	} {
		if s != "" { // a message has a text or an HTML part: CI fails a skipped seed
			f.Add(s, "", "X-Note", true)
			f.Add(s, "", "X-Note", false)
		}
		f.Add("text", s, "X-Note", true)
		f.Add(s, "<p>"+s+"</p>", "X-Note", false)
	}
	f.Add("text", "", ".X-Dot", true)
	f.Add("text", "<p>html</p>", ".X-Dot", false)
	f.Fuzz(func(t *testing.T, text, html, field string, eightBit bool) {
		if text == "" && html == "" {
			t.Skip("a message has a text or an HTML part")
		}
		p, err := prepare(&Message{
			From: "Altea <community@altea.example>", To: "zoe@example.org",
			Subject: "s", Text: text, HTML: html, MessageID: "c.1@altea.example",
			Date:    time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
			Headers: []Header{{Name: field, Value: "v"}},
		})
		if err != nil {
			t.Skip("not a message:", err) // a field name the fuzzer made up
		}
		var raw bytes.Buffer
		wr := writeMessage(&raw, &p, capability{eightBit: eightBit}, []byte("b0undary"))
		want := stuffed(raw.Bytes())
		d := getStuffer()
		defer putStuffer(d)
		if got := dataOf(&raw, wr.dotLine, d); !bytes.Equal(got, want) {
			t.Errorf("text %q html %q field %q 8bit %v:\ngot  %q\nwant %q", text, html, field, eightBit, got, want)
		}
	})
}
