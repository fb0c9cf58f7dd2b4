package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tidings-mail/tidings/internal/csvcell"
)

// Direction controls in the data.
//
// A bidirectional embedding, override or isolate control (U+202A-U+202E,
// U+2066-U+2069) reorders the text after it as it is shown: in the
// subject, up to its end; in a paragraph of the HTML or a line of the
// text, up to theirs. No mail client shows the character itself. A
// recipients column that holds one and that the message prints lets the
// data rearrange what the message says: "\u202egro.aetla-yap" is shown
// "pay-altea.org". Render refuses such a row (CauseDirectionControl)
// rather than strip the character, which would send a value other than
// the data's, or isolate it, which still reverses the value itself.
// Right-to-left text needs none: its marks (U+200E, U+200F, U+061C) are
// not controls and are rendered (csvcell.IsDirectionControl). The name
// column is the recipient package's, which refuses the same characters
// there; the campaign's data is the operator's reviewed file.

// printedColumn is a recipients column a language's messages print, and its
// first use: a template file's line, or the message of the language's
// catalog that prints it, called from that line.
type printedColumn struct {
	column     string
	file       string
	line       int
	key, keyAt string
}

// printedColumns returns the recipients columns the template prints in
// language l, directly or through one of l's messages it uses, each once,
// in the order of their first use.
func (e *Engine) printedColumns(l *engineLang) []printedColumn {
	var out []printedColumn
	seen := map[string]bool{}
	add := func(p printedColumn) {
		if !seen[p.column] {
			seen[p.column] = true
			out = append(out, p)
		}
	}
	for _, f := range templateFiles {
		file := "templates/" + e.name + "/" + f
		for _, u := range e.fields {
			if u.File == file && len(u.Chain) == 2 && u.Chain[0] == "Fields" {
				add(printedColumn{column: u.Chain[1], file: file, line: u.Line})
			}
		}
		for _, u := range e.uses {
			if u.File != file {
				continue
			}
			var cols []string
			for f := range l.cat.fields[u.Key] {
				if c, ok := strings.CutPrefix(f, ".Fields."); ok && !strings.Contains(c, ".") {
					cols = append(cols, c)
				}
			}
			slices.Sort(cols)
			for _, c := range cols {
				add(printedColumn{column: c, file: file, line: u.Line, key: u.Key, keyAt: fmt.Sprintf("%s:%d", l.cat.file, l.cat.line(u.Key))})
			}
		}
	}
	return out
}

// directionControlIn returns the first column of l.printed whose value in
// d holds a direction control, as a *RenderError, or nil.
//
// A template that uses .Fields itself ({{index .Fields "c"}}, {{range
// .Fields}}, {{with .Fields}}, a variable of it) may print any column, so
// then every column of d is looked at, named at that use.
func (e *Engine) directionControlIn(l *engineLang, d Data) error {
	if len(e.fieldsItself) > 0 {
		cols := make([]string, 0, len(d.Fields))
		for c := range d.Fields {
			cols = append(cols, c)
		}
		slices.Sort(cols)
		u := e.fieldsItself[0]
		for _, col := range cols {
			if c, at, ok := csvcell.DirectionControl(d.Fields[col]); ok {
				return &RenderError{
					File: u.File, Line: u.Line, Lang: l.cat.lang,
					Field: ".Fields." + col, Cause: CauseDirectionControl, Column: col,
					Char: c, At: at, Err: fmt.Errorf("column %q holds U+%04X at byte %d", col, c, at),
				}
			}
		}
	}
	for _, p := range l.printed {
		if c, at, ok := csvcell.DirectionControl(d.Fields[p.column]); ok {
			return &RenderError{
				File: p.file, Line: p.line, Lang: l.cat.lang, Key: p.key, KeyAt: p.keyAt,
				Field: ".Fields." + p.column, Cause: CauseDirectionControl, Column: p.column,
				Char: c, At: at, Err: fmt.Errorf("column %q holds U+%04X at byte %d", p.column, c, at),
			}
		}
	}
	return nil
}
