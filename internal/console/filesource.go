package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// fileState is Config.File as last read from disk. The gallery of a
// campaign file shows the files on disk now (what send would stage): each
// request compares the content of the campaign file, its template's files
// and its catalogs with what was read, and reads them again (a new engine)
// when any changed; unchanged, the engine read before serves.
type fileState struct {
	mu   sync.Mutex
	cur  CampaignFile // as last read; Config.File until the first request
	sum  [sha256.Size]byte
	read bool      // sum is the content cur (or err) was read from
	at   time.Time // when cur was read
	err  error     // why the files on disk cannot be used, when they cannot

	// What the gallery shows of the plan of the recipients file whose
	// content, with the files' version, hashes to plannedOf: a page of a
	// large file is planned once per content, not per load.
	plannedMu sync.Mutex
	plannedOf [sha256.Size]byte
	planned   *planned
}

// cachedPlan returns what judgeFile finds of b's recipients file in env,
// planning it again only when the file (or version, the files the
// gallery renders from) changed since the last plan.
func (st *fileState) cachedPlan(ctx context.Context, b *bundle.Bundle, env *environment.Environment, version string) (*planned, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", version)
	if env != nil {
		fmt.Fprintf(h, "%s\x00", env.Name)
	}
	f, err := userfile.Open(b.RecipientsPath()) // a named pipe: refused, not waited on
	if err == nil {
		_, err = io.Copy(h, f)
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(h, "error %v", err) // judgeFile says what it is
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	st.plannedMu.Lock()
	defer st.plannedMu.Unlock()
	if st.planned != nil && key == st.plannedOf {
		return st.planned, nil
	}
	p, _, _, _, err := judgeFile(ctx, b, env, "")
	if err != nil {
		return nil, err
	}
	st.planned, st.plannedOf = p, key
	return p, nil
}

// current returns the campaign file as on disk now, when it was read and
// its version (a hash of the files), or why it cannot be used (the error
// names the file and line).
func (st *fileState) current(now func() time.Time) (f CampaignFile, at time.Time, version string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	// The sum is taken before the files are read: a change made while
	// they are read is read at the next request.
	sum := contentSum(st.cur.Path, st.cur.Campaign)
	// After a failed read the sum may cover directories the campaign file
	// no longer names (cur is the campaign as last read whole): read
	// again at every request until the files load.
	if !st.read || sum != st.sum || st.err != nil {
		st.sum, st.read, st.at = sum, true, now()
		st.err = st.load()
	}
	return st.cur, st.at, hex.EncodeToString(st.sum[:8]), st.err
}

// load reads the campaign file and what it points to into cur.
func (st *fileState) load() error {
	b, err := bundle.Load(st.cur.Path)
	if err != nil {
		return err
	}
	b.UseEnv(st.cur.Env)
	st.cur.Campaign, st.cur.Engine, st.cur.Recipients, st.cur.bundle = b.Campaign, b.Engine, b.Recipients, b
	return nil
}

// contentSum hashes what the gallery of campaign file path renders from:
// the campaign file, and the files of c's template directory and locales
// directory (c is the campaign as last read: a campaign file that moves
// them changes the sum itself). The recipients file is read on every
// request anyway.
func contentSum(path string, c *campaign.Campaign) [sha256.Size]byte {
	h := sha256.New()
	add := func(name string) {
		fmt.Fprintf(h, "%q\x00", name)
		f, err := userfile.Open(name) // a named pipe: refused, not waited on
		if err != nil {
			fmt.Fprintf(h, "error %v\x00", err)
			return
		}
		defer f.Close()
		n, err := io.Copy(h, f)
		fmt.Fprintf(h, "\x00%d %v\x00", n, err)
	}
	dir := func(d string) {
		entries, err := os.ReadDir(d) // sorted by name
		fmt.Fprintf(h, "dir %q %v\x00", d, err)
		for _, e := range entries {
			if !e.IsDir() {
				add(filepath.Join(d, e.Name()))
			}
		}
	}
	add(path)
	if c != nil {
		dir(filepath.Join(c.Path(c.TemplatesDir), c.Template))
		dir(c.Path(c.LocalesDir))
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
