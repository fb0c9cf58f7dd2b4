package preview

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// Manifest is the file of a gallery directory that lists the files the
// preview wrote there, one name a line after comment lines ("#"). The
// next preview into the directory removes them before it writes its own,
// so that no file of a language it does not write (removed, or now
// incomplete) is left for QA to open and approve; it removes no file the
// manifest does not list, nor one whose name is not one a preview writes.
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
func (g galleryFiles) write(dir string) error {
	earlier, err := readManifest(dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(earlier)+len(g))
	names = append(names, earlier...)
	for _, f := range g {
		names = append(names, f.name)
	}
	if err := writeManifest(dir, names); err != nil {
		return err
	}
	for _, name := range earlier {
		path := filepath.Join(dir, name)
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			continue // gone, or not a file a preview writes
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s of the earlier preview: %w", path, userfile.Explain(path, true, err))
		}
	}
	names = names[:0]
	for _, f := range g {
		if err := writeOwn(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("write gallery: %w", err)
		}
		names = append(names, f.name)
	}
	return writeManifest(dir, names)
}

// writeOwn writes data to path with userfile.Perm, whatever permissions
// a file there had.
func writeOwn(path string, data []byte) error {
	f, err := userfile.CreateOwn(path)
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
func writeManifest(dir string, names []string) error {
	var b bytes.Buffer
	b.WriteString("# The files tidings preview wrote in this directory, removed by the next\n# preview into it; files not listed here are never touched.\n")
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			b.WriteString(n + "\n")
		}
	}
	if err := writeOwn(filepath.Join(dir, Manifest), b.Bytes()); err != nil {
		return fmt.Errorf("write the list of the gallery's files: %w", err)
	}
	return nil
}
