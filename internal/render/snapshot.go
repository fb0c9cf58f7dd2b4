package render

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing/fstest"
)

// Snapshot returns exactly the files Hash covers, keyed "templates/<template>/<file>"
// and "locales/<file>". A worker stores it and renders from FromSnapshot with
// the same Hash. Invalid files are reported like New reports them.
func Snapshot(templates, locales fs.FS, template string) (map[string][]byte, error) {
	set, err := loadTemplate(templates, template)
	if err != nil {
		return nil, err
	}
	cats, err := loadCatalogs(locales)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(set.files)+len(cats))
	for k, b := range set.files {
		out[k] = b
	}
	for _, c := range cats {
		out[c.file] = c.src
	}
	return out, nil
}

// FromSnapshot turns a Snapshot back into the templates and locales file
// systems for Config. Keys outside templates/ and locales/ are ignored.
func FromSnapshot(files map[string][]byte) (templates, locales fs.FS) {
	t, l := fstest.MapFS{}, fstest.MapFS{}
	for k, b := range files {
		k = path.Clean(k)
		switch {
		case strings.HasPrefix(k, "templates/"):
			t[strings.TrimPrefix(k, "templates/")] = &fstest.MapFile{Data: b, Mode: 0o644}
		case strings.HasPrefix(k, "locales/"):
			l[strings.TrimPrefix(k, "locales/")] = &fstest.MapFile{Data: b, Mode: 0o644}
		}
	}
	return t, l
}

// ResolvePath turns a FileError.File or Problem.File ("templates/welcome/html.tmpl",
// "locales/de.toml") into a path under the directories the files were read
// from.
func ResolvePath(name, templatesDir, localesDir string) string {
	switch {
	case strings.HasPrefix(name, "templates/"):
		return filepath.Join(templatesDir, filepath.FromSlash(strings.TrimPrefix(name, "templates/")))
	case strings.HasPrefix(name, "locales/"):
		return filepath.Join(localesDir, filepath.FromSlash(strings.TrimPrefix(name, "locales/")))
	}
	return name
}
