// Package bundle loads a campaign file with everything it points to: the
// campaign itself (package campaign), its templates and catalogs as file
// systems, the template engine built from them (package render) and its
// recipients file. Every command that takes a campaign file starts here:
// plan, send, rehearse, test-send, preview, doctor, check and the console.
//
// Errors are typed (*NotFoundError, *DirError, *RecipientsError) or wrap
// the campaign's and the engine's own, always naming the file, so that the
// command line words them; this package never names a command or a flag.
package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/userfile"
	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// Bundle is a campaign file with everything it points to, validated.
type Bundle struct {
	// File is the campaign file's path as given.
	File     string
	Campaign *campaign.Campaign
	// Templates and Locales are the campaign's templates_dir and
	// locales_dir; Engine is built from them. All three are nil after
	// LoadFile.
	Templates, Locales fs.FS
	Engine             *render.Engine
}

// NotFoundError says that the campaign file does not exist.
type NotFoundError struct{ File string }

// Error says what went wrong.
func (e *NotFoundError) Error() string { return "campaign file " + e.File + " does not exist" }

// DirError says that a directory the campaign file names (Key is
// templates_dir or locales_dir, at Line) is not a directory.
type DirError struct {
	File, Key, Dir string
	Line           int
}

// Error says what went wrong, where and what to do: "file:line: key: ...".
func (e *DirError) Error() string {
	return (&yamlnode.Error{File: e.File, Line: e.Line, Field: e.Key,
		Msg: fmt.Sprintf("%s is not a directory: fix the path (relative to the campaign file)", e.Dir)}).Error()
}

// RecipientsError says that the campaign's recipients file cannot be read.
type RecipientsError struct {
	File, Path string // the campaign file, the recipients file
	Err        error
	// inPath: what is wrong is the path the campaign file's recipients:
	// names (no such file, not a file), not the file's content.
	inPath bool
}

// Error says what went wrong.
func (e *RecipientsError) Error() string {
	return fmt.Sprintf("%s: recipients file: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *RecipientsError) Unwrap() error { return e.Err }

// InFile reports whether what is wrong is in the recipients file's content
// (empty, not UTF-8 or not comma-separated, its header, a row, no row at
// all), which its error says how to fix, rather than in the path the
// campaign file's recipients: names (a file that does not exist, is a
// directory or a named pipe).
func (e *RecipientsError) InFile() bool { return !e.inPath }

// LoadFile reads and validates the campaign file at path only: no
// template engine is built (what `check` needs).
func LoadFile(path string) (*Bundle, error) {
	data, err := userfile.Read(path) // a named pipe is refused, not waited on
	if userfile.NotAFile(err) {
		return nil, err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{File: path}
	}
	if err != nil {
		return nil, fmt.Errorf("read campaign file: %w", err)
	}
	c, err := campaign.Parse(data, path)
	if err != nil {
		return nil, err
	}
	return &Bundle{File: path, Campaign: c}, nil
}

// Load reads and validates the campaign file at path and builds its
// template engine from its templates_dir and locales_dir.
func Load(path string) (*Bundle, error) {
	b, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	c := b.Campaign
	dirs := []struct {
		key, dir string
		fsys     *fs.FS
	}{{"templates_dir", c.Path(c.TemplatesDir), &b.Templates}, {"locales_dir", c.Path(c.LocalesDir), &b.Locales}}
	for _, d := range dirs {
		if st, err := os.Stat(d.dir); err != nil || !st.IsDir() {
			return nil, &DirError{File: path, Key: d.key, Dir: d.dir, Line: c.Line(d.key)}
		}
		*d.fsys = os.DirFS(d.dir)
	}
	b.Engine, err = render.New(render.Config{
		Templates:     b.Templates,
		Locales:       b.Locales,
		Template:      c.Template,
		DefaultLocale: c.DefaultLocale,
		Policy:        render.Policy{Aliases: c.LocalePolicy.Aliases, MissingLocale: c.LocalePolicy.MissingLocale},
		// The campaign's data is the same for every recipient: folded into
		// the templates, as the worker's engine does.
		Data: c.Data,
	})
	if ke := b.KeyError(err); ke != err {
		return nil, ke
	}
	if fe := (*render.FileError)(nil); errors.As(err, &fe) {
		// As the operator can open it from where they ran the command.
		fe.File = render.ResolvePath(fe.File, c.Path(c.TemplatesDir), c.Path(c.LocalesDir))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// KeyError is err said at the campaign file's key, with its line, when it
// is about a key of the file (a language without catalog, a template
// templates_dir does not hold, a recipients file that does not exist);
// else err.
func (b *Bundle) KeyError(err error) error {
	c := b.Campaign
	at := func(msg string, key ...string) error {
		return &yamlnode.Error{File: b.File, Line: c.Line(key...), Field: strings.Join(key, "."), Msg: msg}
	}
	var nc *render.NoCatalogError
	var ut *render.UnknownTemplateError
	var pe *fs.PathError
	switch {
	case errors.As(err, &nc):
		return at(nc.Msg(), nc.Key...)
	case errors.As(err, &ut):
		return at(fmt.Sprintf("%s does not exist (templates in %s: %s): fix template, or templates_dir if the templates are elsewhere",
			filepath.Join(c.Path(c.TemplatesDir), ut.Name)+string(filepath.Separator), c.Path(c.TemplatesDir), strings.Join(ut.Have, ", ")), "template")
	case errors.As(err, &pe) && pe.Path == b.RecipientsPath() && errors.Is(err, fs.ErrNotExist):
		return at(fmt.Sprintf("%s does not exist: fix the path (relative to the campaign file)", pe.Path), "recipients")
	}
	return err
}

// RecipientsPath is the campaign's recipients file, resolved against the
// campaign file's directory.
func (b *Bundle) RecipientsPath() string { return b.Campaign.Path(b.Campaign.Recipients) }

// LaunchInput is the campaign ready for launch.Plan: sent in env (nil for
// a rehearsal), by who on host, skipping the deliveries excl holds (nil:
// none).
func (b *Bundle) LaunchInput(env *environment.Environment, who, host string, excl *launch.Delivered) launch.Input {
	b.UseEnv(env) // stored with the definition: every worker sends the same
	return launch.Input{Campaign: b.Campaign, Engine: b.Engine, Templates: b.Templates, Locales: b.Locales,
		Env: env, Recipients: b.RecipientsPath(), Who: who, Host: host, Exclude: excl}
}

// UseEnv gives the campaign the settings of environment e (nil: none) that
// it leaves to the environment (list_unsubscribe), so that test-send and
// the console's gallery show the headers send will send. Only e's when it
// is the campaign's environment (or the campaign names none): another's
// would show a header send never sends.
func (b *Bundle) UseEnv(e *environment.Environment) {
	c := b.Campaign
	if e != nil && c.ListUnsubscribe == "" && (c.Environment == "" || c.Environment == e.Name) {
		c.ListUnsubscribe = e.ListUnsubscribe
	}
}

// openRecipients opens the recipients file (userfile.Open): nil and no
// error when it cannot be opened (the caller uses sample data, or the plan
// says it is missing), a *RecipientsError when it is not a file to read (a
// named pipe, a device, a directory), never waiting on a pipe.
func (b *Bundle) openRecipients() (*os.File, error) {
	f, err := userfile.Open(b.RecipientsPath())
	if userfile.NotAFile(err) {
		return nil, &RecipientsError{File: b.File, Path: b.RecipientsPath(), Err: err, inPath: true}
	}
	return f, nil
}

// Recipients opens the recipients file and returns an iterator over its
// valid rows, in file order (io.EOF at the end; invalid rows are the
// plan's business and are passed over), and done, which closes the file.
// When the file cannot be opened, next is nil and err is nil: callers then
// use sample data.
func (b *Bundle) Recipients() (next func() (recipient.Recipient, error), done func(), err error) {
	f, err := b.openRecipients()
	if f == nil {
		return nil, func() {}, err
	}
	rr, err := recipient.NewReader(f, recipient.ReaderConfig{Name: b.RecipientsPath()})
	if err != nil {
		f.Close()
		return nil, nil, &RecipientsError{File: b.File, Path: b.RecipientsPath(), Err: err}
	}
	next = func() (recipient.Recipient, error) {
		for {
			r, err := rr.Next()
			var rowErr *recipient.RowError
			if !errors.As(err, &rowErr) {
				return r, err
			}
		}
	}
	return next, func() { f.Close() }, nil
}

// Plan plans the recipients file for environment env (nil: no
// allowlist), as send would, calling emit (nil: none) with every accepted
// row: an error from emit stops it and is returned. With no recipients
// file it returns nil and no error. A file that cannot be read, or one
// without rows (plan.ErrNoRows), is a *RecipientsError.
func (b *Bundle) Plan(ctx context.Context, env *environment.Environment, emit func(plan.Accepted) error) (*plan.Summary, error) {
	f, err := b.openRecipients()
	if f == nil {
		return nil, err
	}
	defer f.Close()
	var emitErr error
	sum, err := plan.Run(ctx, plan.Input{Campaign: b.Campaign, Engine: b.Engine, Env: env, Recipients: f, RecipientsName: b.RecipientsPath()},
		func(a plan.Accepted) error {
			if emit != nil {
				emitErr = emit(a)
			}
			return emitErr
		})
	switch {
	case emitErr != nil:
		return nil, emitErr
	case err != nil && ctx.Err() == nil: // also a file without rows (plan.ErrNoRows): nothing to show or send

		return nil, &RecipientsError{File: b.File, Path: b.RecipientsPath(), Err: err}
	}
	return sum, err
}

// Samples returns per catalog language the first row the plan of the
// recipients file for env accepts and its rows the template cannot be
// rendered with (plan.Summary.Samples; see Plan): a language is shown with
// a row that is sent, never with one the plan counts invalid. A recipients
// file that does not exist is a *RecipientsError (the campaign's languages
// would be shown with sample data as if they were its recipients'), and so
// is one without rows.
func (b *Bundle) Samples(ctx context.Context, env *environment.Environment) (map[string]*plan.Sample, error) {
	if _, err := os.Stat(b.RecipientsPath()); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%s does not exist", b.RecipientsPath())
		}
		return nil, &RecipientsError{File: b.File, Path: b.RecipientsPath(), Err: err, inPath: true}
	}
	sum, err := b.Plan(ctx, env, nil)
	if err != nil || sum == nil || sum.Samples == nil {
		return map[string]*plan.Sample{}, err
	}
	return sum.Samples, nil
}

// NeedIncomplete counts, per catalog language the engine has but cannot
// send (incomplete), the recipients whose locale matched it: they would be
// refused. known is false when the recipients file cannot be read.
func (b *Bundle) NeedIncomplete() (need map[string]int, known bool, err error) {
	need = map[string]int{}
	known, err = b.eachRecipient(func(r recipient.Recipient) {
		var ref *render.Refusal
		if _, err := b.Engine.Resolve(r.Locale); errors.As(err, &ref) && ref.Lang != "" {
			need[ref.Lang]++
		}
	})
	if err != nil {
		return nil, false, err
	}
	return need, known, nil
}

// eachRecipient calls f with every valid recipient, in file order. read is
// false when there is no recipients file to read.
func (b *Bundle) eachRecipient(f func(recipient.Recipient)) (read bool, err error) {
	next, done, err := b.Recipients()
	if err != nil || next == nil {
		return false, err
	}
	defer done()
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, &RecipientsError{File: b.File, Path: b.RecipientsPath(), Err: err}
		}
		f(r)
	}
}

// Preview renders the campaign in every catalog language into the gallery
// directory out (package preview), with the first recipient per language
// the plan accepts where the recipients file has one, else sample data, and the .eml files
// compose builds.
func (b *Bundle) Preview(ctx context.Context, out string, compose preview.Composer) (*preview.Result, error) {
	samples, err := b.Samples(ctx, nil)
	if err != nil {
		return nil, err
	}
	next, done, err := b.Recipients()
	if err != nil {
		return nil, err
	}
	defer done()
	return preview.Run(ctx, preview.Options{
		Engine:         b.Engine,
		Campaign:       b.Campaign.Name,
		Data:           b.Campaign.Data,
		Recipients:     next,
		Plan:           samples,
		RecipientsName: b.RecipientsPath(),
		Samples:        preview.DefaultSamples(),
		Out:            out,
		Composer:       compose,
	})
}
