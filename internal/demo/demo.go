// Package demo holds the bundled sample campaign that `tidings demo`
// rehearses: a migration notice to 30 recipients in many languages, with
// names in emoji, CJK, right-to-left and combining characters, one
// deliberately incomplete catalog (pt: its recipients are refused), locales
// no catalog covers (rm, da), an empty locale and one invalid row.
package demo

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

//go:embed assets/campaign.yaml assets/recipients.csv assets/pt.toml
var assets embed.FS

// CampaignFile is the campaign file's name inside the written directory.
const CampaignFile = "campaign.yaml"

// CampaignDir is the directory of a demo's output directory that Prepare
// writes the sample campaign into (the rehearsal writes beside it).
const CampaignDir = "campaign"

// Complete lists the sample's complete catalog languages (the bundled
// catalogs), sorted; Incomplete the deliberately incomplete ones (pt.toml
// lacks a message), whose recipients are refused.
var (
	Complete   = bundled()
	Incomplete = []string{"pt"}
)

// bundled lists the languages of the bundled catalogs.
func bundled() []string {
	var langs []string
	entries, _ := fs.ReadDir(locales.FS, ".")
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext == ".toml" || ext == ".json" || ext == ".yaml" {
			langs = append(langs, strings.TrimSuffix(e.Name(), ext))
		}
	}
	return langs
}

// ForeignDirError says that a demo's output directory is not empty and
// holds no earlier demo: nothing was removed.
type ForeignDirError struct{ Dir string }

// Error says what went wrong.
func (e *ForeignDirError) Error() string {
	return "demo output " + e.Dir + " is not empty and holds no earlier demo (nothing was removed)"
}

// Prepare empties out for a new demo run and writes the sample campaign
// into out/campaign (CampaignDir, Write), returning the campaign file's path. Only a
// directory that does not exist, is empty, or holds an earlier demo (its
// campaign file) is cleared; anything else is a *ForeignDirError, so that
// pointing a demo at any other directory loses nothing.
func Prepare(out string) (string, error) {
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0):
	case err != nil:
		return "", fmt.Errorf("demo output %s: %w", out, err)
	default:
		if _, err := os.Stat(filepath.Join(out, CampaignDir, CampaignFile)); err != nil {
			return "", &ForeignDirError{Dir: out}
		}
		if err := os.RemoveAll(out); err != nil {
			return "", fmt.Errorf("clear the earlier demo in %s: %w", out, err)
		}
	}
	return Write(filepath.Join(out, CampaignDir))
}

// Load writes the sample campaign for a new demo run into out (Prepare)
// and loads it with everything it points to.
func Load(out string) (*bundle.Bundle, error) {
	file, err := Prepare(out)
	if err != nil {
		return nil, err
	}
	return bundle.Load(file)
}

// Write materialises the sample campaign into dir: campaign.yaml,
// recipients.csv, templates/ (the bundled templates) and locales/ (the
// bundled catalogs plus the incomplete pt.toml). It returns the campaign
// file's path.
func Write(dir string) (string, error) {
	copies := []struct {
		src  fs.FS
		from string
		to   string
	}{
		{templates.FS, ".", filepath.Join(dir, "templates")},
		{locales.FS, ".", filepath.Join(dir, "locales")},
	}
	for _, c := range copies {
		if err := copyFS(c.src, c.from, c.to); err != nil {
			return "", err
		}
	}
	files := map[string]string{
		"assets/campaign.yaml":  filepath.Join(dir, CampaignFile),
		"assets/recipients.csv": filepath.Join(dir, "recipients.csv"),
		"assets/pt.toml":        filepath.Join(dir, "locales", "pt.toml"),
	}
	for from, to := range files {
		b, err := assets.ReadFile(from)
		if err != nil {
			return "", fmt.Errorf("read demo asset %s: %w", from, err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			return "", fmt.Errorf("write demo campaign: %w", err)
		}
	}
	return filepath.Join(dir, CampaignFile), nil
}

func copyFS(src fs.FS, root, dst string) error {
	return fs.WalkDir(src, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if filepath.Ext(p) == ".go" {
			return nil
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return fmt.Errorf("read bundled %s: %w", p, err)
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return fmt.Errorf("write demo campaign: %w", err)
		}
		return nil
	})
}
