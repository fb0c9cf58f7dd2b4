package render

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// TestColumnWithDirectionControlIsNotRendered: a recipients column the
// template prints, in the subject or through a catalog message, that holds
// a bidirectional override, embedding or isolate control (U+202A-U+202E,
// U+2066-U+2069) is not rendered: Render and Check return a *RenderError
// (CauseDirectionControl) saying which column, which character and what to
// do, and plan counts the row invalid. Found by red team 39: the name
// column was refused for them (recipient, direction-control) but any other
// column reached the subject and the body as is: "\u202egro.aetla-yap" was
// sent in the Subject: header, which a mail client shows as
// "pay-altea.org" (an attacker-supplied value could rewrite the subject
// the recipient reads). The marks U+200E, U+200F and U+061C,
// which right-to-left text uses, are rendered; a column the template does
// not use is not looked at.
func TestColumnWithDirectionControlIsNotRendered(t *testing.T) {
	t.Parallel()
	tm := fstest.MapFS{
		"x/subject.tmpl": {Data: []byte(`{{t "s" .}} {{.Fields.shop}}`)},
		"x/text.tmpl":    {Data: []byte("{{t \"city\" .}}\n")},
		"x/html.tmpl":    {Data: []byte(`<p>{{t "city" .}}</p>`)},
	}
	loc := fstest.MapFS{
		"en.toml": {Data: []byte("[s]\nother = \"Your order from\"\n[city]\nother = \"Delivered to {{.Fields.city}}.\"\n")},
		"ar.toml": {Data: []byte("[s]\nother = \"طلبك من\"\n[city]\nother = \"تم التسليم إلى {{.Fields.city}}.\"\n")},
	}
	e, err := New(Config{Templates: tm, Locales: loc, Template: "x", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, lang, shop, city, notes string
		want                          string // the error's text, "" when it renders
	}{
		{"override in the subject", "en", "Altea \u202egro.aetla-yap", "Paris", "",
			`templates/x/subject.tmpl:1: en: .Fields.shop: holds U+202E (a direction control) at byte 6, which reorders how the text around it is shown: remove it from column "shop" of the recipients file; right-to-left text needs none`},
		{"isolate in the subject", "ar", "\u2067متجر\u2069", "Paris", "",
			`templates/x/subject.tmpl:1: ar: .Fields.shop: holds U+2067 (a direction control) at byte 0, which reorders how the text around it is shown: remove it from column "shop" of the recipients file; right-to-left text needs none`},
		{"embedding through a catalog message", "ar", "Altea", "\u202bالقاهرة\u202c", "",
			`templates/x/html.tmpl:1: ar: message city (locales/ar.toml:3): .Fields.city: holds U+202B (a direction control) at byte 0, which reorders how the text around it is shown: remove it from column "city" of the recipients file; right-to-left text needs none`},
		{"marks are right-to-left text's own", "ar", "Altea\u200f", "\u061cالقاهرة\u200e", "", ""},
		{"a column the template does not print", "en", "Altea", "Paris", "\u202e", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := e.Resolve(tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			d := Data{ID: "1", Email: "a@x.example", Name: "A", Fields: map[string]string{"shop": tt.shop, "city": tt.city, "notes": tt.notes}}
			r, rerr := e.Render(m, d)
			cerr := e.Check(m, d)
			if tt.want == "" {
				if rerr != nil || cerr != nil {
					t.Fatalf("Render: %v; Check: %v; want both to succeed", rerr, cerr)
				}
				if !strings.Contains(r.Subject, tt.shop) {
					t.Errorf("subject %q lacks the column's value %q", r.Subject, tt.shop)
				}
				return
			}
			if rerr == nil {
				t.Fatalf("Render succeeded with subject %q and text %q, want: %s", r.Subject, r.Text, tt.want)
			}
			for _, err := range []error{rerr, cerr} {
				var re *RenderError
				if !errors.As(err, &re) || re.Cause != CauseDirectionControl {
					t.Fatalf("error %v (%T), want a *RenderError with cause %s", err, err, CauseDirectionControl)
				}
				if err.Error() != tt.want {
					t.Errorf("error\n %s\nwant\n %s", err, tt.want)
				}
			}
		})
	}
}

// TestColumnReadThroughFieldsItselfIsLookedAt: a template that reads a
// column through .Fields itself ({{index .Fields "shop"}}, {{range
// .Fields}}, {{with .Fields}}, a variable holding it) prints columns the
// analysis cannot name, so every column of the row is looked at: a
// direction control in any is refused, at that use. Before, only columns
// written .Fields.<column> were, and each of these four sent the subject
// "Your order from Altea \u202egro.aetla-yap" (found in the final review
// of this session, with a probe of each form).
func TestColumnReadThroughFieldsItselfIsLookedAt(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, subject string }{
		{"index", `{{t "s" .}} {{index .Fields "shop"}}`},
		{"range", `{{t "s" .}} {{range .Fields}}{{.}}{{end}}`},
		{"with", `{{t "s" .}} {{with .Fields}}{{.shop}}{{end}}`},
		{"variable", `{{t "s" .}} {{$f := $.Fields}}{{$f.shop}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tm := fstest.MapFS{
				"x/subject.tmpl": {Data: []byte(tt.subject)},
				"x/text.tmpl":    {Data: []byte("{{t \"s\" .}}\n")},
				"x/html.tmpl":    {Data: []byte(`<p>{{t "s" .}}</p>`)},
			}
			loc := fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"Your order from\"\n")}}
			e, err := New(Config{Templates: tm, Locales: loc, Template: "x", DefaultLocale: "en"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.Resolve("en")
			if err != nil {
				t.Fatal(err)
			}
			clean := Data{ID: "1", Email: "a@x.example", Name: "A", Fields: map[string]string{"shop": "Altea\u200f"}}
			if r, err := e.Render(m, clean); err != nil || !strings.Contains(r.Subject, "Altea") {
				t.Fatalf("a clean row: subject %q, %v; want it rendered", r.Subject, err)
			}
			d := Data{ID: "1", Email: "a@x.example", Name: "A", Fields: map[string]string{"shop": "Altea \u202egro.aetla-yap"}}
			r, rerr := e.Render(m, d)
			if rerr == nil {
				t.Fatalf("Render succeeded with subject %q, want the row refused", r.Subject)
			}
			for _, err := range []error{rerr, e.Check(m, d)} {
				var re *RenderError
				if !errors.As(err, &re) || re.Cause != CauseDirectionControl || re.Column != "shop" || re.File != "templates/x/subject.tmpl" {
					t.Fatalf("error %v (%T), want a *RenderError with cause %s for column shop at templates/x/subject.tmpl", err, err, CauseDirectionControl)
				}
			}
		})
	}
}
