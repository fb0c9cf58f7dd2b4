package yamlnode

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
)

// level is a text-decoded type: "low" or "high".
type level int

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("level %q is unknown: use low or high", b)
	}
	return nil
}

type inner struct {
	Size     int           `yaml:"size"`
	Interval time.Duration `yaml:"interval"`
	Share    float64       `yaml:"share"`
	On       bool          `yaml:"on"`
}

type config struct {
	Name     string            `yaml:"name"`
	Inner    inner             `yaml:"inner"`
	Level    level             `yaml:"level"`
	Tags     []string          `yaml:"tags"`
	Aliases  map[string]string `yaml:"aliases"`
	Data     map[string]any    `yaml:"data"`
	Secret   Position          `yaml:"secret"`
	Optional *int              `yaml:"optional"`
	Skipped  string            `yaml:"-"`
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	bomb := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	for i, prev := range []string{"a", "b", "c", "d", "e", "f"} {
		name := string(rune('b' + i))
		bomb += fmt.Sprintf("%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
	}
	tests := []struct {
		name, input string
		line        int
		want        string
	}{
		{"unclosed flow", "name: ok\nlist: [\n", 3, "fix the YAML syntax"},
		{"mapping in scalar", "a: b: c\n", 1, "mapping values are not allowed"},
		{"bad indent", "a:\n  b: 1\n c: 2\n", 3, "block mapping that starts at line 1"},
		{"tab indent", "a:\n\tb: 1\n", 2, "fix the YAML syntax"},
		{"unknown anchor", "a: 1\nb: *nope\n", 2, "unknown anchor"},
		{"not UTF-8", "a: 1\nb: 2\nc: \xff\n", 3, "byte 0xff is not UTF-8"},
		{"NUL", "a: 1\nb: x\x00\n", 2, "NUL byte: remove it"},
		{"UTF-16 without BOM", "a\x00:\x00 \x00b\x00\n\x00", 1, "looks like UTF-16"},
		{"control", "a: 1\nb: \"x\x01y\"\n", 2, "control character U+0001"},
		{"duplicate", "a: 1\nb:\n  c: 1\n  c: 2\n", 4, "b.c: written twice (first at line 3)"},
		{"second document", "a: 1\n---\nb: 2\n", 2, "a second YAML document"},
		{"alias bomb", bomb, 5, "alias bomb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.input), "f.yaml")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %v (%T), want an *Error", err, err)
			}
			if e.File != "f.yaml" || e.Line != tt.line {
				t.Errorf("error at %s:%d, want f.yaml:%d (%v)", e.File, e.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			assertPrintable(t, err.Error())
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"# only a comment\n",
		"a: 1\n",
		"\ufeffa: 1\n",
		"a: &x {b: 1}\nc: *x\nd: *x\n",
		"base: &b {size: 1}\nx:\n  <<: *b\n  size: 2\n",
		"a: 1\r\nb: 2\r\n",
		string([]byte{0xff, 0xfe, 'a', 0, ':', 0, ' ', 0, '1', 0, '\n', 0}),
	} {
		if _, err := Parse([]byte(in), "f.yaml"); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	const in = `name: x
inner: {size: 5, interval: 90s, share: 1, on: true}
level: high
tags: [a, b]
aliases: {gsw: de}
data: {n: 1000000, nested: {a: [1, 2]}}
secret: hunter2
optional: 3
`
	doc, err := Parse([]byte(in), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := config{Inner: inner{Size: 500, Interval: time.Minute}}
	if err := doc.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Name != "x" || c.Inner != (inner{Size: 5, Interval: 90 * time.Second, Share: 1, On: true}) || c.Level != 2 {
		t.Errorf("decoded %+v", c)
	}
	if strings.Join(c.Tags, ",") != "a,b" || c.Aliases["gsw"] != "de" || c.Data["n"] != 1000000 || *c.Optional != 3 {
		t.Errorf("decoded %+v", c)
	}
	if c.Secret != (Position{Line: 7}) || !c.Secret.Written() {
		t.Errorf("secret = %+v, want its line only", c.Secret)
	}
	if fmt.Sprint(c) == "" || strings.Contains(fmt.Sprintf("%+v", c), "hunter2") {
		t.Errorf("the refused value was kept: %+v", c)
	}

	// Absent and null keys keep what the struct held.
	doc, err = Parse([]byte("inner:\n  size: ~\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c = config{Inner: inner{Size: 500, Interval: time.Minute}}
	if err := doc.Decode(&c); err != nil || c.Inner.Size != 500 || c.Inner.Interval != time.Minute {
		t.Errorf("defaults not kept: %+v %v", c.Inner, err)
	}

	// Merge keys: the mapping's own keys win.
	doc, err = Parse([]byte("base: &b {size: 1, share: 0.5}\ninner:\n  <<: *b\n  size: 2\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Base  map[string]any `yaml:"base"`
		Inner inner          `yaml:"inner"`
	}
	if err := doc.Decode(&m); err != nil || m.Inner.Size != 2 || m.Inner.Share != 0.5 {
		t.Errorf("merge: %+v %v", m.Inner, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input string
		want        []string // each is "line:field: text"
	}{
		{"unknown top", "name: x\nnmae: y\n", []string{"2:nmae: unknown key: check the spelling; known keys here are name, inner, level, tags, aliases, data, secret, optional"}},
		{"unknown nested", "inner:\n  size: 1\n  sise: 2\n", []string{"3:inner.sise: unknown key", "known keys here are size, interval, share, on"}},
		{"skipped field is unknown", "skipped: x\n", []string{"1:skipped: unknown key"}},
		{"int", "inner:\n  size: many\n", []string{`2:inner.size: "many" is not a whole number`}},
		{"quoted int", "inner:\n  size: \"16\"\n", []string{`2:inner.size: "16" is quoted, which makes it text, not a whole number: write 16 without the quotes`}},
		{"quoted bool and float", "inner: {on: 'true', share: \"0.5\"}\n", []string{`1:inner.on: "true" is quoted, which makes it text, not true or false: write true without the quotes`, `1:inner.share: "0.5" is quoted`}},
		{"quoted, not a number either", "inner:\n  size: \"many\"\n", []string{`2:inner.size: "many" is not a whole number: fix the value`}},
		{"quoted empty or null", "inner: {size: \"\", share: \"null\", on: '~'}\n", []string{`1:inner.size: "" is not a whole number: fix the value`, `1:inner.share: "null" is not a number: fix the value`, `1:inner.on: "~" is not true or false: fix the value`}},
		{"float", "inner: {share: half}\n", []string{`1:inner.share: "half" is not a number`}},
		{"bool", "inner: {on: maybe}\n", []string{`1:inner.on: "maybe" is not true or false`}},
		{"duration", "inner:\n  interval: soon\n", []string{`2:inner.interval: "soon" is not a duration: write e.g. 30s`}},
		{"duration number", "inner: {interval: 5}\n", []string{`"5" is not a duration`}},
		{"text", "level: medium\n", []string{`1:level: level "medium" is unknown: use low or high`}},
		{"struct wants mapping", "inner: 5\n", []string{`1:inner: want a mapping of keys here (size, interval, share, on), not "5"`}},
		{"list wants list", "tags: a\n", []string{`1:tags: want a list here`}},
		{"scalar wants scalar", "name: [a]\n", []string{"1:name: want text here, not a list"}},
		{"list element", "tags: [a, [b]]\n", []string{"1:tags.1: want text here, not a list"}},
		{"map value", "aliases:\n  gsw: [de]\n", []string{"2:aliases.gsw: want text here, not a list"}},
		{"top not mapping", "- a\n- b\n", []string{"f.yaml:1: want a mapping of keys here (name, inner"}},
		{"all reported", "name: [a]\ninner: {size: x}\nzz: 1\n", []string{"1:name:", "2:inner.size:", "3:zz: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Parse([]byte(tt.input), "f.yaml")
			if err != nil {
				t.Fatal(err)
			}
			err = doc.Decode(&config{})
			if err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
			var got []string
			for _, e := range unjoin(err) {
				var ye *Error
				if !errors.As(e, &ye) || ye.File != "f.yaml" {
					t.Fatalf("error %v (%T) is not an *Error of f.yaml", e, e)
				}
				got = append(got, fmt.Sprintf("%d:%s: %s", ye.Line, ye.Field, strings.TrimPrefix(ye.Error(), fmt.Sprintf("f.yaml:%d: %s: ", ye.Line, ye.Field))))
			}
			all := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors\n%s\nlack %q", all, w)
				}
			}
		})
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	doc, err := Parse([]byte("a:\n  b: 1\n  n: ~\nlocale:\n  gsw: de\n  GSW: fr\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path []string
		has  bool
		line int
	}{
		{[]string{"a"}, true, 2},
		{[]string{"a", "b"}, true, 2},
		{[]string{"a", "n"}, false, 3},
		{[]string{"a", "x"}, false, 2},
		{[]string{"locale", "GSW"}, true, 6},
		{[]string{"missing", "deeper"}, false, 1},
	}
	for _, tt := range tests {
		if doc.Has(tt.path...) != tt.has || doc.Line(tt.path...) != tt.line {
			t.Errorf("%v: Has %v Line %d, want %v %d", tt.path, doc.Has(tt.path...), doc.Line(tt.path...), tt.has, tt.line)
		}
	}
	if got := fmt.Sprint(doc.Keys("locale")); got != "[{gsw 5} {GSW 6}]" {
		t.Errorf("Keys = %s", got)
	}
	if doc.Keys("a", "b") != nil || doc.Empty() {
		t.Error("Keys of a scalar, or Empty, is wrong")
	}
	empty, err := Parse([]byte("# nothing\n"), "e.yaml")
	if err != nil || !empty.Empty() || empty.Has("a") || empty.Decode(&config{}) != nil {
		t.Errorf("empty document: %v", err)
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	cause := errors.New("open x: no such file")
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "f.yaml", Line: 3, Field: "a.b", Msg: "bad"}, "f.yaml:3: a.b: bad"},
		{&Error{File: "f.yaml", Msg: "empty"}, "f.yaml: empty"},
		{&Error{Field: "TIDINGS_X", Msg: "bad"}, "TIDINGS_X: bad"},
		{&Error{Line: 2, Msg: "bad"}, "line 2: bad"},
		{&Error{File: "f.yaml", Line: 1, Field: "k", Err: cause}, "f.yaml:1: k: open x: no such file"},
		{&Error{File: "f\x00.yaml", Field: "k\x1b[31m", Msg: "v\xff\n"}, `f\x00.yaml: k\x1b[31m: v\xff\n`},
		{&Error{Field: "k\u202e", Msg: "not \"\ufffd\U000e0001\""}, `k\u202e: not "\ufffd\U000e0001"`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if !errors.Is(&Error{Err: cause}, cause) {
		t.Error("Unwrap lost the cause")
	}
}

// FuzzParseDecode: hostile files never panic, never hang on aliases, and
// every error is an *Error whose text is printable.
func FuzzParseDecode(f *testing.F) {
	for _, s := range []string{
		"name: x\ninner: {size: 5, interval: 90s}\ntags: [a]\n",
		"a: &a [x, x]\nb: [*a, *a]\n",
		"x:\n  <<: {size: 1}\n",
		"a: b: c\n",
		"\xff\xfe",
		"\ufffd\n",
		"a: \u202e\n",
		"secret: s\ndata: {k: [1, {b: 2}]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, "f.yaml")
		if err == nil {
			err = doc.Decode(&config{})
		}
		if err == nil {
			return
		}
		for _, e := range unjoin(err) {
			var ye *Error
			if !errors.As(e, &ye) {
				t.Fatalf("error %v (%T) is not an *Error", e, e)
			}
		}
		assertPrintable(t, strings.ReplaceAll(err.Error(), "\n", " "))
	})
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func assertPrintable(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			t.Fatalf("message %q holds %U", s, r)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	var m map[string]any
	if err := Unmarshal([]byte("greeting:\n  other: Hallo {{.Name}}\n"), "de.yaml", &m); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m) != "map[greeting:map[other:Hallo {{.Name}}]]" {
		t.Errorf("m = %v", m)
	}
	var v any
	err := Unmarshal([]byte("a: 1\nb: [\n"), "de.yaml", &v)
	var e *Error
	if !errors.As(err, &e) || e.File != "de.yaml" || e.Line != 3 {
		t.Errorf("Unmarshal error = %v, want de.yaml:3", err)
	}
}
