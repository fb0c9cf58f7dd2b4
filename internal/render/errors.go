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
	Reason    string // human-readable, stable
	Lang      string // the catalog language that matched but is incomplete, if any
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
