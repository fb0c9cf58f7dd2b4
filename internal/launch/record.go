package launch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/store"
)

// Record is what this machine keeps, outside Redis, about a campaign it
// started: enough to notice later that Redis lost it, and to say how it was
// started.
type Record struct {
	Campaign string `json:"campaign"`
	Env      string `json:"env"`
	// CampaignFile is the campaign file the send was given, made absolute,
	// for the recovery command printed later to work from any directory
	// (nextstep.Recovery, nextstep.Lost); "" in a record of an older
	// version.
	CampaignFile string    `json:"campaign_file,omitempty"`
	Run          string    `json:"run"`
	Stage        string    `json:"stage"`
	StartedAt    time.Time `json:"started_at"`
	By           string    `json:"by"`
	Host         string    `json:"host"`
	JournalDir   string    `json:"journal_dir,omitempty"`
	// Excluded is the file that lists every recipient the campaign's
	// recoveries excluded as already delivered (ExclusionsPath), and
	// ExcludedFrom what they read; empty when none was made here. A later
	// recovery here reads the file by itself (LoadDeliveredFor): the
	// deliveries a report recorded are in no journal.
	Excluded     string   `json:"excluded,omitempty"`
	ExcludedFrom []string `json:"excluded_from,omitempty"`
	// MarkedRuns are the runs staged here that a recovery marked
	// (store.RunExcludedMark): Excluded lists what they excluded beyond the
	// journals, and no other marked run's (LoadDeliveredFor).
	MarkedRuns []string `json:"marked_runs,omitempty"`
	// Send is how the send that wrote the record was run, for a recovery
	// to run it again the same way (nextstep.Recovery); nil in a record of
	// an older version, which did not keep it.
	Send *SendOptions `json:"send,omitempty"`
	// Freed says that `tidings free` freed the campaign since (MarkFreed):
	// Redis keeps its ledger and audit log only, which is no state loss;
	// nil when it was not freed (a staging again writes a record without
	// it).
	Freed *Freed `json:"freed,omitempty"`
	// Path is where the record was read from (not stored).
	Path string `json:"-"`
}

// SendOptions are the options of a send that decide whom it stages and
// what it writes, kept in its start record so that the send run again
// after a state loss stages the same campaign: refused and invalid rows
// skipped, and the rejects file it wrote (as given).
type SendOptions struct {
	SkipRefused bool   `json:"skip_refused,omitempty"`
	SkipInvalid bool   `json:"skip_invalid,omitempty"`
	Rejects     string `json:"rejects,omitempty"` // absolute, so the recovery command works from any directory
}

// Freed is what a start record keeps of the free of its campaign.
type Freed struct {
	At time.Time `json:"at"`
	By string    `json:"by"`
	// Ledger is how many recipients' entries the ledger Redis kept holds.
	Ledger int64 `json:"ledger"`
	// Report is the report saved before the free (absolute).
	Report string `json:"report,omitempty"`
}

// MarkFreed notes in the start record of campaign c of environment env
// kept in stateDir that it was freed (f), and returns the record's path;
// "" (and no error) when stateDir records no start of c in env.
func MarkFreed(stateDir, env, c string, f Freed) (string, error) {
	if !Started(stateDir, env, c) {
		return "", nil
	}
	r, err := ReadRecord(stateDir, c)
	if err != nil {
		return "", err
	}
	r.Freed = &f
	return WriteRecord(stateDir, *r)
}

// FreedOf is the free of campaign c of environment env that stateDir's
// start record of it notes (MarkFreed); nil when none does.
func FreedOf(stateDir, env, c string) *Freed {
	if r, err := ReadRecord(stateDir, c); err == nil && r != nil && (r.Env == env || r.Env == "") {
		return r.Freed
	}
	return nil
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

// Gone names, sorted, the campaigns of environment env whose start
// stateDir records and that are not among listed (those Redis has): Redis
// lost them, or a first staging of them was given up (cancelled before it
// ended). A record that cannot be read is left out: ReadRecord says why
// when the campaign itself is asked for; so is one of a campaign freed
// (FreedHere names those).
func Gone(stateDir, env string, listed []string) []string {
	return unlisted(stateDir, env, listed, false)
}

// FreedHere names, sorted, the campaigns of environment env whose start
// stateDir records as freed by `tidings free` (MarkFreed) and that are
// not among listed (those Redis has).
func FreedHere(stateDir, env string, listed []string) []string {
	return unlisted(stateDir, env, listed, true)
}

// unlisted names the campaigns of env that stateDir's start records name
// and listed does not, freed or not as freed says.
func unlisted(stateDir, env string, listed []string, freed bool) []string {
	if stateDir == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(stateDir, "campaigns", "*.json"))
	var gone []string
	for _, f := range files {
		c := strings.TrimSuffix(filepath.Base(f), ".json")
		if Started(stateDir, env, c) && !slices.Contains(listed, c) && (FreedOf(stateDir, env, c) != nil) == freed {
			gone = append(gone, c)
		}
	}
	slices.Sort(gone)
	return gone
}

// Started reports whether stateDir records that this host started
// campaign c in environment env (a record of an older version names no
// environment: it counts). When Redis has no trace of c, Redis lost it
// (nextstep.Lost); a record that cannot be read does not count (ReadRecord
// says why when the campaign is sent again). Gone, `tidings status` and
// the console decide it so.
func Started(stateDir, env, c string) bool {
	r, err := ReadRecord(stateDir, c)
	return err == nil && r != nil && (r.Env == env || r.Env == "")
}

// WriteRecord writes r into stateDir (atomically, fsynced) and returns the
// file's path.
func WriteRecord(stateDir string, r Record) (string, error) {
	if r.StartedAt.IsZero() {
		r.StartedAt = time.Now().UTC()
	}
	path := recordPath(stateDir, r.Campaign)
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := writeFile(path, append(b, '\n')); err != nil {
		return "", fmt.Errorf("write the record of %s: %w", r.Campaign, err)
	}
	return path, nil
}

// writeFile writes b to path atomically (a file beside it, fsynced, then
// renamed over it, and the directory fsynced), creating its directory.
func writeFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
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
	}
	return err
}

// journalFiles lists the journal files of campaign under dir.
func journalFiles(dir, campaign string) ([]journal.File, error) {
	if _, err := os.Stat(filepath.Join(dir, campaign)); err != nil {
		return nil, err
	}
	return journal.Files(dir, campaign)
}

// ExclusionsPath is where the recipients the recoveries of campaign
// excluded are listed, beside its record: a CSV that reads as a report
// (id, email, outcome skipped, code already-delivered, response how it
// was delivered, campaign).
func ExclusionsPath(stateDir, campaign string) string {
	return filepath.Join(stateDir, "campaigns", campaign+".excluded.csv")
}

// writeExclusions adds the rows rejects skips as already delivered to the
// exclusions of campaign in stateDir (ExclusionsPath), keeping those of
// earlier recoveries, atomically and fsynced. Each row names in its run
// column the runs whose recoveries excluded it: runs, the run staged and
// the marked runs whose exclusions were read; rows of a file written
// before the column name legacy, the runs the record here names. Each row
// it adds names env, the environment the recovery stages in, in its env
// column; rows of a file written before that column keep none (read,
// they are named among the files that record no environment): this
// recovery does not vouch for rows it did not write.
func writeExclusions(stateDir, campaign, env string, rejects []plan.Reject, runs, legacy []string) (string, error) {
	path := ExclusionsPath(stateDir, campaign)
	var rows [][]string
	at := map[[2]string]int{}
	add := func(row []string) {
		k := [2]string{row[0], row[1]}
		i, ok := at[k]
		if !ok {
			at[k] = len(rows)
			rows = append(rows, row)
			return
		}
		have := strings.Fields(rows[i][exclusionsRun])
		for _, r := range strings.Fields(row[exclusionsRun]) {
			if !slices.Contains(have, r) {
				have = append(have, r)
			}
		}
		rows[i][exclusionsRun] = strings.Join(have, " ")
	}
	if f, err := os.Open(path); err == nil {
		old, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			return "", fmt.Errorf("read the exclusions of %s: %s: %w", campaign, path, err)
		}
		for _, row := range old[min(1, len(old)):] {
			switch len(row) {
			case exclusionsRun: // before the run column
				add(append(row, strings.Join(legacy, " "), ""))
			case exclusionsEnv: // before the env column: none known
				add(append(row, ""))
			case len(exclusionsHeader):
				add(row)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the exclusions of %s: %w", campaign, err)
	}
	for _, r := range rejects {
		if r.Outcome == plan.OutcomeSkipped && r.Code == plan.CodeAlreadyDelivered {
			add([]string{csvcell.Cell(r.ID), csvcell.Cell(r.Email), r.Outcome, r.Code, csvcell.Cell(r.Reason), campaign, strings.Join(runs, " "), env})
		}
	}
	if len(rows) == 0 {
		return "", nil // nobody excluded, by this recovery or earlier
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(exclusionsHeader)
	_ = w.WriteAll(rows)
	if err := writeFile(path, b.Bytes()); err != nil {
		return "", fmt.Errorf("write the exclusions of %s: %w", campaign, err)
	}
	return path, nil
}

// exclusionsHeader is the header of the exclusions file; files written
// before its env column lack it, and those written before its run column
// both.
var exclusionsHeader = []string{"id", "email", "outcome", "code", "response", "campaign", "run", "env"}

// exclusionsRun and exclusionsEnv are the indexes of the run and env
// columns of the exclusions file (exclusionsHeader), and the number of
// columns of a file written before each.
const (
	exclusionsRun = 6
	exclusionsEnv = 7
)

// LoadDeliveredFor is LoadDelivered, with the exclusions of the
// campaign's earlier recoveries made on this machine (ExclusionsPath in
// stateDir) read too when paths do not name them: Delivered.Earlier says
// how many recipients they list. Read by itself or named, the file stands
// for the runs it names (its run column) and those the record here names
// as staged here (one written before the column names none), not for
// another machine's: a run another machine's recovery marked is refused
// (*ExclusionsMissingError, Here naming the file) until its exclusions are
// given.
func LoadDeliveredFor(stateDir, campaign string, paths []string) (*Delivered, error) {
	file := ExclusionsPath(stateDir, campaign)
	if _, err := os.Stat(file); stateDir == "" || err != nil {
		return LoadDelivered(campaign, paths)
	}
	var here []string
	if rec, _ := ReadRecord(stateDir, campaign); rec != nil {
		here = append(slices.Clip(rec.MarkedRuns), rec.Run)
	}
	load := func(paths []string) (*Delivered, error) {
		d, err := loadDelivered(campaign, paths, file, here)
		if me := (*ExclusionsMissingError)(nil); errors.As(err, &me) {
			me.Here = file
		}
		return d, err
	}
	if slices.ContainsFunc(paths, func(p string) bool { return sameFile(p, file) }) {
		return load(paths) // named among the paths: read as they are
	}
	earlier, err := LoadDelivered(campaign, []string{file})
	if errors.As(err, new(*NoRecordError)) {
		return LoadDelivered(campaign, paths) // it lists nobody
	} else if err != nil {
		return nil, err
	}
	d, err := load(append(slices.Clip(paths), file))
	if err != nil {
		return nil, err
	}
	d.Earlier, d.EarlierFile = earlier.Len(), file
	return d, nil
}

// LoadDeliveredIn is LoadDeliveredFor for a send in environment env: a
// file of another environment's deliveries is refused (*EnvError,
// Delivered.CheckEnv) as it is read, before anything says what the files
// exclude.
func LoadDeliveredIn(stateDir, env, campaign string, paths []string) (*Delivered, error) {
	d, err := LoadDeliveredFor(stateDir, campaign, paths)
	if err != nil {
		return nil, err
	}
	if err := d.CheckEnv(env); err != nil {
		return nil, err
	}
	return d, nil
}

// runsHere returns the marked runs whose exclusions the exclusions file
// of campaign in stateDir lists, for a staging in environment env: those
// the record there names as staged there (MarkedRuns; a record written
// before it kept them names its last run only), and those the file's run
// column names (a file copied here from the machine that made it, with no
// record). A record of another environment (a state_dir two environments
// share) names none of env's; a file with a row of another environment
// lists none of env's either: it is refused (*EnvError, as a recovery
// reading it by itself refuses it) rather than taken for env's.
func runsHere(stateDir, env, campaign string) ([]string, error) {
	var runs []string
	if rec, _ := ReadRecord(stateDir, campaign); rec != nil && (rec.Env == "" || env == "" || rec.Env == env) {
		runs = append(slices.Clip(rec.MarkedRuns), rec.Run)
	}
	if d, err := LoadDelivered(campaign, []string{ExclusionsPath(stateDir, campaign)}); err == nil {
		if err := d.CheckEnv(env); err != nil && env != "" {
			return nil, err
		}
		for _, w := range d.written {
			runs = append(runs, w.Runs...)
		}
	}
	runs = slices.DeleteFunc(runs, func(r string) bool { return !strings.HasSuffix(r, store.RunExcludedMark) })
	slices.Sort(runs)
	return slices.Compact(runs), nil
}

// sameFile reports whether paths a and b name the same file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	fb, errb := os.Stat(b)
	return err == nil && errb == nil && os.SameFile(fa, fb)
}

// fileExists reports whether path names a file that can be read about.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Journaled names, sorted, the campaigns whose delivery
// journal files are in journalDir (a <campaign>/ directory holding one or
// more, or one that cannot be read) but that are neither among listed
// (those Redis has) nor started here (Gone names those): Redis lost
// them, and this host, a worker's, keeps no start record of them. A
// campaign whose record here names another environment is left out.
// `tidings status` and `doctor` say it, as send refuses such a campaign
// (checkState).
func Journaled(journalDir, stateDir string, listed []string) []string {
	if journalDir == "" {
		return nil
	}
	entries, _ := os.ReadDir(journalDir)
	var lost []string
	for _, d := range entries {
		c := d.Name()
		if !d.IsDir() || slices.Contains(listed, c) || strings.HasPrefix(c, ".") {
			continue
		}
		if r, err := ReadRecord(stateDir, c); err != nil || r != nil {
			continue // started here (Gone's), or of another environment, or unreadable
		}
		if files, err := journalFiles(journalDir, c); len(files) > 0 || err != nil && !errors.Is(err, fs.ErrNotExist) {
			lost = append(lost, c)
		}
	}
	slices.Sort(lost)
	return lost
}
