package render

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"testing"
	texttemplate "text/template"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	i18ntemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"

	"github.com/tidings-mail/tidings/internal/oneline"
)

// reference renders a template the plain way, independently of the
// engine's message tables and per-language templates: the template files
// parsed as they are with html/template and text/template, and every
// message localized by go-i18n itself, over one bundle holding every
// catalog (the way go-i18n is meant to be used). The locale rule is the
// engine's (Resolve); the reference only checks that go-i18n answered in the
// recipient's language and refuses otherwise, since go-i18n falls back to
// the default language silently.
type reference struct {
	e             *Engine
	bundle        *i18n.Bundle
	locs          map[string]*i18n.Localizer // by language, built up front
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

// refView is the reference's template data: the fields of view, and the
// language to localize in.
type refView struct {
	view
	loc *i18n.Localizer
	tag language.Tag
}

var refParser = &i18ntemplate.TextParser{Option: "missingkey=error"}

// newReference builds the reference for the engine's template from the same
// files.
func newReference(t testing.TB, e *Engine, templates, locales fs.FS) *reference {
	t.Helper()
	set, err := loadTemplate(templates, e.name)
	if err != nil {
		t.Fatal(err)
	}
	cats, err := loadCatalogs(locales)
	if err != nil {
		t.Fatal(err)
	}
	r := &reference{e: e, bundle: i18n.NewBundle(language.English)}
	r.locs = map[string]*i18n.Localizer{}
	for _, c := range cats {
		if err := r.bundle.AddMessages(c.tag, c.messages...); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cats {
		r.locs[c.lang] = i18n.NewLocalizer(r.bundle, c.lang)
	}
	funcs := map[string]any{"t": r.t, "tc": r.tc}
	src := func(f string) string { return string(set.files["templates/"+e.name+"/"+f]) }
	r.subject = texttemplate.Must(texttemplate.New("subject.tmpl").Funcs(funcs).Option("missingkey=error").Parse(src("subject.tmpl")))
	r.text = texttemplate.Must(texttemplate.New("text.tmpl").Funcs(funcs).Option("missingkey=error").Parse(src("text.tmpl")))
	r.html = htmltemplate.Must(htmltemplate.New("html.tmpl").Funcs(funcs).Option("missingkey=error").Parse(src("html.tmpl")))
	return r
}

// localizer returns go-i18n's localizer for catalog language lang over the
// whole bundle.
func (r *reference) localizer(lang string) *i18n.Localizer { return r.locs[lang] }

func (r *reference) t(key string, data any) (string, error) {
	v, ok := data.(*refView)
	if !ok {
		return "", fmt.Errorf("t %q: the last argument must be the template data", key)
	}
	return r.localize(key, v, nil)
}

func (r *reference) tc(key string, count, data any) (string, error) {
	v, ok := data.(*refView)
	if !ok {
		return "", fmt.Errorf("tc %q: the last argument must be the template data", key)
	}
	c, err := toCount(count)
	if err != nil {
		return "", fmt.Errorf("tc %q: %w", key, err)
	}
	return r.localize(key, v, &c)
}

// localize asks go-i18n for message key in v's language.
func (r *reference) localize(key string, v *refView, count *pluralCount) (string, error) {
	lc := &i18n.LocalizeConfig{MessageID: key, TemplateData: v, TemplateParser: refParser}
	if count != nil {
		cp := *v
		cp.Count = count.text
		lc.TemplateData = &cp
		lc.PluralCount = count.text
		if count.isInt {
			lc.PluralCount = count.n
		}
	}
	s, tag, err := v.loc.LocalizeWithTag(lc)
	if tag != v.tag && tag != language.Und {
		return "", &Refusal{Requested: v.RequestedLocale, Code: CodeNotCovered, Reason: "go-i18n answered in " + tag.String()}
	}
	if err != nil {
		var nf *i18n.MessageNotFoundErr
		if errors.As(err, &nf) {
			return "", &Refusal{Requested: v.RequestedLocale, Code: CodeIncomplete, Reason: "go-i18n has no " + key}
		}
		return "", fmt.Errorf("message %s: %w", key, err)
	}
	return s, nil
}

// view returns the reference's data for m, d (m already resolved).
func (r *reference) view(m Match, d Data) *refView {
	tag := language.MustParse(m.Lang)
	return &refView{view: view{ID: d.ID, Email: d.Email, Name: d.Name, Campaign: d.Campaign,
		Locale: m.Lang, RequestedLocale: m.Requested, Dir: direction(tag),
		Fields: d.Fields, Data: d.Data, Count: "0"}, loc: r.localizer(m.Lang), tag: tag}
}

// render renders m, d the plain way, after the engine's locale rule.
func (r *reference) render(m Match, d Data) (Rendered, error) {
	l, err := r.e.langFor(m)
	if err != nil {
		return Rendered{}, err
	}
	m.Lang = l.cat.lang
	v := r.view(m, d)
	var out Rendered
	out.Lang = m.Lang
	var b bytes.Buffer
	if err := r.subject.Execute(&b, v); err != nil {
		return Rendered{}, err
	}
	out.Subject = oneline.Of(b.String())
	b.Reset()
	if err := r.html.Execute(&b, v); err != nil {
		return Rendered{}, err
	}
	out.HTML = b.String()
	b.Reset()
	if err := r.text.Execute(&b, v); err != nil {
		return Rendered{}, err
	}
	out.Text = b.String()
	return out, nil
}

// assertSameRendering renders m, d with Render and with the reference and
// fails on any difference, including in errors (both fail, and refusals are
// refusals of the same code on both).
func assertSameRendering(t testing.TB, e *Engine, ref *reference, m Match, d Data) {
	t.Helper()
	got, gerr := e.Render(m, d)
	want, werr := ref.render(m, d)
	assertCheckAgrees(t, e, m, d, gerr)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%s %+v: Render error %v, reference error %v", m.Lang, d.Fields, gerr, werr)
	}
	if gerr != nil {
		var gr, wr *Refusal
		if errors.As(gerr, &gr) != errors.As(werr, &wr) || (gr != nil && gr.Code != wr.Code) {
			t.Fatalf("%s %+v: Render error %v, reference error %v", m.Lang, d.Fields, gerr, werr)
		}
		return
	}
	if got != want {
		t.Fatalf("%s %+v: Render differs from the reference\n--- Render ---\n%+v\n--- reference ---\n%+v", m.Lang, d.Fields, got, want)
	}
}
