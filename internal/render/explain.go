package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// renderError turns err, the error of executing template file (html.tmpl)
// of l for v, into a *RenderError that says what is wrong and where. The
// template engine's error names no column and no line of ours that an
// operator can act on, so the cause is found from what it wraps (a catalog
// message, a count) and from the data: the first use, in file order, of a
// field the recipient or the campaign's data lacks.
func (e *Engine) renderError(l *engineLang, file string, v *view, err error) *RenderError {
	re := &RenderError{File: "templates/" + e.name + "/" + file, Lang: l.cat.lang, Err: err}
	var ce *countErr
	var me *messageError
	switch {
	case errors.As(err, &ce):
		value := fmt.Sprint(ce.value)
		for _, u := range e.fields {
			if u.File == re.File && u.Count && u.Chain[0] == "Fields" {
				if s, ok := v.Fields[u.Chain[1]]; ok && s == value {
					re.Line, re.Field, re.Cause, re.Column, re.Value, re.CountOf = u.Line, ".Fields."+u.Chain[1], CauseBadCount, u.Chain[1], value, ce.key
					break
				}
			}
		}
	case errors.As(err, &me):
		re.Key, re.KeyAt = me.key, fmt.Sprintf("%s:%d", l.cat.file, l.cat.line(me.key))
		if i := slices.IndexFunc(e.uses, func(u keyUse) bool { return u.File == re.File && u.Key == me.key }); i >= 0 {
			re.Line = e.uses[i].Line
		}
		fields := make([]string, 0, len(l.cat.fields[me.key]))
		for f := range l.cat.fields[me.key] {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		for _, f := range fields {
			if chain := strings.Split(strings.TrimPrefix(f, "."), "."); lacks(v, chain) {
				re.explain(chain)
				break
			}
		}
	default:
		for _, u := range e.fields {
			if u.File == re.File && lacks(v, u.Chain) {
				re.Line = u.Line
				re.explain(u.Chain)
				break
			}
		}
	}
	return re
}

// explain sets the field and cause of a chain the data lacks.
func (re *RenderError) explain(chain []string) {
	re.Field = "." + strings.Join(chain, ".")
	if chain[0] == "Fields" {
		re.Cause, re.Column = CauseMissingColumn, chain[1]
	} else {
		re.Cause = CauseMissingData
	}
}

// lacks reports whether v has no value at chain (["Fields", "posts"],
// ["Data", "a", "b"]), where a template with missingkey=error fails.
func lacks(v *view, chain []string) bool {
	if len(chain) < 2 {
		return false
	}
	switch chain[0] {
	case "Fields":
		_, ok := v.Fields[chain[1]]
		return !ok
	case "Data":
		var cur any = v.Data
		for _, k := range chain[1:] {
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if cur, ok = m[k]; !ok {
				return true
			}
		}
	}
	return false
}
