package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestColumnsThatLookAlikeAreOneColumn (red team 33d): "prénom" has two
// spellings, é as one code point (NFC, as most editors write it) and e
// followed by a combining accent (NFD, as macOS file names and some
// exports write it). A CSV header or JSONL object with both held two
// columns that look the same: the template read one of them, and the other
// (perhaps the one the operator filled in) was passed over without a word.
// Column names and keys are now compared in NFC, as the appears-twice
// check compares them without case, and the message says the two differ
// in spelling only.
func TestColumnsThatLookAlikeAreOneColumn(t *testing.T) {
	t.Parallel()
	const nfd, nfc = "pre\u0301nom", "pr\u00e9nom"
	_, err := NewReader(strings.NewReader("email,locale,"+nfd+","+nfc+"\na@x.test,de,A,B\n"), ReaderConfig{Name: "r.csv"})
	want := `r.csv:1: column 4 ("` + nfc + `") is column 3 ("` + nfd + `") spelt with other Unicode code points (composed and decomposed accents): they look the same, and a template reads only one: keep one, or give them distinct names`
	if err == nil || err.Error() != want {
		t.Errorf("CSV header with %q and %q: %v\nwant %s", nfd, nfc, err, want)
	}
	// Case and spelling at once: still one column.
	if _, err := NewReader(strings.NewReader("email,locale,PRE\u0301NOM,"+nfc+"\n"), ReaderConfig{Name: "r.csv"}); err == nil || !strings.Contains(err.Error(), "spelt with other Unicode code points") {
		t.Errorf("CSV header with PRE\\u0301NOM and %q: %v, want them one column", nfc, err)
	}

	rd, err := NewReader(strings.NewReader(`{"email":"a@x.test","locale":"de","`+nfd+`":"A","`+nfc+`":"B"}`+"\n"), ReaderConfig{Name: "r.jsonl", Format: FormatJSONL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rd.Next()
	var re *RowError
	wantRow := `the keys "` + nfd + `" and "` + nfc + `" are the same field spelt with other Unicode code points (composed and decomposed accents): keep one`
	if !errors.As(err, &re) || re.Code != CodeBadRow || re.Reason != wantRow {
		t.Errorf("JSONL object with %q and %q: %v\nwant the row invalid: %s", nfd, nfc, err, wantRow)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the row: %v, want EOF", err)
	}
}
