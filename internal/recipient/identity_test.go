package recipient

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// TestReaderSameMailbox: one mailbox spelt two ways is one person. The
// second spelling is a duplicate naming the line of the first, and the
// default id is the normalised identity, whatever the spelling.
func TestReaderSameMailbox(t *testing.T) {
	t.Parallel()
	const (
		nfc = "jos\u00e9@x.test"
		nfd = "jose\u0301@x.test"
	)
	tests := []struct {
		name   string
		format Format
		input  string
		want   []row
	}{
		{
			name:  "csv NFC then NFD",
			input: "email,locale\n" + nfc + ",de\n" + nfd + ",ja\n",
			want: []row{
				{line: 2, id: nfc, email: nfc, locale: "de"},
				{line: 3, code: CodeDuplicateEmail, field: "email"},
			},
		},
		{
			name:  "csv NFD first: the email and the id are NFC",
			input: "email,locale\n" + nfd + ",de\nJOS\u00c9@X.test,ja\n",
			want: []row{
				{line: 2, id: nfc, email: nfc, locale: "de"},
				{line: 3, code: CodeDuplicateEmail, field: "email"},
			},
		},
		{
			name:  "csv U-label and A-label",
			input: "email,locale\nuser@bücher.test,de\nuser@xn--bcher-kva.test,ja\nUser@XN--BCHER-KVA.TEST,fr\n",
			want: []row{
				{line: 2, id: "user@bücher.test", email: "user@bücher.test", locale: "de"},
				{line: 3, code: CodeDuplicateEmail, field: "email"},
				{line: 4, code: CodeDuplicateEmail, field: "email"},
			},
		},
		{
			name:  "csv A-label first: default id in Unicode form",
			input: "email,locale,name\nUser@XN--BCHER-KVA.test,de,A\n",
			want:  []row{{line: 2, id: "user@bücher.test", email: "User@XN--BCHER-KVA.test", name: "A", locale: "de"}},
		},
		{
			name:  "csv explicit ids do not hide the twin",
			input: "id,email,locale\n1,user@bücher.test,de\n2,user@xn--bcher-kva.test,ja\n",
			want: []row{
				{line: 2, id: "1", email: "user@bücher.test", locale: "de"},
				{line: 3, code: CodeDuplicateEmail, field: "email"},
			},
		},
		{
			name:   "jsonl NFC and NFD",
			format: FormatJSONL,
			input:  `{"email":"` + nfd + `","locale":"de"}` + "\n" + `{"email":"jos\u00e9@x.test","locale":"ja"}` + "\n",
			want: []row{
				{line: 1, id: nfc, email: nfc, locale: "de"},
				{line: 2, code: CodeDuplicateEmail, field: "email"},
			},
		},
		{
			name:  "different mailboxes stay apart",
			input: "email,locale\njose@x.test,de\n" + nfc + ",de\nuser@bucher.test,de\nuser@bücher.test,de\n",
			want: []row{
				{line: 2, id: "jose@x.test", email: "jose@x.test", locale: "de"},
				{line: 3, id: nfc, email: nfc, locale: "de"},
				{line: 4, id: "user@bucher.test", email: "user@bucher.test", locale: "de"},
				{line: 5, id: "user@bücher.test", email: "user@bücher.test", locale: "de"},
			},
		},
		{
			name:  "invalid IDNA domain",
			input: "email,locale\na@xn--zz.test,de\nb@foo_bar.test,de\nc@example.com.,de\n",
			want: []row{
				{line: 2, code: CodeInvalidEmail, field: "email"},
				{line: 3, code: CodeInvalidEmail, field: "email"},
				{line: 4, code: CodeInvalidEmail, field: "email"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _ := readAll(t, tt.input, ReaderConfig{Name: "r", Format: orCSV(tt.format)})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func orCSV(f Format) Format {
	if f == FormatAuto {
		return FormatCSV
	}
	return f
}

// TestReaderDuplicateMessage: the duplicate names the first line and, for
// another spelling, the identity both share.
func TestReaderDuplicateMessage(t *testing.T) {
	t.Parallel()
	rd, err := NewReader(strings.NewReader("email,locale\nuser@bücher.test,de\nuser@xn--bcher-kva.test,ja\n"), ReaderConfig{Name: "r.csv"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	if r.Address.ASCII() != "user@xn--bcher-kva.test" || r.Address.Key() != "user@bücher.test" {
		t.Errorf("Address = %q / %q", r.Address.ASCII(), r.Address.Key())
	}
	_, err = rd.Next()
	want := `r.csv:3: email: duplicate email "user@xn--bcher-kva.test" (the same mailbox as "user@bücher.test"), first seen on line 2: keep one row per address`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// TestReaderJSONLRepeatedKey: a key given twice in one object (in any case)
// is an invalid row naming the line and the key, never "the last one wins".
func TestReaderJSONLRepeatedKey(t *testing.T) {
	t.Parallel()
	input := `{"email":"a@x.test","locale":"de","locale":"ja"}` + "\n" + // 1
		`{"email":"b@x.test","locale":"de","city":"Rom","City":"Roma"}` + "\n" + // 2
		`{"email":"c@x.test","locale":"de","note":"x","note":"x"}` + "\n" + // 3
		`{"email":"d@x.test","locale":"de","loc\u0061le":"ja"}` + "\n" + // 4 the same key, escaped
		`{"EMAIL":"e@x.test","Email":"f@x.test","locale":"de"}` + "\n" + // 5
		`{"email":"g@x.test","locale":"de","city":"Rom"}` + "\n" // 6 fine
	rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: "r.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		field, msg string
	}{
		{"locale", `r.jsonl:1: locale: the key "locale" appears twice: keep one`},
		{"city", `r.jsonl:2: city: the keys "city" and "City" are the same field: keep one`},
		{"note", `r.jsonl:3: note: the key "note" appears twice: keep one`},
		{"locale", `r.jsonl:4: locale: the key "locale" appears twice: keep one`},
		{"email", `r.jsonl:5: email: the keys "EMAIL" and "Email" are the same field: keep one`},
	}
	for i, w := range want {
		_, err := rd.Next()
		var re *RowError
		if !errors.As(err, &re) || re.Code != CodeBadRow || re.Field != w.field || re.Line != i+1 || err.Error() != w.msg {
			t.Errorf("row %d: err = %v (%+v), want %s", i+1, err, re, w.msg)
		}
	}
	if r, err := rd.Next(); err != nil || r.Line != 6 || r.Fields["city"] != "Rom" {
		t.Errorf("row 6 = %+v, %v", r, err)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("end: %v", err)
	}
	if got := rd.Columns(); !reflect.DeepEqual(got, []string{"city"}) {
		t.Errorf("Columns() = %q, want only the valid row's city", got)
	}
}

// TestReaderJSONLSyntax: what is not one JSON object with scalar values is
// an invalid row.
func TestReaderJSONLSyntax(t *testing.T) {
	t.Parallel()
	input := `{"email":"a@x.test","locale":"de"} {"email":"b@x.test","locale":"de"}` + "\n" + // 1 two objects
		`{"email":"a@x.test","locale":"de",}` + "\n" + // 2 trailing comma
		`{"email":"a@x.test" "locale":"de"}` + "\n" + // 3 missing comma
		`"just a string"` + "\n" + // 4
		`{"email":"a@x.test","locale":"de","n":{"x":1}}` + "\n" + // 5 object value
		`{"email":"a@x.test","locale":"de","a\u0000b":"x"}` + "\n" + // 6 control character in a key
		`{"email":"a@x.test","locale":"de"` + "\n" + // 7 unterminated
		`{"email":"a@x.test","locale":"de","n":1.5e3,"t":false}` + "\n" // 8 fine
	got, _ := readAll(t, input, ReaderConfig{Name: "r.jsonl"})
	want := []row{
		{line: 1, code: CodeBadRow},
		{line: 2, code: CodeBadRow, field: "locale"}, // the break follows its value
		{line: 3, code: CodeBadRow, field: "email"},
		{line: 4, code: CodeBadRow},
		{line: 5, code: CodeBadRow, field: "n"},
		{line: 6, code: CodeControlCharacter},
		{line: 7, code: CodeBadRow},
		{line: 8, id: "a@x.test", email: "a@x.test", locale: "de", fields: map[string]string{"n": "1.5e3", "t": "false"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
}

// TestReaderLineEndings: CR-only files (old spreadsheet exports) are read
// row by row, like LF and CRLF files, with the same line numbers.
func TestReaderLineEndings(t *testing.T) {
	t.Parallel()
	rows := []string{"email,locale,name,note", "a@x.test,de,Anna,one", `b@x.test,fr,"Bé, B.","two`, `lines"`, "c@x.test,ja,C,three"}
	want := []row{
		{line: 2, id: "a@x.test", email: "a@x.test", name: "Anna", locale: "de", fields: map[string]string{"note": "one"}},
		{line: 3, id: "b@x.test", email: "b@x.test", name: "Bé, B.", locale: "fr", fields: map[string]string{"note": "two\nlines"}},
		{line: 5, id: "c@x.test", email: "c@x.test", name: "C", locale: "ja", fields: map[string]string{"note": "three"}},
	}
	for _, tc := range []struct{ name, eol, last string }{
		{"LF", "\n", "\n"}, {"CRLF", "\r\n", "\r\n"}, {"CR", "\r", "\r"}, {"CR without final", "\r", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			input := strings.Join(rows, tc.eol) + tc.last
			got, _ := readAll(t, input, ReaderConfig{Name: "r.csv"})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	t.Run("CR jsonl", func(t *testing.T) {
		t.Parallel()
		input := "{\"email\":\"a@x.test\",\"locale\":\"de\"}\r{\"email\":\"b@x.test\",\"locale\":\"fr\"}\r"
		got, _ := readAll(t, input, ReaderConfig{Name: "r.jsonl"})
		want := []row{{line: 1, id: "a@x.test", email: "a@x.test", locale: "de"}, {line: 2, id: "b@x.test", email: "b@x.test", locale: "fr"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rows:\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("CR file longer than the read buffer", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("email,locale\r")
		const n = 20000
		for i := range n {
			b.WriteString("u" + strings.Repeat("x", i%7) + itoa(i) + "@x.test,de\r")
		}
		got, _ := readAll(t, b.String(), ReaderConfig{Name: "r.csv"})
		if len(got) != n || got[n-1].line != n+1 || got[n-1].code != "" {
			t.Errorf("read %d rows, last %+v; want %d valid rows", len(got), got[len(got)-1], n)
		}
	})
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestHeaderHostile: header problems name the column, and no message
// carries a raw control byte.
func TestHeaderHostile(t *testing.T) {
	t.Parallel()
	utf16le := func(s string) string {
		var b []byte
		for _, c := range []byte(s) {
			b = append(b, c, 0)
		}
		return string(b)
	}
	utf16be := func(s string) string {
		var b []byte
		for _, c := range []byte(s) {
			b = append(b, 0, c)
		}
		return string(b)
	}
	tests := []struct {
		name, input, want string
	}{
		{"control character", "email,loc\x07ale,name\na@x.test,de,A\n", `r.csv:1: column 2 ("loc\aale") holds the control character U+0007: remove it from the header row`},
		{"escape sequence", "email,locale,\x1b[31mred\na@x.test,de,A\n", `r.csv:1: column 3 ("\x1b[31mred") holds the control character U+001B`},
		{"DEL", "email,locale,a\x7fb\n", "column 3"},
		{"C1", "email,locale,a\u0085b\n", "U+0085"},
		{"utf-16le without BOM", utf16le("email,locale\na@x.test,de\n"), `r.csv:1: column 1 holds NUL bytes: the file looks like UTF-16`},
		{"utf-16be without BOM", utf16be("email,locale\na@x.test,de\n"), "the file looks like UTF-16"},
		{"utf-16le BOM", "\xff\xfe" + utf16le("email,locale\n"), "r.csv: the file is UTF-16 (it begins with a UTF-16 byte order mark): save it as UTF-8"},
		{"utf-16be BOM", "\xfe\xff" + utf16be("email,locale\n"), "the file is UTF-16"},
		{"only a CR header", "email,locale\r", ""}, // a valid header: no error
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tt.input), ReaderConfig{Name: "r.csv"})
			if tt.want == "" {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %s", err, tt.want)
			}
			if err != nil && strings.ContainsFunc(err.Error(), unicode.IsControl) {
				t.Errorf("err %q holds a control character", err)
			}
		})
	}
	// JSONL in UTF-16 stops too, rather than giving one invalid row per line.
	_, err := NewReader(strings.NewReader("\xff\xfe"+utf16le(`{"email":"a@x.test","locale":"de"}`+"\n")), ReaderConfig{Name: "r.jsonl"})
	if err == nil || !strings.Contains(err.Error(), "the file is UTF-16") {
		t.Errorf("jsonl utf-16: err = %v", err)
	}
}

// TestRowErrorPrintable: no row error carries a raw control byte, whatever
// the file holds (checkRead checks every message).
func TestRowErrorPrintable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, input string }{
		{"r.csv", "email,locale,name\na\x00b@x.test,de,A\n\"a\x1b@x.test\",de,A\nok@x.test,de\x00,B\nok2@x.test,de,\"x\r\ny\"\n"},
		{"r.jsonl", "{\"email\":\"a\\u0000@x.test\",\"locale\":\"de\"}\n{\"email\":\"b@x.test\",\"locale\":\"de\",\"k\\u001b\":\"v\"}\n{\"email\":\"b@x.test\",\"locale\":\"de\",\"k\\u007f\":{}}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if accepted := checkRead(t, []byte(tc.input), tc.name); accepted != 0 {
				t.Errorf("%d rows accepted, want none", accepted)
			}
		})
	}
}
