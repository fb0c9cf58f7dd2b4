package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
)

// loaded is a campaign file with everything it points to, validated.
type loaded struct {
	file      string
	camp      *campaign.Campaign
	templates fs.FS
	locales   fs.FS
	engine    *render.Engine
}

// loadCampaign reads and validates a campaign file and builds its template
// engine. Every error names the file and is a configuration error (exit 2).
func (a *app) loadCampaign(path string) (*loaded, error) {
	l, err := a.loadCampaignForCheck(path)
	if err != nil {
		return nil, err
	}
	c := l.camp
	tdir, ldir := c.Path(c.TemplatesDir), c.Path(c.LocalesDir)
	for _, d := range []struct{ what, dir string }{{"templates_dir", tdir}, {"locales_dir", ldir}} {
		st, err := os.Stat(d.dir)
		if err != nil || !st.IsDir() {
			return nil, configError(fmt.Errorf("%s: %s %s is not a directory: fix %s in the campaign file (paths are relative to the file)", path, d.what, d.dir, d.what))
		}
	}
	l.templates, l.locales = os.DirFS(tdir), os.DirFS(ldir)
	l.engine, err = render.New(render.Config{
		Templates:     l.templates,
		Locales:       l.locales,
		Template:      c.Template,
		DefaultLocale: c.DefaultLocale,
		Policy:        render.Policy{Aliases: c.LocalePolicy.Aliases, MissingLocale: c.LocalePolicy.MissingLocale},
	})
	if err != nil {
		return nil, configError(fmt.Errorf("%s: %w", path, err))
	}
	return l, nil
}

// loadCampaignForCheck reads and validates the campaign file only.
func (a *app) loadCampaignForCheck(path string) (*loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, configError(fmt.Errorf("campaign file %s does not exist: give the path to a campaign YAML file (see README, \"Campaign file\")", path))
		}
		return nil, configError(fmt.Errorf("read campaign file: %w", err))
	}
	c, err := campaign.Parse(data, path)
	if err != nil {
		return nil, configError(err)
	}
	return &loaded{file: path, camp: c}, nil
}

// recipientsPath is the campaign's recipients file, resolved.
func (l *loaded) recipientsPath() string { return l.camp.Path(l.camp.Recipients) }

// openRecipients opens the campaign's recipients file.
func (l *loaded) openRecipients() (*os.File, error) {
	f, err := os.Open(l.recipientsPath())
	if err != nil {
		return nil, configError(fmt.Errorf("%s: recipients file: %w (fix 'recipients:' in the campaign file; paths are relative to it)", l.file, err))
	}
	return f, nil
}

// newRecipientReader wraps an open recipients file.
func newRecipientReader(r io.Reader, name string) (*recipient.Reader, error) {
	rr, err := recipient.NewReader(r, recipient.ReaderConfig{Name: name})
	if err != nil {
		return nil, configError(err)
	}
	return rr, nil
}

// validRecipients iterates over the valid rows of the campaign's
// recipients file (invalid rows are the plan's business and are skipped);
// next is nil when the file cannot be opened, so sample data is used. done
// closes the file.
func (l *loaded) validRecipients() (next func() (preview.Recipient, error), done func(), err error) {
	f, err := os.Open(l.recipientsPath())
	if err != nil {
		return nil, func() {}, nil
	}
	rr, err := newRecipientReader(f, l.recipientsPath())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	next = func() (preview.Recipient, error) {
		for {
			r, err := rr.Next()
			var rowErr *recipient.RowError
			if errors.As(err, &rowErr) {
				continue
			}
			if err != nil {
				return preview.Recipient{}, err
			}
			return preview.Recipient{Line: r.Line, ID: r.ID, Email: r.Email, Name: r.Name, Locale: r.Locale, Fields: r.Fields}, nil
		}
	}
	return next, func() { f.Close() }, nil
}

// configFile returns the environments config file's path and content, or
// empty when there is none.
func (a *app) configFile() (string, []byte, error) {
	path := a.configPath
	if path == "" {
		path = a.getenv("TIDINGS_CONFIG")
	}
	explicit := path != ""
	if path == "" {
		path = "tidings.yaml"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return "", nil, nil
		}
		return "", nil, configError(fmt.Errorf("read config file: %w", err))
	}
	return path, data, nil
}

// loadEnv loads environment name from the config file and TIDINGS_* variables.
func (a *app) loadEnv(name string) (*environment.Environment, error) {
	if name == "" {
		return nil, configError(errors.New("no environment given: pass --env NAME (an environment from the config file, e.g. staging)"))
	}
	path, data, err := a.configFile()
	if err != nil {
		return nil, err
	}
	env, err := environment.Load(data, path, name, a.getenv)
	if err != nil {
		return nil, configError(err)
	}
	return env, nil
}

// actor names who runs a command, for the audit log.
func actorName() (who, host string) {
	who = "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ = os.Hostname()
	return who, host
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
