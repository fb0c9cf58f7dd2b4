package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
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

// SnapshotHash returns the Hash of an engine built from files (a Snapshot).
func SnapshotHash(files map[string][]byte) string { return hashFiles(files) }

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

// FileChange says how one file of a snapshot differs from the approved one.
type FileChange int

const (
	// FileChanged: both snapshots hold the file, with different bytes.
	FileChanged FileChange = iota + 1
	// FileMissing: only the approved snapshot holds the file.
	FileMissing
	// FileExtra: only the compared snapshot holds the file.
	FileExtra
)

// String returns "changed", "missing" or "extra".
func (c FileChange) String() string {
	switch c {
	case FileChanged:
		return "changed"
	case FileMissing:
		return "missing"
	case FileExtra:
		return "extra"
	}
	return fmt.Sprintf("FileChange(%d)", int(c))
}

// FileDiff is one file in which a snapshot differs from the approved one.
type FileDiff struct {
	File   string // snapshot key: "templates/<template>/<file>" or "locales/<file>"
	Change FileChange
}

// DiffSnapshots returns the files in which got differs from approved, both
// taken by Snapshot, sorted by key: nil when they hold the same files with
// the same bytes, i.e. have the same Hash.
func DiffSnapshots(approved, got map[string][]byte) []FileDiff {
	var out []FileDiff
	for k, a := range approved {
		switch g, ok := got[k]; {
		case !ok:
			out = append(out, FileDiff{File: k, Change: FileMissing})
		case !bytes.Equal(a, g):
			out = append(out, FileDiff{File: k, Change: FileChanged})
		}
	}
	for k := range got {
		if _, ok := approved[k]; !ok {
			out = append(out, FileDiff{File: k, Change: FileExtra})
		}
	}
	slices.SortFunc(out, func(a, b FileDiff) int { return strings.Compare(a.File, b.File) })
	return out
}
