package render

import (
	"encoding/json"
	"testing"
	"testing/fstest"
)

// TestTcTakesACountGivenAsANumber: tc's count taken from the
// campaign's data, `{{tc "posts" .Data.n .}}`. The README's table of
// template data says COUNT is "a whole number or a decimal such as `1.5`,
// as a number or text". Numbers in the campaign's data reach the engine
// as float64 (YAML `n: 1.5`, in preview and plan) and as json.Number (`n:
// 3` or `n: 1.5`, in the worker, which decodes the staged definition with
// json.Decoder.UseNumber: internal/campaign/definition.go FromDefinition).
// Found by red team 11: toCount (plural.go) took a string or an integer
// kind only, so each of these was "not a whole number or a decimal given
// as text": the decimal refused everywhere, the whole number 3 by the
// worker alone. (The campaign's data now reaches every side as the same
// values, campaign.workerData; tc takes floats and json.Number too.)
func TestTcTakesACountGivenAsANumber(t *testing.T) {
	t.Parallel()
	tm := fstest.MapFS{
		"x/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"x/text.tmpl":    {Data: []byte(`{{tc "posts" .Data.n .}}`)},
		"x/html.tmpl":    {Data: []byte(`<p>{{tc "posts" .Data.n .}}</p>`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"Subject\"\n[posts]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n")}}
	tests := []struct {
		name string
		n    any
		want string
	}{
		{"json.Number 3 (the worker's n: 3)", json.Number("3"), "3 posts"},
		{"json.Number 1 (the worker's n: 1)", json.Number("1"), "1 post"},
		{"json.Number 1.5 (the worker's n: 1.5)", json.Number("1.5"), "1.5 posts"},
		{"float64 1.5 (YAML n: 1.5)", 1.5, "1.5 posts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := map[string]any{"n": tt.n}
			e, err := New(Config{Templates: tm, Locales: loc, Template: "x", DefaultLocale: "en", Data: data})
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.Resolve("en")
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Render(m, Data{ID: "1", Email: "a@x.example", Data: data})
			if err != nil {
				t.Fatalf("count %v (%T) from the campaign's data: %v", tt.n, tt.n, err)
			}
			if r.Text != tt.want {
				t.Errorf("text %q, want %q", r.Text, tt.want)
			}
		})
	}
}
