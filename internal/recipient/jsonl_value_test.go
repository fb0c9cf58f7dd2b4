package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestReaderJSONLRefusesALoneSurrogateEscape (found by a red team): a JSONL line whose name (or any
// field) holds a JSON escape of a lone UTF-16 surrogate ("\ud83d" without
// its pair: what a JavaScript exporter writes when it cut an emoji in
// half) passes the UTF-8 check (the escape is ASCII) and encoding/json
// replaces it with U+FFFD silently: the recipient is accepted and mailed
// "Dear Jos\uFFFD" — the value is lost without an error, where the CSV
// reader refuses invalid UTF-8 with the line and the field.
func TestReaderJSONLRefusesALoneSurrogateEscape(t *testing.T) {
	t.Parallel()
	in := `{"email":"jose@x.example","locale":"es","name":"Jos\ud83d"}` + "\n"
	rd, err := NewReader(strings.NewReader(in), ReaderConfig{Name: "r.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rd.Next()
	var re *RowError
	if errors.As(err, &re) {
		if re.Line != 1 || re.Field != "name" {
			t.Errorf("error %v: want line 1, field name", err)
		}
		return
	}
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	t.Fatalf("line 1 accepted with name %q (%+q): the lone surrogate escape became U+FFFD without an error", r.Name, r.Name)
}

// TestReaderJSONLBadValueNamesItsField (found by a red team): a JSONL object whose id is a
// number JSON does not allow (leading zeros, as an export of "007"
// unquoted writes it) or a bare word is reported as "not a JSON object:
// write one object per line", with no field: the line is one object, and
// what is wrong is the value of "id". The error names the field.
func TestReaderJSONLBadValueNamesItsField(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"id":007,"email":"a@x.example","locale":"de"}`,
		`{"email":"b@x.example","locale":"de","id":abc}`,
	} {
		rd, err := NewReader(strings.NewReader(in+"\n"), ReaderConfig{Name: "r.jsonl"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = rd.Next()
		var re *RowError
		if !errors.As(err, &re) {
			t.Fatalf("%s: err %v, want a RowError", in, err)
		}
		if re.Field != "id" || strings.Contains(re.Reason, "not a JSON object") {
			t.Errorf("%s: %q (field %q): want the field id named, and not \"not a JSON object\" for a line that is one", in, err.Error(), re.Field)
		}
	}
}

// TestReaderJSONLMessages: what is wrong inside a JSONL object is said
// with the field it concerns (its key, or the key whose value precedes the
// break), the text as written and what to write instead; half a surrogate
// pair, escaped, and U+FFFD, written or escaped, are refused (a whole pair
// is a character and is read).
func TestReaderJSONLMessages(t *testing.T) {
	t.Parallel()
	const head = `{"email":"a@x.test","locale":"de",`
	tests := []struct {
		name, line  string
		code, field string
		msg         string // "" for an accepted row
		wantName    string // the name of an accepted row
	}{
		{"leading zeros", `{"id":007,"email":"a@x.test","locale":"de"}`, CodeBadRow, "id",
			`r.jsonl:1: id: the value 007 is not valid JSON (invalid character '0' after object key:value pair): write text in double quotes, as in "id":"007"`, ""},
		{"bare word", head + `"id":abc}`, CodeBadRow, "id",
			`r.jsonl:1: id: the value abc is not valid JSON (invalid character 'a' looking for beginning of value): write text in double quotes, as in "id":"abc"`, ""},
		{"broken literal, key in any case", head + `"Name":truex}`, CodeBadRow, "name",
			`r.jsonl:1: name: the value truex is not valid JSON (invalid character 'x' after object key:value pair): write text in double quotes, as in "Name":"truex"`, ""},
		{"no value", head + `"plan":}`, CodeBadRow, "plan",
			`r.jsonl:1: plan: the key has no value (invalid character '}' looking for beginning of value): write one after the colon, as in "plan":""`, ""},
		{"bad escape", head + `"plan":"a\x"}`, CodeBadRow, "plan",
			`r.jsonl:1: plan: the string "a\x" is not valid JSON (invalid character 'x' in string escape code): end it with a double quote on this line, and inside it write a quote as \" and a backslash as \\`, ""},
		{"string not closed", head + `"plan":"pro`, CodeBadRow, "plan",
			`r.jsonl:1: plan: the string "pro is not valid JSON (the line ends): end it with a double quote on this line, and inside it write a quote as \" and a backslash as \\`, ""},
		{"control character in a broken value", head + "\"plan\":\x01}", CodeBadRow, "plan",
			`r.jsonl:1: plan: the value "\x01" is not valid JSON (invalid character '\x01' looking for beginning of value): write text in double quotes, as in "plan":"\x01"`, ""},
		{"missing comma", `{"email":"a@x.test" "locale":"de"}`, CodeBadRow, "email",
			`r.jsonl:1: email: the JSON after this field's value "a@x.test" is broken (invalid character '"' after object key:value pair): separate the fields with commas, with none after the last, and write each key in double quotes`, ""},
		{"trailing comma", head + `}`, CodeBadRow, "locale",
			`r.jsonl:1: locale: the JSON after this field's value "de" is broken (invalid character '}' looking for beginning of object key string): separate the fields with commas, with none after the last, and write each key in double quotes`, ""},
		{"a key without a name", head + `"":"x"}`, CodeBadRow, "",
			`r.jsonl:1: the key "" has no name: name every field, as in {"email":"a@example.com","locale":"de"}`, ""},
		{"a key of spaces", head + `" ":"x"}`, CodeBadRow, "",
			`r.jsonl:1: the key " " has no name: name every field, as in {"email":"a@example.com","locale":"de"}`, ""},
		{"not closed", `{"email":"a@x.test","locale":"de"`, CodeBadRow, "",
			`r.jsonl:1: the line ends before the object is closed with }: write each object on one line, closed with }`, ""},
		{"unquoted first key", `{email:"a@x.test","locale":"de"}`, CodeBadRow, "",
			`r.jsonl:1: the line is not valid JSON (invalid character 'e'): write each key in double quotes, as in {"email":"a@example.com","locale":"de"}`, ""},
		{"two objects", `{"email":"a@x.test","locale":"de"} {}`, CodeBadRow, "",
			`r.jsonl:1: the line goes on after the object's closing }: write one object per line`, ""},
		{"high half alone", head + `"name":"Jos\ud83d"}`, CodeInvalidUTF8, "name",
			`r.jsonl:1: name: holds the escape \ud83d, half of a UTF-16 surrogate pair, which is not a character (an export cut a character such as an emoji in two, and JSON readers turn it into U+FFFD): write the whole character, or both halves of its escape as in \ud83d\ude00, or remove the escape`, ""},
		{"low half alone, in an extra field", head + `"city":"\uDE00x"}`, CodeInvalidUTF8, "city",
			`r.jsonl:1: city: holds the escape \uDE00, half of a UTF-16 surrogate pair, which is not a character (an export cut a character such as an emoji in two, and JSON readers turn it into U+FFFD): write the whole character, or both halves of its escape as in \ud83d\ude00, or remove the escape`, ""},
		{"halves in the wrong order", head + `"name":"\ude00\ud83d"}`, CodeInvalidUTF8, "name",
			`r.jsonl:1: name: holds the escape \ude00, half of a UTF-16 surrogate pair, which is not a character (an export cut a character such as an emoji in two, and JSON readers turn it into U+FFFD): write the whole character, or both halves of its escape as in \ud83d\ude00, or remove the escape`, ""},
		{"half in a key", head + `"k\ud800":"x"}`, CodeInvalidUTF8, "",
			`r.jsonl:1: the key "k\ud800" holds the escape \ud800, half of a UTF-16 surrogate pair, which is not a character (an export cut a character such as an emoji in two, and JSON readers turn it into U+FFFD): write the whole character, or both halves of its escape as in \ud83d\ude00, or remove the escape`, ""},
		{"U+FFFD written", head + "\"name\":\"Jos\uFFFD\"}", CodeInvalidUTF8, "name",
			`r.jsonl:1: name: holds U+FFFD, the replacement character, at byte 3: a conversion before this file lost the character that stood there; write the value again from its source, exported as UTF-8`, ""},
		{"U+FFFD escaped", head + `"name":"Jos\ufffd"}`, CodeInvalidUTF8, "name",
			`r.jsonl:1: name: holds U+FFFD, the replacement character, at byte 3: a conversion before this file lost the character that stood there; write the value again from its source, exported as UTF-8`, ""},
		{"a whole pair; U+FFFD in a key", head + `"name":"Jos\ud83d\ude00","n":"\\ud800","k\ufffd":"x"}`, "", "", "", "Jos\U0001F600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rd, err := NewReader(strings.NewReader(tt.line+"\n"), ReaderConfig{Name: "r.jsonl"})
			if err != nil {
				t.Fatal(err)
			}
			r, err := rd.Next()
			if tt.msg == "" {
				if err != nil || r.Name != tt.wantName {
					t.Fatalf("got %+q, %v; want the name %+q", r.Name, err, tt.wantName)
				}
				return
			}
			var re *RowError
			if !errors.As(err, &re) || re.Line != 1 || re.Code != tt.code || re.Field != tt.field || err.Error() != tt.msg {
				t.Errorf("got  %v (%+v)\nwant %s (code %s, field %q)", err, re, tt.msg, tt.code, tt.field)
			}
		})
	}
}
