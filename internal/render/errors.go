package render

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLocaleNotCovered is matched (errors.Is) by every *Refusal: the
// recipient's locale has no complete catalog and must not be sent anything.
var ErrLocaleNotCovered = errors.New("locale not covered")

// ErrUnknownTemplate reports that Config.Template names no directory in the
// templates file system.
var ErrUnknownTemplate = errors.New("unknown template")

// UnknownTemplateError reports that Config.Template names no directory of
// the templates file system. It wraps ErrUnknownTemplate; the caller, who
// knows where the templates are, can say it at its own key and path.
type UnknownTemplateError struct {
	Name string   // the template asked for
	Have []string // the templates there are
}

// Msg says what is wrong and what to do, naming no directory.
func (e *UnknownTemplateError) Msg() string {
	return fmt.Sprintf("unknown template %q (templates: %s): name one of those or add its directory", e.Name, strings.Join(e.Have, ", "))
}

func (e *UnknownTemplateError) Error() string { return "load template: " + e.Msg() }

func (e *UnknownTemplateError) Unwrap() error { return ErrUnknownTemplate }

// ErrUnknownMessage reports that Engine.Message was asked for a key that the
// language's catalog does not hold.
var ErrUnknownMessage = errors.New("unknown message")

// ErrNoCatalog reports that a language the configuration depends on (the
// default locale, an alias target, the missing-locale language) has no
// catalog file.
var ErrNoCatalog = errors.New("no catalog")

// NoCatalogError reports that the configuration names a language that has
// no catalog: the default locale, an alias's catalog language or
// missing_locale. It wraps ErrNoCatalog; Key and Msg let a message point at
// the campaign file's key.
type NoCatalogError struct {
	Key  []string // the campaign file's key: default_locale, locale_policy aliases <locale>, locale_policy missing_locale
	Lang string   // the language named
	Have []string // the languages there are catalogs for
}

// Msg says what is wrong and what to do.
func (e *NoCatalogError) Msg() string {
	return fmt.Sprintf("no catalog for %q (catalogs: %s): add %s.toml to the locales directory or use one of those languages",
		e.Lang, strings.Join(e.Have, ", "), strings.TrimSpace(e.Lang))
}

func (e *NoCatalogError) Error() string { return strings.Join(e.Key, ".") + ": " + e.Msg() }

func (e *NoCatalogError) Unwrap() error { return ErrNoCatalog }

// Refusal codes, the stable values of Refusal.Code.
const (
	CodeNotCovered = "not-covered"
	CodeIncomplete = "incomplete"
	CodeUnparsable = "unparsable"
	CodeEmpty      = "empty"
)

// Refusal explains why a recipient's locale is not covered. Its Error is the
// Reason, for example "not-covered: no catalog for pt" or
// "incomplete: it lacks welcome.reregister".
type Refusal struct {
	Requested string // the raw locale of the recipient
	Code      string // not-covered, incomplete, unparsable or empty
	// Reason is human-readable and stable: what is wrong, then, after
	// ": ", Fix.
	Reason string
	// Fix is the end of Reason that says what to do (the catalog file to
	// add, the campaign key that maps the locale) and that nobody it
	// refuses is sent; "" when Reason says it in its own words. A table
	// short of room shows Short, beside a full Reason elsewhere.
	Fix  string
	Lang string // the catalog language that matched but is incomplete, if any
	// Catalog is, of a locale refused because no catalog of its language
	// exists, the name of the catalog file Fix says to add to the locales
	// directory (pt.toml for pt-BR); "" otherwise.
	Catalog string
}

// refusal returns a Refusal whose Reason is problem, then fix.
func refusal(requested, code, lang, problem, fix string) *Refusal {
	return &Refusal{Requested: requested, Code: code, Lang: lang, Reason: problem + ": " + fix, Fix: fix}
}

// Short is Reason without Fix: what is wrong, alone.
func (r *Refusal) Short() string { return ShortReason(r.Reason, r.Fix) }

// ShortReason is reason without its fix (the end of reason after ": "),
// or reason whole when it does not end so.
func ShortReason(reason, fix string) string {
	if fix == "" {
		return reason
	}
	return strings.TrimSuffix(reason, ": "+fix)
}

// Error returns the refusal reason.
func (r *Refusal) Error() string { return r.Reason }

// Is reports whether target is ErrLocaleNotCovered.
func (r *Refusal) Is(target error) bool { return target == ErrLocaleNotCovered }

// FileError is a problem in a template or catalog file that stops the engine
// from being built. File is named like the keys of Snapshot
// ("templates/welcome/html.tmpl", "locales/de.toml"); use ResolvePath to turn
// it into a path on disk. Line is 0 when unknown. Key is the message key when
// the problem is one catalog message (a message the catalog rule refuses, or
// one that is not a valid template).
type FileError struct {
	File string
	Line int
	Key  string
	Msg  string
}

// problem is e as a lint error.
func (e *FileError) problem() Problem {
	return Problem{File: e.File, Line: e.Line, Key: e.Key, Severity: SeverityError, Msg: e.Msg}
}

// Error returns "file:line: msg" (or "file: msg" without a line).
func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Causes of a RenderError, the stable values of RenderError.Cause.
const (
	// CauseMissingColumn: the recipient has no column Column, which the
	// template (or a catalog message it uses) reads as .Fields.<column>.
	CauseMissingColumn = "missing-column"
	// CauseBadCount: the count tc is given from column Column is not a
	// number.
	CauseBadCount = "bad-count"
	// CauseMissingData: the campaign's data has no value at Field
	// (.Data.<key>...).
	CauseMissingData = "missing-data"
	// CauseDirectionControl: column Column, which the template prints,
	// holds a direction control (see directionControl) at byte At.
	CauseDirectionControl = "direction-control"
)

// RenderError reports that the template could not be rendered for one
// recipient (a locale the rule does not cover is a *Refusal instead). Its
// Error says what is wrong, where and what to do:
//
//	templates/welcome/html.tmpl:19: en: .Fields.posts: this recipient has no column "posts": add it to the recipients file, with a value for every recipient
//
// Err is the error of the template engine (text/template's, with its
// internal names), for logs; Unwrap returns it.
type RenderError struct {
	File  string // the template file, as Snapshot names it: templates/welcome/html.tmpl
	Line  int    // the line of File that uses Field, or the message Key; 0 when not known
	Lang  string // the catalog language
	Key   string // the catalog message that failed, "" when the template itself did
	KeyAt string // where that message is: locales/en.toml:4
	// Field is the data field at fault (.Fields.posts, .Data.url), ""
	// when not known; Cause says what is wrong with it ("" when not known).
	Field  string
	Cause  string
	Column string // the recipients column of a missing-column or bad-count cause
	Value  string // the value of a bad-count cause
	// CountOf is the message a bad count is the count of (tc "posts").
	CountOf string
	// Char and At are the direction control of a direction-control cause
	// and its byte offset in the value.
	Char rune
	At   int
	Err  error
}

// Error returns "file:line: lang: [message KEY (file:line): ]field: what
// is wrong: what to do".
func (e *RenderError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	fmt.Fprintf(&b, ": %s: ", e.Lang)
	if e.Key != "" {
		fmt.Fprintf(&b, "message %s (%s): ", e.Key, e.KeyAt)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	switch e.Cause {
	case CauseMissingColumn:
		fmt.Fprintf(&b, "this recipient has no column %q: add it to the recipients file, with a value for every recipient", e.Column)
	case CauseBadCount:
		fmt.Fprintf(&b, "%s (the count of message %s): fix the value in column %q of the recipients file", countProblem(e.Value), e.CountOf, e.Column)
	case CauseDirectionControl:
		fmt.Fprintf(&b, "holds U+%04X (a direction control) at byte %d, which reorders how the text around it is shown: remove it from column %q of the recipients file; right-to-left text needs none", e.Char, e.At, e.Column)
	case CauseMissingData:
		fmt.Fprintf(&b, "the campaign's data has no %s: add it under data: in the campaign file", strings.TrimPrefix(e.Field, ".Data."))
	default:
		fmt.Fprintf(&b, "cannot be rendered for this recipient (%v): fix the template or this recipient's data", e.Err)
	}
	return b.String()
}

// Unwrap returns the template engine's error.
func (e *RenderError) Unwrap() error { return e.Err }
