package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
)

// Record is what this machine keeps, outside Redis, about a campaign it
// started: enough to notice later that Redis lost it, and to say how it was
// started.
type Record struct {
	Campaign   string    `json:"campaign"`
	Env        string    `json:"env"`
	Run        string    `json:"run"`
	Stage      string    `json:"stage"`
	StartedAt  time.Time `json:"started_at"`
	By         string    `json:"by"`
	Host       string    `json:"host"`
	JournalDir string    `json:"journal_dir,omitempty"`
	// Path is where the record was read from (not stored).
	Path string `json:"-"`
}

func recordPath(stateDir, campaign string) string {
	return filepath.Join(stateDir, "campaigns", campaign+".json")
}

// ReadRecord reads the record of campaign kept in stateDir; nil (and no
// error) when there is none or stateDir is "".
func ReadRecord(stateDir, campaign string) (*Record, error) {
	if stateDir == "" {
		return nil, nil
	}
	path := recordPath(stateDir, campaign)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the record of %s: %w", campaign, err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read the record of %s: %s: %w", campaign, path, err)
	}
	r.Path = path
	return &r, nil
}

// WriteRecord writes r into stateDir (atomically, fsynced) and returns the
// file's path.
func WriteRecord(stateDir string, r Record) (string, error) {
	if r.StartedAt.IsZero() {
		r.StartedAt = time.Now().UTC()
	}
	path := recordPath(stateDir, r.Campaign)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("write the record of %s: %w", r.Campaign, err)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	tmp, err := os.CreateTemp(dir, "."+r.Campaign+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write the record of %s: %w", r.Campaign, err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = journal.SyncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("write the record of %s: %w", r.Campaign, err)
	}
	return path, nil
}

// journalFiles lists the journal files of campaign under dir.
func journalFiles(dir, campaign string) ([]journal.File, error) {
	if _, err := os.Stat(filepath.Join(dir, campaign)); err != nil {
		return nil, err
	}
	return journal.Files(dir, campaign)
}
