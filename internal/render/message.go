package render

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	texttemplate "text/template"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// compiledMessage is one catalog message, parsed once when the engine is
// built: one entry per plural form, indexed like pluralForms.
type compiledMessage struct {
	forms [numForms]compiledForm
}

// compiledForm is one plural form of a message: a parsed text/template, or
// the text itself when it holds no action (go-i18n's own fast path).
type compiledForm struct {
	ok   bool // the catalog has this form
	text string
	tmpl *texttemplate.Template
	prog *program // tmpl compiled, or nil
}

// compileMessages parses every message of catalog c exactly as go-i18n's
// TextParser does with the engine's options (missingkey=error, the message's
// own delimiters), so that executing them gives go-i18n's output.
func compileMessages(c *catalog) (map[string]*compiledMessage, error) {
	out := make(map[string]*compiledMessage, len(c.messages))
	for _, m := range c.messages {
		cm := &compiledMessage{}
		for i, src := range [numForms]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
			if src == "" {
				continue // go-i18n: an empty form is an absent form
			}
			f, err := compileForm(src, m.LeftDelim, m.RightDelim)
			if err != nil {
				return nil, &FileError{File: c.file, Line: c.line(m.ID), Msg: fmt.Sprintf("message %s (%s) is not a valid template: %s", m.ID, pluralForms[i], err.Error())}
			}
			cm.forms[i] = f
		}
		out[m.ID] = cm
	}
	return out, nil
}

// compileForm mirrors go-i18n's template.TextParser.Parse.
func compileForm(src, left, right string) (compiledForm, error) {
	if left == "" {
		left = "{{"
	}
	if !strings.Contains(src, left) {
		return compiledForm{ok: true, text: src}, nil
	}
	if right == "" {
		right = "}}"
	}
	t, err := texttemplate.New("").Delims(left, right).Option(msgParser.Option).Parse(src)
	if err != nil {
		return compiledForm{}, err
	}
	f := compiledForm{ok: true, tmpl: t}
	if t.Tree != nil {
		f.prog, _ = compileProgram(t.Tree.Root, false)
	}
	return f, nil
}

// localize renders message key from l's compiled catalog, and from nothing
// else: a key the catalog lacks is a refusal, never a fallback. With plural,
// the form is the one go-i18n's rule of the language selects for count.
func (l *engineLang) localize(key string, data *view, count int64, plural bool) (string, error) {
	msg := l.msgs[key]
	if msg == nil {
		return "", &Refusal{Requested: data.RequestedLocale, Code: CodeIncomplete, Lang: l.cat.lang,
			Reason: fmt.Sprintf("incomplete: %s lacks %s", l.cat.lang, key)}
	}
	f := formOther
	if plural {
		var err error
		if f, err = l.rule.form(count); err != nil {
			return "", fmt.Errorf("message %s: %w", key, err)
		}
	}
	cf := &msg.forms[f]
	if !cf.ok {
		return "", &Refusal{Requested: data.RequestedLocale, Code: CodeIncomplete, Lang: l.cat.lang,
			Reason: fmt.Sprintf("incomplete: %s lacks %s (%s)", l.cat.lang, key, pluralForms[f])}
	}
	if cf.tmpl == nil {
		return cf.text, nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if err := cf.tmpl.Execute(buf, data); err != nil {
		return "", fmt.Errorf("message %s: %w", key, err)
	}
	return buf.String(), nil
}

// localizeI18n renders message key through go-i18n, checking that the
// answer comes from l's language. It is the reference the compiled catalog
// is proven equal to (TestCompiledEqualsI18n); Render does not use it.
func (l *engineLang) localizeI18n(key string, data *view, count any) (string, error) {
	lc := &i18n.LocalizeConfig{MessageID: key, TemplateData: data, TemplateParser: msgParser}
	if count != nil {
		lc.PluralCount = count
	}
	s, tag, err := l.loc.LocalizeWithTag(lc)
	if tag != l.cat.tag && tag != language.Und {
		// go-i18n fell back to another language: never let it through.
		return "", &Refusal{Requested: data.RequestedLocale, Code: CodeNotCovered, Lang: l.cat.lang,
			Reason: fmt.Sprintf("not-covered: message %s is not in the %s catalog", key, l.cat.lang)}
	}
	if err != nil {
		var nf *i18n.MessageNotFoundErr
		if errors.As(err, &nf) {
			return "", &Refusal{Requested: data.RequestedLocale, Code: CodeIncomplete, Lang: l.cat.lang,
				Reason: fmt.Sprintf("incomplete: %s lacks %s", l.cat.lang, key)}
		}
		return "", fmt.Errorf("message %s: %w", key, err)
	}
	return s, nil
}
