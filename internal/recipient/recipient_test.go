package recipient

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// row is what a test expects from one call to Next.
type row struct {
	line   int
	id     string
	email  string
	name   string
	locale string
	fields map[string]string
	code   string // "" for a valid row
	field  string
}

func readAll(t *testing.T, input string, cfg ReaderConfig) ([]row, *Reader) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(input), cfg)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var got []row
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			if re.Line != r.Line {
				t.Errorf("RowError line %d != Recipient line %d", re.Line, r.Line)
			}
			got = append(got, row{line: re.Line, code: re.Code, field: re.Field})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			got = append(got, row{line: r.Line, id: r.ID, email: r.Email, name: r.Name, locale: r.Locale, fields: r.Fields})
		}
	}
	return got, rd
}

func TestReaderCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		want    []row
		columns []string
	}{
		{
			name:  "bom crlf quoted multiline",
			input: "\ufeffid,email,locale,name,city\r\n1,a@example.com,de,Anna,Berlin\r\n2,b@example.com,fr,\"Zoë, B.\",\"Line1\r\nLine2\"\r\n3,c@example.com,ja,田中,東京\r\n",
			want: []row{
				{line: 2, id: "1", email: "a@example.com", name: "Anna", locale: "de", fields: map[string]string{"city": "Berlin"}},
				{line: 3, id: "2", email: "b@example.com", name: "Zoë, B.", locale: "fr", fields: map[string]string{"city": "Line1\nLine2"}},
				{line: 5, id: "3", email: "c@example.com", name: "田中", locale: "ja", fields: map[string]string{"city": "東京"}},
			},
			columns: []string{"city"},
		},
		{
			name:  "default id, header case and spaces, rtl emoji combining",
			input: " Email , LOCALE ,Name\nA.B@Example.COM,ar,\"مرحبا 👋\"\nx@example.org,vi,Nguyễn\n",
			want: []row{
				{line: 2, id: "a.b@example.com", email: "A.B@Example.COM", name: "مرحبا 👋", locale: "ar"},
				{line: 3, id: "x@example.org", email: "x@example.org", name: "Nguyễn", locale: "vi"},
			},
		},
		{
			name:  "internationalised address",
			input: "email,locale\nüser@bücher.example,de\n用户@例子.广告,zh\n",
			want: []row{
				{line: 2, id: "üser@bücher.example", email: "üser@bücher.example", locale: "de"},
				{line: 3, id: "用户@例子.广告", email: "用户@例子.广告", locale: "zh"},
			},
		},
		{
			name: "invalid rows keep line numbers",
			input: "id,email,locale,name,note\n" +
				"1,ok@example.com,de,A,\"multi\nline\"\n" + // line 2-3
				"2,,de,B,x\n" + // 4 empty email
				"3,Bob <bob@example.com>,de,C,x\n" + // 5 display name
				"4,bad@@example.com,de,D,x\n" + // 6
				"5,nodot@localhost,de,E,x\n" + // 7
				"1,other@example.com,de,F,x\n" + // 8 duplicate id
				"6,OK@EXAMPLE.com,de,G,x\n" + // 9 duplicate email
				"7,g@example.com,de,\"Evil\r\nBcc: x@y\",x\n" + // 10-11 control char in name
				"8,h@example.com,de,H\n" + // 12 wrong field count
				"9,i@example.com,de,\xff\xfe,x\n" + // 13 invalid utf8
				"10,j@example.com,de,J,\"a\x00b\"\n" + // 14 NUL in extra
				"11,k@example.com,,K,\"tab\there\"\n" + // 15 empty locale is fine here
				"12,l@example.com,de,L,x\"y\n" + // 16 bare quote
				"13,m@example.com,en,M,z\n", // 17
			want: []row{
				{line: 2, id: "1", email: "ok@example.com", name: "A", locale: "de", fields: map[string]string{"note": "multi\nline"}},
				{line: 4, code: CodeMissingField, field: "email"},
				{line: 5, code: CodeInvalidEmail, field: "email"},
				{line: 6, code: CodeInvalidEmail, field: "email"},
				{line: 7, code: CodeInvalidEmail, field: "email"},
				{line: 8, code: CodeDuplicateID, field: "id"},
				{line: 9, code: CodeDuplicateEmail, field: "email"},
				{line: 10, code: CodeControlCharacter, field: "name"},
				{line: 12, code: CodeBadRow},
				{line: 13, code: CodeInvalidUTF8, field: "name"},
				{line: 14, code: CodeControlCharacter, field: "note"},
				{line: 15, id: "11", email: "k@example.com", name: "K", fields: map[string]string{"note": "tab\there"}},
				{line: 16, code: CodeBadRow, field: "note"},
				{line: 17, id: "13", email: "m@example.com", name: "M", locale: "en", fields: map[string]string{"note": "z"}},
			},
			columns: []string{"note"},
		},
		{
			// A lossy conversion upstream left U+FFFD where a character
			// was: refused as invalid UTF-8 is (the mail would carry the
			// loss either way).
			name:  "replacement character",
			input: "email,locale,name,city\na@example.com,de,Jos\uFFFD,x\nb@example.com,de,B,M\uFFFDnchen\nc@example.com,de,C,M\u00fcnchen\n",
			want: []row{
				{line: 2, code: CodeInvalidUTF8, field: "name"},
				{line: 3, code: CodeInvalidUTF8, field: "city"},
				{line: 4, id: "c@example.com", email: "c@example.com", name: "C", locale: "de", fields: map[string]string{"city": "München"}},
			},
			columns: []string{"city"},
		},
		{
			name:  "c1 control and DEL",
			input: "email,locale,name\na@example.com,de,x\u0085y\nb@example.com,de,x\x7fy\n",
			want: []row{
				{line: 2, code: CodeControlCharacter, field: "name"},
				{line: 3, code: CodeControlCharacter, field: "name"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, rd := readAll(t, tt.input, ReaderConfig{Name: "r.csv"})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(rd.Columns(), tt.columns) {
				t.Errorf("Columns() = %q, want %q", rd.Columns(), tt.columns)
			}
		})
	}
}

// TestReaderFieldCountAdvice: a row with more fields than the header may
// hold a comma that needed quotes, or, when the fields beyond the header's
// are empty, end in commas (as some exports write every row: it said
// "quote values that contain commas" alone, found by a red team); one
// with fewer lacks values, which no quoting adds.
func TestReaderFieldCountAdvice(t *testing.T) {
	t.Parallel()
	input := "email,locale,name,posts\n" +
		"a@example.com,de,Anna\n" + // 2: one value short
		"b@example.com,de,Bauer, Bea,3\n" + // 3: an unquoted comma
		"   \n" + // 4: white space only, as exports leave
		"d@example.com\n" + // 5: an address alone
		"f@example.com,de,Fay,2,,\n" + // 6: commas at the end, as some exports write every row
		"c@example.com,de,,1\n" // 7: an empty name is fine
	rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: "r.csv"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"r.csv:2: the row has 3 fields, the header has 4: as read, column \"posts\" has no value: add the missing values (an empty one is nothing between two commas: a,,b)",
		"r.csv:3: the row has 5 fields, the header has 4: quote values that contain commas",
		"r.csv:4: the row holds only white space, the header has 4 fields: remove the line, or write the row's values",
		"r.csv:5: the row has 1 field, the header has 4: as read, columns \"locale\", \"name\" and \"posts\" have no value: add the missing values (an empty one is nothing between two commas: a,,b)",
		"r.csv:6: the row has 6 fields, the header has 4: the line ends in 2 empty fields (commas after its last value): remove the commas at the end of the line, or quote values that contain commas",
	} {
		_, err := rd.Next()
		var re *RowError
		if !errors.As(err, &re) || re.Code != CodeBadRow || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	}
	if r, err := rd.Next(); err != nil || r.Email != "c@example.com" {
		t.Errorf("the row after them: %+v, %v", r, err)
	}
}

// TestReaderQuoteAdvice: a quote in a value (D"Angelo, typed into a
// spreadsheet or a hand-written export) names the column and says how to
// write such a value, not encoding/csv's words alone; the rows after it
// are read.
func TestReaderQuoteAdvice(t *testing.T) {
	t.Parallel()
	input := "email,name,locale\n" +
		"ada@example.org,D\"Angelo,it\n" + // 2: a bare quote
		"bea@example.org,\"D\"Angelo\",it\n" + // 3: a quote not doubled inside quotes
		"\"c\"d@example.org,C,it\n" + // 4: in the first column
		"dan@example.org,Dan,\"e\"n\n" + // 5: in the last
		"eve@example.org,\"D\"\"Angelo\",it\n" // 6: written as it should be
	rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: "r.csv"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ field, email, msg string }{
		{"name", "ada@example.org", `r.csv:2: name: the value of column "name" has a quote (") in it (line 2, column 18): enclose the value in double quotes and write each quote inside it twice, as in "D""Angelo"`},
		{"name", "bea@example.org", `r.csv:3: name: the value of column "name" is quoted, and has a quote (") inside it that is not doubled (line 3, column 19): enclose the value in double quotes and write each quote inside it twice, as in "D""Angelo"`},
		{"email", "", `r.csv:4: email: the value of column "email" is quoted, and has a quote (") inside it that is not doubled (line 4, column 3): enclose the value in double quotes and write each quote inside it twice, as in "D""Angelo"`},
		{"locale", "dan@example.org", `r.csv:5: locale: the value of column "locale" is quoted, and has a quote (") inside it that is not doubled (line 5, column 23): enclose the value in double quotes and write each quote inside it twice, as in "D""Angelo"`},
	} {
		r, err := rd.Next()
		var re *RowError
		if !errors.As(err, &re) || re.Code != CodeBadRow || re.Field != want.field || r.Email != want.email || err.Error() != want.msg {
			t.Errorf("got %+v, %v\nwant field %s, email %q: %s", r, err, want.field, want.email, want.msg)
		}
	}
	if r, err := rd.Next(); err != nil || r.Name != `D"Angelo` {
		t.Errorf("the row written as advised: %+v, %v", r, err)
	}
}

func TestReaderJSONL(t *testing.T) {
	t.Parallel()
	input := "\ufeff{\"email\":\"a@example.com\",\"locale\":\"de\",\"name\":\"Ä 😀\",\"posts\":3,\"vip\":true,\"x\":null}\r\n" +
		"\n" +
		"{\"email\":\"b@example.com\"}\n" + // 3 no locale
		"[1,2]\n" + // 4 not an object
		"{\"email\":\"c@example.com\",\"locale\":\"fr\",\"tags\":[\"a\"]}\n" + // 5 array
		"{\"email\":\"d@example.com\",\"locale\":\"fr\",\"name\":\"a\\nb\"}\n" + // 6 newline in name
		"{\"email\":\"e@example.com\",\"locale\":\"he\",\"id\":\"u-5\",\"city\":\"תל אביב\"}\n" + // 7
		"{\"email\":\"\xff@example.com\",\"locale\":\"fr\"}\n" + // 8 invalid utf-8
		"{\"locale\":\"fr\"}" // 9 no email, no trailing newline
	got, rd := readAll(t, input, ReaderConfig{Name: "r.jsonl"})
	want := []row{
		{line: 1, id: "a@example.com", email: "a@example.com", name: "Ä 😀", locale: "de", fields: map[string]string{"posts": "3", "vip": "true", "x": ""}},
		{line: 3, code: CodeMissingField, field: "locale"},
		{line: 4, code: CodeBadRow},
		{line: 5, code: CodeBadRow, field: "tags"},
		{line: 6, code: CodeControlCharacter, field: "name"},
		{line: 7, id: "u-5", email: "e@example.com", locale: "he", fields: map[string]string{"city": "תל אביב"}},
		{line: 8, code: CodeInvalidUTF8},
		{line: 9, code: CodeMissingField, field: "email"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
	cols := rd.Columns()
	if len(cols) != 4 {
		t.Errorf("Columns() = %q, want posts, vip, x, city in some first-seen order", cols)
	}
}

// TestReaderJSONLSameKeyTwice: "locale" and "Locale" in one object would
// make the language depend on map order; the row is invalid instead.
func TestReaderJSONLSameKeyTwice(t *testing.T) {
	t.Parallel()
	input := "{\"email\":\"a@example.com\",\"locale\":\"de\",\"Locale\":\"pt\"}\n" +
		"{\"email\":\"b@example.com\",\"EMAIL\":\"c@example.com\",\"locale\":\"de\"}\n"
	got, _ := readAll(t, input, ReaderConfig{Name: "r.jsonl"})
	want := []row{{line: 1, code: CodeBadRow, field: "locale"}, {line: 2, code: CodeBadRow, field: "email"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
}

// TestReaderUnclosedQuote: a quote that is never closed swallows every
// following line; that must stop the read, not pass as one invalid row.
func TestReaderUnclosedQuote(t *testing.T) {
	t.Parallel()
	input := "email,locale\na@example.com,de\nb@example.com,\"de\nc@example.com,fr\nd@example.com,it\n"
	rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: "r.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := rd.Next(); err != nil || r.Email != "a@example.com" {
		t.Fatalf("first row: %+v %v", r, err)
	}
	_, err = rd.Next()
	var rowErr *RowError
	if err == nil || errors.As(err, &rowErr) || errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want a fatal error (not a row error)", err)
	}
	if !strings.Contains(err.Error(), "r.csv:3: a quote opened on this line is not closed") {
		t.Errorf("err = %v, want it to name r.csv:3 and the unclosed quote", err)
	}
}

func TestHeaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input, want string
	}{
		{"empty", "", "r.csv: the file is empty"},
		{"no locale", "email,name\n", "r.csv:1: the header lacks the column(s) locale"},
		{"no email no locale", "id\n", "lacks the column(s) email, locale"},
		{"duplicate", "email,locale,Email\n", `column "Email" appears twice`},
		{"unnamed", "email,,locale\n", "column 2 has no name"},
		{"semicolons", "email;locale\n", `save it as "CSV UTF-8 (comma delimited)"`},
		{"tabs", "email\tlocale\n", "not comma-separated UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tt.input), ReaderConfig{Name: "r.csv"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRowErrorMessage(t *testing.T) {
	t.Parallel()
	e := &RowError{File: "r.csv", Line: 7, Field: "email", Code: CodeInvalidEmail, Reason: "bad"}
	if got := e.Error(); got != "r.csv:7: email: bad" {
		t.Errorf("Error() = %q", got)
	}
	e.Field = ""
	if got := e.Error(); got != "r.csv:7: bad" {
		t.Errorf("Error() = %q", got)
	}
}

func TestLineSet(t *testing.T) {
	t.Parallel()
	var s lineSet
	for i := uint64(0); i < 5000; i++ {
		s.put(i*0x9E3779B97F4A7C15, uint32(i+1))
	}
	for i := uint64(0); i < 5000; i++ {
		if got := s.get(i * 0x9E3779B97F4A7C15); got != uint32(i+1) {
			t.Fatalf("get(%d) = %d, want %d", i, got, i+1)
		}
	}
	if s.get(12345) != 0 {
		t.Error("get of an absent key found something")
	}
}

func genCSV(n int) string {
	var b strings.Builder
	b.WriteString("id,email,locale,name,posts\n")
	locales := []string{"de", "fr", "it", "ja", "ar", "pt-BR"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "u%d,user%d@example.com,%s,Name %d 😀,%d\n", i, i, locales[i%len(locales)], i, i%7)
	}
	return b.String()
}

func BenchmarkReaderCSV100k(b *testing.B) {
	const rows = 100_000
	input := genCSV(rows)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(strings.NewReader(input), ReaderConfig{Name: "b.csv"})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("read %d rows", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

func ExampleReader() {
	in := "email,locale,name,plan\nana@example.com,pt-PT,Ana,pro\nbad-address,de,Bo,free\n"
	rd, err := NewReader(strings.NewReader(in), ReaderConfig{Name: "users.csv"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			fmt.Println("invalid:", re.Code, re.Line)
			continue
		}
		fmt.Println(r.Line, r.ID, r.Locale, r.Fields["plan"])
	}
	// Output:
	// 2 ana@example.com pt-PT pro
	// invalid: invalid-email 3
}
