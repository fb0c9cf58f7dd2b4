package render

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	texttemplate "text/template"
)

// message is one catalog message, parsed once when the engine is built: one
// entry per plural form, indexed like pluralForms.
type message struct {
	forms [numForms]messageForm
}

// messageForm is one plural form of a message: a text/template, or the text
// itself when it holds no action (go-i18n's own rule: no left delimiter, no
// template).
type messageForm struct {
	ok    bool // the catalog has this form
	text  string
	tmpl  *texttemplate.Template
	plain []plainPart // tmpl's tree as parts, if it is plain (plain.go)
}

// compileMessages parses every message of catalog c the way go-i18n's
// TextParser does (the message's own delimiters, missingkey=error), into a
// table of c's messages alone. Every message has passed the catalog rule, so
// none calls a function.
func compileMessages(c *catalog) (map[string]*message, error) {
	out := make(map[string]*message, len(c.messages))
	for _, m := range c.messages {
		cm := &message{}
		for i, src := range [numForms]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
			if src == "" {
				continue // go-i18n: an empty form is an absent form
			}
			f, err := compileForm(src, m.LeftDelim, m.RightDelim)
			if err != nil {
				return nil, &FileError{File: c.file, Line: c.line(m.ID), Key: m.ID, Msg: fmt.Sprintf("message %s (%s) is not a valid template: %s", m.ID, pluralForms[i], err.Error())}
			}
			cm.forms[i] = f
		}
		out[m.ID] = cm
	}
	return out, nil
}

// compileForm parses one form as go-i18n's template.TextParser does.
func compileForm(src, left, right string) (messageForm, error) {
	if left == "" {
		left = "{{"
	}
	if !strings.Contains(src, left) {
		return messageForm{ok: true, text: src}, nil
	}
	if right == "" {
		right = "}}"
	}
	t, err := texttemplate.New("").Delims(left, right).Option("missingkey=error").Parse(src)
	if err != nil {
		return messageForm{}, err
	}
	return messageForm{ok: true, tmpl: t, plain: plainOf(t.Tree, false, true)}, nil
}

// t is the template function t of l's templates: {{t "key" .}}.
func (l *engineLang) t(key string, data any) (string, error) {
	v, ok := data.(*view)
	if !ok {
		return "", fmt.Errorf("t %q: the last argument must be the template data: write {{t %q .}} (or $ instead of . inside range and with)", key, key)
	}
	return l.localize(key, v, nil)
}

// tc is the template function tc of l's templates:
// {{tc "key" .Fields.posts .}}.
func (l *engineLang) tc(key string, count any, data any) (string, error) {
	v, ok := data.(*view)
	if !ok {
		return "", fmt.Errorf("tc %q: the last argument must be the template data: write {{tc %q .Fields.count .}} (or $ instead of . inside range and with)", key, key)
	}
	n, err := toCount(count)
	if err != nil {
		if ce := (*countErr)(nil); errors.As(err, &ce) {
			ce.key = key
		}
		return "", fmt.Errorf("tc %q: %w", key, err)
	}
	return l.localize(key, v, &n)
}

// localize renders message key from l's own catalog, and from nothing else:
// a key the catalog lacks is a refusal, never a fallback. With a count, the
// form is the one go-i18n's rule for the language selects, and .Count is the
// count; without, the form is other.
func (l *engineLang) localize(key string, v *view, count *pluralCount) (string, error) {
	msg := l.msgs[key]
	if msg == nil {
		return "", &Refusal{Requested: v.RequestedLocale, Code: CodeIncomplete, Lang: l.cat.lang,
			Reason: fmt.Sprintf("incomplete: %s lacks %s", l.cat.lang, key)}
	}
	f := formOther
	if count != nil {
		var err error
		if f, err = l.rule.form(*count); err != nil {
			return "", &messageError{key: key, err: err}
		}
	}
	mf := &msg.forms[f]
	if !mf.ok {
		return "", &Refusal{Requested: v.RequestedLocale, Code: CodeIncomplete, Lang: l.cat.lang,
			Reason: fmt.Sprintf("incomplete: %s lacks %s (%s)", l.cat.lang, key, pluralForms[f])}
	}
	if mf.tmpl == nil {
		return mf.text, nil
	}
	if mf.plain != nil {
		c := v.Count
		if count != nil {
			c = count.text
		}
		if s, ok := execPlain(mf.plain, v, c); ok {
			return s, nil
		}
	}
	data := v
	if count != nil {
		data = getView()
		*data = *v
		data.Count = count.text
		defer putView(data)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := mf.tmpl.Execute(buf, data); err != nil {
		return "", &messageError{key: key, err: err}
	}
	return buf.String(), nil
}

// messageError is a catalog message that failed for a recipient: "message
// KEY: " and its error. Render's *RenderError names the message from it.
type messageError struct {
	key string
	err error
}

func (e *messageError) Error() string { return "message " + e.key + ": " + e.err.Error() }

func (e *messageError) Unwrap() error { return e.err }

// Message renders one catalog message for the recipient of m, as Render
// would inside the template: the same locale rule (m must resolve to
// m.Lang, which must be covered), the same catalog, the same plural rule.
// count is "" for a message used through t; else the count, as tc takes it
// ("3", "1.5"). The result is text: the caller escapes it where it shows it.
// A key the language's catalog lacks wraps ErrUnknownMessage.
func (e *Engine) Message(m Match, key, count string, d Data) (string, error) {
	l, err := e.langFor(m)
	if err != nil {
		return "", err
	}
	if l.msgs[key] == nil {
		return "", fmt.Errorf("message %s in %s: %w", key, l.cat.lang, ErrUnknownMessage)
	}
	v := newView(l, m, d)
	defer putView(v)
	var c *pluralCount
	if count != "" {
		n, err := parseCount(count)
		if err != nil {
			return "", fmt.Errorf("message %s: %w", key, countError(count))
		}
		c = &n
	}
	return l.localize(key, v, c)
}

// PluralMessages returns the message keys the template uses through tc,
// sorted: the messages whose every plural form a language must hold.
func (e *Engine) PluralMessages() []string {
	var out []string
	for _, k := range e.keys {
		if k.Plural {
			out = append(out, k.Key)
		}
	}
	return out
}

// bufferPool holds the buffers templates and messages execute into.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := bufferPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// putBuffer returns b to the pool unless it grew unusually large.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bufferPool.Put(b)
	}
}
