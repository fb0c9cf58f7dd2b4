package preview

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// Manifest is the file of a gallery directory that lists the files the
// preview wrote there, one name a line after comment lines ("#"). The
// next preview into the directory removes them before it writes its own,
// so that no file of a language it does not write (removed, or now
// incomplete) is left for QA to open and approve; it removes no file the
// manifest does not list, nor one whose name is not one a preview writes.
// A gallery of a version before the manifest is recognised by its index
// (legacyGallery).
const Manifest = ".tidings-gallery"

const indexFile = "index.html"

// galleryFiles are the files of one gallery, in the order they are written.
type galleryFiles []galleryFile

type galleryFile struct {
	name string
	data []byte
}

func (g *galleryFiles) add(name string, data []byte) {
	*g = append(*g, galleryFile{name, data})
}

// write writes the gallery into dir: it removes the files of the earlier
// preview its manifest lists, writes each file readable by its owner
// alone (userfile.Perm, whatever an earlier one had: a gallery holds
// recipients' data), then the manifest. A run that fails part way leaves
// the files it wrote listed with the earlier ones, and no index.html
// until it writes it, last.
//
// A directory with no manifest may hold a gallery of a version before it
// (legacyGallery): the files its index links are removed as the
// manifest's would be, and the others of a language's name are returned
// as stale, kept.
func (g galleryFiles) write(ctx context.Context, dir string) (stale []string, err error) {
	earlier, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	if earlier == nil {
		if earlier, stale, err = legacyGallery(dir, g); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(earlier)+len(g))
	names = append(names, earlier...)
	for _, f := range g {
		names = append(names, f.name)
	}
	if err := writeManifest(ctx, dir, names); err != nil {
		return nil, err
	}
	for _, name := range earlier {
		path := filepath.Join(dir, name)
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			continue // gone, or not a file a preview writes
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove %s of the earlier preview: %w", path, userfile.Explain(path, true, err))
		}
	}
	names = names[:0]
	for _, f := range g {
		if err := writeOwn(ctx, filepath.Join(dir, f.name), f.data); err != nil {
			return nil, fmt.Errorf("write gallery: %w", err)
		}
		names = append(names, f.name)
	}
	return stale, writeManifest(ctx, dir, names)
}

// legacyMarks are what the index.html of every gallery of tidings holds
// (the gallery template's title and heading, unchanged since before the
// manifest): an index.html without them is not one of tidings'.
var legacyMarks = []string{"<title>tidings preview: ", "<h1>Preview of campaign <code>"}

// linkRE matches a link of a gallery's index to one of its files.
var linkRE = regexp.MustCompile(`(?:href|src)="([^"/\\]+)"`)

// langFileRE matches the name of a language's file of a gallery
// (<lang>.html, .txt, .eml; lang a BCP 47 tag).
var langFileRE = regexp.MustCompile(`^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*\.(?:html|txt|eml)$`)

// legacyGallery reads directory dir, which has no manifest, for a gallery
// written before the manifest existed: when its index.html is tidings'
// (legacyMarks), earlier is that index and the files it links (names a
// preview writes: galleryName), which tidings wrote; stale are the other
// files of dir with a language's file name that g does not write (an
// older gallery's, whose index is gone, or the user's: kept, for the
// operator to look at). Without such an index, nothing.
func legacyGallery(dir string, g galleryFiles) (earlier, stale []string, err error) {
	path := filepath.Join(dir, indexFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read the index of an earlier preview: %w", userfile.Explain(path, false, err))
	}
	for _, m := range legacyMarks {
		if !bytes.Contains(b, []byte(m)) {
			return nil, nil, nil
		}
	}
	earlier = []string{indexFile}
	for _, m := range linkRE.FindAllSubmatch(b, -1) {
		if name := html.UnescapeString(string(m[1])); galleryName(name) && !slices.Contains(earlier, name) {
			earlier = append(earlier, name)
		}
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read the directory of an earlier preview: %w", userfile.Explain(dir, false, err))
	}
	for _, e := range es {
		n := e.Name()
		written := slices.ContainsFunc(g, func(f galleryFile) bool { return f.name == n })
		if e.Type().IsRegular() && langFileRE.MatchString(n) && !slices.Contains(earlier, n) && !written {
			stale = append(stale, filepath.Join(dir, n))
		}
	}
	return earlier, stale, nil
}

// writeOwn writes data to path with userfile.Perm, whatever permissions
// a file there had.
func writeOwn(ctx context.Context, path string, data []byte) error {
	f, err := userfile.CreateOwn(ctx, path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return userfile.Explain(path, true, err)
}

// galleryName reports whether name is one a preview writes in its
// directory: index.html or <lang>.html, .txt, .eml.
func galleryName(name string) bool {
	switch filepath.Ext(name) {
	case ".html", ".txt", ".eml":
	default:
		return false
	}
	return name == filepath.Base(name) && !strings.HasPrefix(name, ".") && !strings.ContainsAny(name, `/\`)
}

// readManifest returns the names the manifest of dir lists that a preview
// writes (galleryName); none when there is no manifest.
func readManifest(dir string) ([]string, error) {
	path := filepath.Join(dir, Manifest)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the list of an earlier preview's files: %w", userfile.Explain(path, false, err))
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if name := strings.TrimSpace(sc.Text()); galleryName(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// writeManifest lists names in the manifest of dir.
func writeManifest(ctx context.Context, dir string, names []string) error {
	var b bytes.Buffer
	b.WriteString("# The files tidings preview wrote in this directory, removed by the next\n# preview into it; files not listed here are never touched.\n")
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			b.WriteString(n + "\n")
		}
	}
	if err := writeOwn(ctx, filepath.Join(dir, Manifest), b.Bytes()); err != nil {
		return fmt.Errorf("write the list of the gallery's files: %w", err)
	}
	return nil
}
