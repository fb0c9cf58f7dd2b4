// Package journal is tidings' record of deliveries that does not live in
// Redis: an append-only file per worker and run of a campaign, one JSON line
// per recorded outcome, written to the file as it is appended (a killed
// worker loses none) and flushed to disk (fsync) at a bounded interval or
// before every append returns.
//
// Layout: <dir>/<campaign>/<run>.<worker>.jsonl. A run is one staging of a
// campaign and its resumptions (the run id is kept by send
// --resume-existing and is new after Redis lost the campaign). When Redis
// loses a campaign, the journals of every worker say who was already
// delivered; Read gathers them so that the campaign can be staged again
// with those recipients excluded.
//
// A worker journals the recipients of each claim window as claimed before
// it sends the first of them (and those it gives back unsent as
// unclaimed); readers take a claim no later line resolves as in doubt.
// A window's outcome lines are written together once it is sent (or
// stops), before Redis records the outcomes (with the worker's next ledger
// step), so a worker's journal holds
// at most one claim window per connection more deliveries of a run than
// Redis does while Redis keeps its state: a worker that finds Redis further
// behind its own journal knows Redis went back in time. When Redis then
// records a temporary failure otherwise than its line said (failed,
// cancelled), the worker writes a line that amends it (Entry.Amends).
package journal

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Entry is one recorded outcome.
type Entry struct {
	At time.Time `json:"at"`
	// Amends marks a line that says what the ledger recorded of an attempt
	// whose outcome line, written before the ledger's step, said
	// otherwise (a temporary failure the ledger made failed or cancelled):
	// it replaces that line's outcome, is no attempt of its own, and
	// resolves no claim. Never a delivery. Written first after the time,
	// so that a line cut short still says it.
	Amends   bool   `json:"amends,omitempty"`
	Campaign string `json:"campaign"`
	Run      string `json:"run"`
	ID       string `json:"id"`
	Email    string `json:"email"`
	Lang     string `json:"lang,omitempty"`
	Outcome  string `json:"outcome"` // sent, failed, temp, refused, invalid, in-doubt, ...
	Code     string `json:"code,omitempty"`
	// Attempt is a claimed line's attempt number (the ledger's count of
	// claims of the recipient, this one included), and Stage the staging
	// it was made in.
	Attempt int    `json:"attempt,omitempty"`
	Stage   string `json:"stage,omitempty"`
	Worker  string `json:"worker,omitempty"`
	// Env is the environment of the worker that wrote the line
	// (Config.Env), "" in lines written before tidings recorded it: a
	// recovery refuses another environment's journal (a staging run's
	// deliveries excluded from production would never be mailed there).
	Env string `json:"env,omitempty"`
}

// appendJSON appends e as json.Marshal writes it, without reflection (a
// worker journals every message): strings of plain ASCII are written as
// they are, others through json.Marshal. known (nil: none) holds the
// strings found plain by the lines appended before e in the same write.
func (e Entry) appendJSON(b []byte, known *plainKnown) ([]byte, error) {
	// What MarshalJSON writes (RFC 3339 with nanoseconds, quoted; the same
	// errors), without the slice it makes, and the text of the second
	// written last kept (appendAt).
	b, err := appendAt(append(b, `{"at":"`...), e.At)
	if err != nil {
		return nil, fmt.Errorf("journal line of recipient %s: its time %s: %w", e.ID, e.At, err)
	}
	b = append(b, '"')
	if e.Amends {
		b = append(b, `,"amends":true`...)
	}
	b = known.appendString(append(b, `,"campaign":`...), knownCampaign, e.Campaign)
	b = known.appendString(append(b, `,"run":`...), knownRun, e.Run)
	for _, f := range [...]struct {
		key, val  string
		omitEmpty bool
	}{{"id", e.ID, false}, {"email", e.Email, false},
		{"lang", e.Lang, true}, {"outcome", e.Outcome, false}, {"code", e.Code, true}} {
		if !f.omitEmpty || f.val != "" {
			b = appendString(append(append(append(b, `,"`...), f.key...), `":`...), f.val)
		}
	}
	if e.Attempt != 0 {
		b = strconv.AppendInt(append(b, `,"attempt":`...), int64(e.Attempt), 10)
	}
	if e.Stage != "" {
		b = known.appendString(append(b, `,"stage":`...), knownStage, e.Stage)
	}
	if e.Worker != "" {
		b = known.appendString(append(b, `,"worker":`...), knownWorker, e.Worker)
	}
	if e.Env != "" {
		b = known.appendString(append(b, `,"env":`...), knownEnv, e.Env)
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string, as json.Marshal quotes it.
func appendString(b []byte, s string) []byte {
	for i := range len(s) {
		if !plainJSON[s[i]] {
			q, _ := json.Marshal(s) // escapes, HTML-safe, invalid UTF-8 replaced
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// plainKnown remembers, for each of the strings every line of a window
// repeats (the campaign, the run, the stage, the worker and the
// environment: most of the bytes appendString checked a message,
// docs/benchmarks.md, "Goroutine hand-offs per message"), the last one an append found plain
// (appendString's fast path). The same string again is quoted without its
// bytes checked: one comparison, which costs a few instructions when it
// is the same string (the worker passes the same ones every line). It
// lives for one Append, so no goroutine shares it; nil remembers nothing.
type plainKnown [5]string

// The fields plainKnown remembers.
const (
	knownCampaign = iota
	knownRun
	knownStage
	knownWorker
	knownEnv
)

// appendString is appendString for field f, skipping the check of the
// string k remembers for f, and remembering s when it is plain.
func (k *plainKnown) appendString(b []byte, f int, s string) []byte {
	if k == nil || s == "" {
		return appendString(b, s)
	}
	if s != k[f] {
		for i := range len(s) {
			if !plainJSON[s[i]] {
				return appendString(b, s)
			}
		}
		k[f] = s
	}
	return append(append(append(b, '"'), s...), '"')
}

// plainJSON holds the bytes json.Marshal writes as they are: printable
// ASCII but '"', '\\' and the three it escapes for HTML. One lookup per
// byte of a journal line's strings (TestAppendString, FuzzAppendString).
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// Delivered reports whether the entry means the recipient may have received
// the message (sent or in-doubt).
func (e Entry) Delivered() bool { return e.Outcome == "sent" || e.Outcome == OutcomeInDoubt }

// The outcomes of lines that are not outcomes: a worker journals the
// recipients of a claim window as claimed before it sends the first of
// them, and those it then gives back unsent as unclaimed. Readers (Read,
// EachDelivery calls fn with the id of every recipient f records as
// delivered (sent or in doubt) in run, line by line, keeping nothing: a
// check of a whole journal against a ledger, in flat memory. A last line
// cut by a crash is read for what it still says, and not an error; when fn
// got its recipient, cutAt is where that line starts (-1 otherwise). A
// cut last line may also be one its worker is still writing (the kernel
// copies a write into the file a page at a time, and a reader can see its
// first part alone): read the line at cutAt again (After) to tell.
func (f File) EachDelivery(run string, fn func(id string) error) (cutAt int64, err error) {
	err = readLines(f.Path, func(e Entry) error {
		if e.Campaign == f.Campaign && e.Run == run && e.Delivered() {
			return fn(e.ID)
		}
		return nil
	})
	if c, cut := errors.AsType[*cutError](err); cut {
		if s := c.salvaged; s != nil && s.Campaign == f.Campaign && s.Run == run && s.Delivered() {
			return c.offset, nil
		}
		return -1, nil
	}
	return -1, err
}

// UnknownRuns, a reopened Writer's counts) never see these lines: a claim
// that no later line of its file resolves (its worker died before its
// window's outcome lines were written) is read, at the end of the file,
// as in doubt with code ClaimedCode.
const (
	OutcomeClaimed   = "claimed"
	OutcomeUnclaimed = "unclaimed"
	OutcomeInDoubt   = "in-doubt"
	ClaimedCode      = "claimed-no-outcome"
)

// Outcomes lists every outcome a journal line may hold, as this build
// writes them (the ledger's kinds, cancelled, and the claim lines). A line
// holds no format version: a line of any other outcome (a newer build's,
// or one edited) is refused (*OutcomeError) by every reader, never read as
// "not delivered", since its recipient could then be mailed twice.
var Outcomes = []string{"sent", "failed", "temp", OutcomeInDoubt, "refused", "invalid", "skipped", "cancelled", OutcomeClaimed, OutcomeUnclaimed}

// OutcomeError says that a whole journal line holds an outcome that is
// none of Outcomes.
type OutcomeError struct{ Outcome string }

func (e *OutcomeError) Error() string {
	return fmt.Sprintf("%q is no outcome this build of tidings knows (it knows %s, in that case and spelling)", e.Outcome, strings.Join(Outcomes, ", "))
}

// Config configures a Writer.
type Config struct {
	Dir    string // the journal directory (required)
	Worker string // this worker's id (required; part of file names)
	// Sync is the longest time an appended line (in the file, and so in
	// the OS's cache, when Append returns) may wait before it is fsynced
	// (default 200ms): what a crash of the host can lose. Zero with Always.
	Sync time.Duration
	// Always fsyncs before every Append returns (concurrent appends share
	// one fsync).
	Always bool
	// Env is the environment the worker sends in, written in every line
	// whose Entry.Env is "" (none when Env is "").
	Env string
}

// WithDefaults returns cfg with defaults applied.
func (cfg Config) WithDefaults() Config {
	if cfg.Sync <= 0 {
		cfg.Sync = 200 * time.Millisecond
	}
	return cfg
}

func (cfg Config) validate() error {
	if cfg.Dir == "" {
		return errors.New("no journal directory")
	}
	if cfg.Worker == "" || strings.ContainsAny(cfg.Worker, `/\`) {
		return fmt.Errorf("worker id %q cannot be part of a file name", cfg.Worker)
	}
	return nil
}

// Writer appends entries to the journal files of one worker. It is safe for
// concurrent use.
type Writer struct {
	cfg Config

	mu     sync.Mutex
	files  map[runKey]*file // open files
	dirty  bool
	closed bool
	// err is the first write error that is the disk's or the directory's
	// (Shared): returned by every later call, for every campaign.
	err error
	// broken holds, by campaign/run, the first error of that file alone
	// (Shared false: its file or campaign directory deleted or replaced):
	// returned by every later call for that run, not for the others.
	broken map[runKey]error

	syncMu sync.Mutex   // serialises fsyncs (Always: one fsync serves every waiting append)
	writes atomic.Int64 // Writes
	syncs  atomic.Int64 // Syncs
	stop   chan struct{}
	done   chan struct{}
}

// runKey names a campaign's run: the files and errors of a Writer are
// kept by it (a struct, not "campaign/run": looking one up on each Append
// makes no string).
type runKey struct{ campaign, run string }

// less orders keys as their "campaign/run" strings sort.
func (k runKey) less(o runKey) int {
	return strings.Compare(k.campaign+"/"+k.run, o.campaign+"/"+o.run)
}

type file struct {
	f     *os.File
	name  string           // its path
	id    os.FileInfo      // what it was when opened: a file at name that is not it replaced it
	count map[string]int64 // outcome -> lines, for this run
}

// ErrFileGone is wrapped by the error of an Append whose file's path no
// longer names the file the Writer opened (deleted, or replaced).
var ErrFileGone = errors.New("journal file lost")

// Shared reports whether err, a failure to write, fsync or open a journal
// file, is the disk's or the journal directory's, so that no campaign can
// journal (a full disk or quota, a read-only file system, an I/O error,
// too many open files, or any error it does not know), rather than that
// one campaign's file's alone: the file or the campaign's directory
// deleted or replaced (ErrFileGone), a path taken by something else, or a
// permission on it. A Writer stops every campaign on a shared error, and
// only the failed file's campaign otherwise.
func Shared(err error) bool {
	if _, line := errors.AsType[*LineError](err); line || errors.Is(err, ErrFileGone) {
		return false
	}
	for _, own := range []error{syscall.ENOENT, syscall.ENOTDIR, syscall.EEXIST, syscall.EISDIR, syscall.EACCES, syscall.EPERM, syscall.ELOOP, syscall.ENAMETOOLONG} {
		if errors.Is(err, own) {
			return false
		}
	}
	return true
}

// gone says whether f's path no longer names the file it opened: the
// file (or its directory) was deleted, or replaced. Writes to it would
// still succeed, into an inode no path names, and be lost with the
// process: the record of its deliveries outside Redis would be gone.
func (f *file) gone() error {
	cur, err := os.Stat(f.name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s was deleted while this worker wrote it: its earlier lines are in no file of the journal directory; "+
			"this process still holds them: before it exits, copy them back (cp /proc/%d/fd/%d %s), as they are the record of its deliveries if Redis loses the campaign", ErrFileGone, f.name, os.Getpid(), f.f.Fd(), f.name)
	case err != nil:
		return fmt.Errorf("check that %s is still the file this worker writes: %w", f.name, err)
	case !os.SameFile(cur, f.id):
		return fmt.Errorf("%w: %s was deleted or replaced by another file while this worker wrote it: its earlier lines are in no file of the journal directory; "+
			"this process still holds them: before it exits, copy them out (cp /proc/%d/fd/%d into a safe place), as they are the record of its deliveries if Redis loses the campaign", ErrFileGone, f.name, os.Getpid(), f.f.Fd())
	}
	return nil
}

// Open creates dir if needed and returns a Writer.
func Open(cfg Config) (*Writer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	w := &Writer{cfg: cfg, files: map[runKey]*file{}, broken: map[runKey]error{}, stop: make(chan struct{}), done: make(chan struct{})}
	if cfg.Always {
		close(w.done)
	} else {
		go w.flusher()
	}
	return w, nil
}

// Dir returns the journal directory.
func (w *Writer) Dir() string { return w.cfg.Dir }

func (w *Writer) flusher() {
	defer close(w.done)
	t := time.NewTicker(w.cfg.Sync)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			_ = w.Sync()
		}
	}
}

// fileName is the journal file of campaign's run for this worker.
func (w *Writer) fileName(campaign, run string) string {
	return FileName(w.cfg.Dir, campaign, run, w.cfg.Worker)
}

// FileName is the path of the journal file of campaign's run that worker
// writes in journal directory dir.
func FileName(dir, campaign, run, worker string) string {
	return filepath.Join(dir, campaign, run+"."+worker+".jsonl")
}

// open returns the open file of campaign's run (w.mu held), creating it and
// counting what an earlier process of the same worker id wrote.
func (w *Writer) open(campaign, run string) (*file, error) {
	key := runKey{campaign, run}
	if f := w.files[key]; f != nil {
		return f, nil
	}
	name := w.fileName(campaign, run)
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return nil, err
	}
	// The campaign's directory may be new: its entry in the journal
	// directory must survive a crash of the host as the file's does.
	if err := SyncDir(w.cfg.Dir); err != nil {
		return nil, err
	}
	count := map[string]int64{}
	var cut *cutError
	err := readFile(name, func(e Entry) error { count[e.Outcome]++; return nil })
	switch {
	case errors.As(err, &cut):
		// An earlier process of this worker died mid-line: appending after
		// the fragment would make a line nobody can read.
		if err := repair(name, cut); err != nil {
			return nil, err
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	if err := SyncDir(filepath.Dir(name)); err != nil {
		_ = f.Close()
		return nil, err
	}
	id, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	fl := &file{f: f, name: name, id: id, count: count}
	w.files[key] = fl
	return fl, nil
}

// repair replaces the cut last line of file name with what it still says
// (a whole line), or with nothing, written over the fragment in place: a
// crash while repairing leaves at worst another cut line saying the same.
func repair(name string, cut *cutError) error {
	var line []byte
	if cut.salvaged != nil {
		b, err := cut.salvaged.appendJSON(nil, nil) // as Append writes a line
		if err != nil {
			return err
		}
		line = append(b, '\n')
	}
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(line, cut.offset); err != nil {
		return err
	}
	if err := f.Truncate(cut.offset + int64(len(line))); err != nil {
		return err
	}
	return f.Sync()
}

// lines holds the buffers Append encodes its lines into: written to the
// file before Append returns, so a buffer is free again then. One that
// grew past maxPooledLine (a window of hundreds of claims) is left to the
// garbage collector rather than kept.
var lines = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledLine = 64 << 10

func getLine() *[]byte { return lines.Get().(*[]byte) }

func putLine(b *[]byte) {
	if cap(*b) <= maxPooledLine {
		lines.Put(b)
	}
}

// Append writes es, entries of one campaign's run, to this worker's file
// of that run in one write: each line is in the file (so in the OS's
// cache) when it returns, and fsynced within Config.Sync, or before it
// returns with Always. An error that wraps ErrNotWritten says that none
// of its lines is in the file; any other, that they may be (written, not
// fsynced; or a short write the file could not be cut back from).
func (w *Writer) Append(es ...Entry) error {
	if len(es) == 0 {
		return nil
	}
	buf := getLine()
	defer putLine(buf)
	line := slices.Grow((*buf)[:0], 256*len(es))
	var known plainKnown
	for _, e := range es {
		if e.Campaign != es[0].Campaign || e.Run != es[0].Run {
			return fmt.Errorf("journal: one append holds entries of two runs: %w", ErrNotWritten)
		}
		var err error
		e.Env = cmp.Or(e.Env, w.cfg.Env)
		if line, err = e.appendJSON(line, &known); err != nil {
			return fmt.Errorf("journal: encode entry: %w; %w", err, ErrNotWritten)
		}
		line = append(line, '\n')
	}
	*buf = line // kept for the next Append once written
	e := es[0]
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return fmt.Errorf("journal: closed: %w", ErrNotWritten)
	}
	key := runKey{e.Campaign, e.Run}
	if err := w.errFor(key); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("%w; %w", err, ErrNotWritten)
	}
	written := false // some of line may be in the file
	f, err := w.open(e.Campaign, e.Run)
	if err == nil {
		// Before each write, not only at the periodic fsync: a window's
		// claims are journaled before it is sent, so a journal whose file
		// is gone sends nothing more.
		err = f.gone()
	}
	if err == nil {
		// Into the file at once, not kept in a buffer until the next
		// sync: a killed worker (SIGKILL, OOM) must not take claims
		// with it, or a Redis that lost them too would see those
		// recipients unsent and send them again (the write costs ~1 µs;
		// the fsync stays batched).
		var n int
		if n, err = f.f.Write(line); err == nil {
			w.writes.Add(1)
		} else if n > 0 {
			// A short write (a full disk): its part is taken back, so
			// that the caller can tell none of its lines is there.
			fi, serr := f.f.Stat()
			written = serr != nil || f.f.Truncate(fi.Size()-int64(n)) != nil || f.f.Sync() != nil
		}
	}
	if err != nil {
		err = w.fail(key, fmt.Errorf("journal: append to %s: %w", w.fileName(e.Campaign, e.Run), err))
		w.mu.Unlock()
		if !written {
			return fmt.Errorf("%w; %w", err, ErrNotWritten)
		}
		return err
	}
	for _, e := range es {
		if e.Outcome != OutcomeClaimed && e.Outcome != OutcomeUnclaimed {
			f.count[e.Outcome]++ // as a reopened file counts them (readFile)
		}
	}
	w.dirty = true
	w.mu.Unlock()
	if w.cfg.Always {
		_ = w.Sync()
		return w.ErrFor(e.Campaign, e.Run) // another file's fsync failing alone is not this append's
	}
	return nil
}

// fail records err, a failure of the file of key, where it
// belongs (Shared: for every file; else for that file alone), unless an
// error is recorded there already, and returns it (w.mu held).
func (w *Writer) fail(key runKey, err error) error {
	if Shared(err) {
		if w.err == nil {
			w.err = err
		}
		return err
	}
	if w.broken[key] == nil {
		w.broken[key] = err
	}
	return err
}

// errFor returns the error that stops the file of key: the shared one, or
// its own (w.mu held).
func (w *Writer) errFor(key runKey) error {
	return cmp.Or(w.err, w.broken[key])
}

// Err returns the error that stopped the writer for every campaign (a
// failed write or fsync that is the disk's or the directory's: Shared),
// or nil: once set, every Append fails with it.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// ErrFor returns the error that stops the journal of campaign's run: the
// one that stopped every campaign (Err), or that of its own file (deleted
// or replaced, say), or nil. Once set, every Append of that run fails
// with it.
func (w *Writer) ErrFor(campaign, run string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errFor(runKey{campaign, run})
}

// Count returns how many entries with outcome this worker's journal holds
// for campaign's run (including those of an earlier process with the same
// worker id). It creates the file, empty, when there is none (its
// directory fsynced): a worker counts before its first claim of a run,
// so every run a worker touched has a file, and a recovery from the
// journals sees its id (a run a recovery marked needs that recovery's
// exclusions too, even when Redis lost it before anyone was claimed).
func (w *Writer) Count(campaign, run, outcome string) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, err := w.open(campaign, run)
	if err != nil {
		return 0, w.fail(runKey{campaign, run}, fmt.Errorf("journal: %w", err))
	}
	return f.count[outcome], nil
}

// Sync fsyncs every open file when any was written to since the last
// Sync, and returns the error that stopped every campaign (Err), else the
// first that stopped one (ErrFor), or nil.
func (w *Writer) Sync() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	if !w.dirty {
		err := w.anyErr()
		w.mu.Unlock()
		return err
	}
	w.dirty = false
	files := maps.Clone(w.files)
	w.mu.Unlock()
	w.syncs.Add(1)
	// fsync outside w.mu: appends go on meanwhile.
	failed := map[runKey]error{}
	for key, f := range files {
		if err := f.f.Sync(); err != nil {
			failed[key] = fmt.Errorf("journal: fsync %s: %w", f.f.Name(), err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, key := range slices.SortedFunc(maps.Keys(failed), runKey.less) {
		w.fail(key, failed[key])
	}
	return w.anyErr()
}

// anyErr returns the error that stopped every campaign, else the first (by
// campaign/run) that stopped one, or nil (w.mu held).
func (w *Writer) anyErr() error {
	if w.err != nil || len(w.broken) == 0 {
		return w.err
	}
	return w.broken[slices.MinFunc(slices.Collect(maps.Keys(w.broken)), runKey.less)]
}

// Writes returns how many writes the journal has made (one a successful
// Append).
func (w *Writer) Writes() int64 { return w.writes.Load() }

// Syncs returns how many fsync passes the journal has made (each fsyncs
// every file open): what it costs the host's disk.
func (w *Writer) Syncs() int64 { return w.syncs.Load() }

// Close fsyncs and closes every file.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	if !w.cfg.Always {
		close(w.stop)
		<-w.done
	}
	w.mu.Lock()
	w.dirty = true
	w.mu.Unlock()
	err := w.Sync()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.files {
		if cerr := f.f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

// Touch creates the file of campaign's run for writer (a name of the
// process that writes it, as a worker id) in journal directory dir, empty,
// unless it exists, with the directories it is in fsynced, and returns its
// path. A recovery that stages a run needing its exclusions
// (store.RunExcludedMark) leaves one in its own journal, so that the run
// is seen by a later recovery from the journals even when Redis lost it
// before any worker picked it up.
func Touch(dir, campaign, run, writer string) (string, error) {
	w, err := Open(Config{Dir: dir, Worker: writer, Always: true})
	if err != nil {
		return "", err
	}
	_, err = w.Count(campaign, run, "") // opens (creates) the file
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return w.fileName(campaign, run), err
}

// SyncDir fsyncs directory dir, so that a file created in it survives a
// crash of the host.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// File is one journal file found by Files.
type File struct {
	Path, Campaign, Run, Worker string
}

// Files lists the journal files of campaign under path: a journal directory
// (holding <campaign>/ subdirectories), one campaign's directory, or a
// single file. Journal files it would pass over are refused, naming them:
// beside the campaign's directory in a journal directory (stray, siblings;
// also in the directory around the campaign's directory when that is the
// path given, <journal dir>/<campaign>), and in a subdirectory of the
// directory it reads (nested). A directory of journal files collected
// anywhere is read as the campaign's. A trailing slash changes nothing.
func Files(path, campaign string) ([]File, error) {
	return files(filepath.Clean(path), campaign, true)
}

// MissingError is a journal path given that does not exist: it names the
// path and what to give instead, and is fs.ErrNotExist.
type MissingError struct {
	Op, Path string
	Give     string // what to give instead
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s: %s does not exist: give %s", e.Op, e.Path, e.Give)
}

// Is makes a *MissingError fs.ErrNotExist.
func (e *MissingError) Is(target error) bool { return target == fs.ErrNotExist }

// files is Files; around says whether the directory around a campaign's
// directory given as path is checked as its journal directory (not for a
// worker, CampaignFiles).
func files(path, campaign string, around bool) ([]File, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &MissingError{Op: "read journal", Path: path, Give: fmt.Sprintf("a worker's journal directory (journal.dir), the directory of campaign %s in it, the directory you copied every worker's journal files into, or a journal file", campaign)}
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	var names []string
	if !fi.IsDir() {
		names = []string{path}
	} else {
		dir := path
		sub := filepath.Join(path, campaign)
		if isDir(sub) {
			dir = sub
			if err := stray(path, sub); err != nil {
				return nil, err
			}
		}
		m, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		if err != nil {
			return nil, fmt.Errorf("read journal: %w", err)
		}
		if dir == sub || (len(m) == 0 && filepath.Base(filepath.Clean(path)) != campaign) {
			// A journal directory: its other directories are other
			// campaigns', unless they hold this one's files.
			if err := siblings(path, sub, campaign); err != nil {
				return nil, err
			}
		}
		// The directory read is the campaign's, however it is named, when
		// it holds journal files or is the one named after the campaign;
		// not a journal directory of every campaign's with nothing of
		// this one (its subdirectories are the other campaigns').
		if len(m) > 0 || dir != path || filepath.Base(filepath.Clean(path)) == campaign {
			if err := nested(dir); err != nil {
				return nil, err
			}
		}
		if around && dir == path && filepath.Base(path) == campaign {
			// <journal dir>/<campaign> given: the journal directory around
			// it is checked as when it is given.
			parent := filepath.Dir(path)
			if err := stray(parent, path); err != nil {
				return nil, err
			}
			if err := siblings(parent, path, campaign); err != nil {
				return nil, err
			}
		}
		// A name listed that does not lead to a file (a symbolic link
		// to nothing, or a loop) may stand for another host's journal:
		// read as nothing, its deliveries would be mailed again.
		for _, n := range m {
			if _, err := os.Stat(n); err != nil {
				return nil, fmt.Errorf("read journal: %w", unreadable(dir, err))
			}
		}
		names = m
	}
	sort.Strings(names)
	out := make([]File, 0, len(names))
	for _, n := range names {
		base := strings.TrimSuffix(filepath.Base(n), ".jsonl")
		run, worker, _ := strings.Cut(base, ".")
		out = append(out, File{Path: n, Campaign: campaign, Run: run, Worker: worker})
	}
	return out, nil
}

// CampaignFiles lists the journal files of campaign in a worker's journal
// directory dir: <dir>/<campaign>/ only (the files a worker writes), so
// that a file misplaced elsewhere in dir does not stop every campaign (a
// reader given the whole directory, Files, refuses it). The error wraps
// fs.ErrNotExist when <dir>/<campaign>/ does not exist; a file of that name
// (where the worker cannot write its journal, and says so) holds none.
func CampaignFiles(dir, campaign string) ([]File, error) {
	sub := filepath.Join(dir, campaign)
	if fi, err := os.Stat(sub); err == nil && !fi.IsDir() {
		return nil, nil
	}
	return files(sub, campaign, false)
}

// stray refuses a journal directory root with journal files
// (<run>.<worker>.jsonl) directly in it, beside the campaign's directory
// sub (another host's file copied into the journal directory itself, say):
// only sub is read, so their deliveries would be missed (excluded from
// nobody: mailed again) without a word.
func stray(root, sub string) error {
	m, err := filepath.Glob(filepath.Join(root, "*.jsonl"))
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	var found, paths []string
	for _, p := range m {
		run, worker, ok := strings.Cut(strings.TrimSuffix(filepath.Base(p), ".jsonl"), ".")
		if ok && run != "" && worker != "" && !isDir(p) {
			found, paths = append(found, filepath.Base(p)), append(paths, p)
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("read journal: %s holds journal file(s) %s beside the campaign's directory, which nobody reads there: move each into its campaign's directory (%s for this campaign's), keeping its name%s",
			root, strings.Join(found, ", "), sub, clashes(sub, paths))
	}
	return nil
}

// clashes says which of paths, journal files to be moved into the
// campaign's directory sub keeping their names, are named as a file sub
// holds already (a backup copy kept in the journal directory, say), and
// what to do with them instead: moved as told, one would replace the
// other, and the deliveries only the one replaced records would be lost
// (excluded from nobody: mailed again). "" when none is.
func clashes(sub string, paths []string) string {
	var clash []string
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(sub, filepath.Base(p))); err == nil {
			clash = append(clash, p)
		}
	}
	if len(clash) == 0 {
		return ""
	}
	return fmt.Sprintf("; but %s holds a file named as %s already: never move one over the other (the deliveries only the one replaced records would be lost, and mailed again): a copy whose lines the file there begins with can be deleted; rename any other (a new name after the first dot, keeping the run before it and .jsonl) and move it in",
		sub, strings.Join(clash, ", "))
}

// siblings refuses a journal directory root whose directories other than
// the campaign's own (sub) hold journal files of campaign (another host's
// <campaign>/ copied in as <campaign>-hostB/, or its whole journal
// directory as hostB/): only sub is read, so their deliveries would be
// missed (excluded from nobody: mailed again) without a word. A file is
// the campaign's when its first line names it (a worker writes one
// campaign's lines into a file).
func siblings(root, sub, campaign string) error {
	var found, paths []string
	err := walkLinked(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return unreadable(root, err)
		case d.IsDir() && p == sub:
			return fs.SkipDir
		case d.IsDir() || filepath.Dir(p) == root || !strings.HasSuffix(p, ".jsonl"):
			return nil // a file directly in root is stray's
		}
		first, err := firstCampaign(p)
		if err != nil {
			return unreadable(root, err)
		}
		if first != campaign {
			return nil
		}
		if dir := filepath.Dir(p); !slices.Contains(found, dir) {
			found = append(found, dir)
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("read journal: %s holds journal files of campaign %s in %s, beside the campaign's directory, which nobody reads there: move each file into %s itself, keeping its name%s",
			root, campaign, strings.Join(found, ", "), sub, clashes(sub, paths))
	}
	return nil
}

// firstCampaign returns the campaign the first line of journal file name
// names ("" when it names none); an error when the file cannot be read.
func firstCampaign(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := bufio.NewReaderSize(io.LimitReader(f, 64<<10), 64<<10).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", &fs.PathError{Op: "read", Path: name, Err: err}
	}
	e, _ := salvage(b) // a whole line, or what a cut one still says
	var whole Entry
	if json.Unmarshal(b, &whole) == nil {
		e = whole
	}
	return e.Campaign, nil
}

// unreadable words err, a directory or journal file below dir that could
// not be read (an *fs.PathError names it): it may hold deliveries of the
// campaign (another host's journal copied in), so the reader refuses it
// rather than mail them again.
func unreadable(dir string, err error) error {
	p, cause := "a file", err
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		p, cause = pe.Path, pe.Err
	}
	return fmt.Errorf("%s could not be read (%w): make it readable by this user, or move it out of %s; tidings refuses rather than risk missing the deliveries a journal there may record (they would be mailed again)", p, cause, dir)
}

// nested refuses a campaign's journal directory with journal files in a
// subdirectory (another host's directory copied in with cp -r, say): every
// reader looks in dir itself only, so their deliveries would be missed
// (excluded from nobody: mailed again) without a word.
func nested(dir string) error {
	var found string
	err := walkLinked(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return unreadable(dir, err)
		case found != "":
			return fs.SkipAll
		case !d.IsDir() && filepath.Dir(p) != dir && strings.HasSuffix(p, ".jsonl"):
			found = p
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	if found != "" {
		return fmt.Errorf("read journal: %s holds a journal file in a subdirectory (%s), which nobody reads there: move the files into %s itself (keep their names)", dir, found, dir)
	}
	return nil
}

// walkLinked is filepath.WalkDir of root, but a symbolic link below it to
// a directory is walked too (fn first gets the link as that directory,
// and may skip it), its entries under the link's path: another host's
// journal directory linked in holds deliveries nobody reads there, as one
// copied in does. Each real directory is walked once, so a link back to
// one walked already (a loop) ends there.
func walkLinked(root string, fn fs.WalkDirFunc) error {
	seen := map[string]bool{}
	var walk func(top string) error
	walk = func(top string) error {
		// The real directory is walked (WalkDir lists no link given as
		// its root), each path named below top.
		real, err := filepath.EvalSymlinks(top)
		if err != nil {
			return fn(top, nil, err)
		}
		if seen[real] {
			return nil
		}
		seen[real] = true
		return filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
			p = top + p[len(real):]
			if pe, ok := errors.AsType[*fs.PathError](err); ok {
				if rest, under := strings.CutPrefix(pe.Path, real); under {
					pe.Path = top + rest
				}
			}
			if err != nil || p == top || d.Type()&fs.ModeSymlink == 0 {
				return fn(p, d, err)
			}
			fi, serr := os.Stat(p)
			if serr != nil || !fi.IsDir() {
				return fn(p, d, nil) // a link to a file, or to nothing: as it is
			}
			switch err := fn(p, fs.FileInfoToDirEntry(fi), nil); {
			case errors.Is(err, fs.SkipDir):
				return nil
			case err != nil:
				return err
			}
			return walk(p)
		})
	}
	return walk(root)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// ErrNotWritten is wrapped by Append's error when none of its lines is in
// the file.
var ErrNotWritten = errors.New("none of its lines was written")

// ErrTruncated is wrapped by Read's error for a file whose last line is
// incomplete (its writer died mid-line); every complete line was read.
var ErrTruncated = errors.New("journal file ends with an incomplete line")

// Read calls fn for every entry of campaign found under path (see Files).
// Lines of other campaigns are skipped, but a file that records another
// campaign and nothing of campaign (another campaign's directory or file
// given for this one's) is a *CampaignError: read as empty, it would say
// that nobody was delivered. A file whose last line is incomplete is read
// up to it, and fn gets the recipient that line names, if it names one,
// as in-doubt (or with the outcome it holds whole); Read then returns an
// error wrapping ErrTruncated after reading everything else.
func Read(path, campaign string, fn func(Entry) error) error {
	files, err := Files(path, campaign)
	if err != nil {
		return err
	}
	var truncated error
	for _, f := range files {
		own, other := false, ""
		err := readFile(f.Path, func(e Entry) error {
			if e.Campaign != campaign {
				other = cmp.Or(other, e.Campaign)
				return nil
			}
			own = true
			return fn(e)
		})
		switch {
		case err != nil && !errors.Is(err, ErrTruncated):
			return err
		case !own && other != "":
			return otherCampaign(f.Path, campaign, other)
		case err != nil:
			truncated = err
		}
	}
	return truncated
}

// CampaignError says that a journal file records another campaign (Holds)
// and nothing of the one asked for: the directory of another campaign, or
// one of its files, was given for this one's.
type CampaignError struct {
	Path     string // the file
	Campaign string // the campaign asked for
	Holds    string // the campaign the file records
	// Root is the journal directory Path is in (<Root>/<Holds>/ by the
	// layout), "" when Path is not laid out so; RootHolds says whether it
	// also has Campaign's directory.
	Root      string
	RootHolds bool
}

// Error says what went wrong and which path to give instead.
func (e *CampaignError) Error() string {
	msg := fmt.Sprintf("%s is a delivery journal of campaign %s, not of %s", e.Path, e.Holds, e.Campaign)
	switch {
	case e.RootHolds:
		return fmt.Sprintf("%s: give the journal directory %s (which holds %s/) or %s", msg, e.Root, e.Campaign, filepath.Join(e.Root, e.Campaign))
	case e.Root != "":
		return fmt.Sprintf("%s, and the journal directory it is in (%s) holds no %s/: give the journal directory (journal.dir) of the workers that sent %s", msg, e.Root, e.Campaign, e.Campaign)
	}
	return fmt.Sprintf("%s: give the journal directory (journal.dir) of the workers that sent %s, or its %s/ directory", msg, e.Campaign, e.Campaign)
}

// otherCampaign is the *CampaignError of file, which records campaign
// holds instead of campaign.
func otherCampaign(file, campaign, holds string) *CampaignError {
	e := &CampaignError{Path: file, Campaign: campaign, Holds: holds}
	if dir := filepath.Dir(file); filepath.Base(dir) == holds {
		e.Root = filepath.Dir(dir)
		e.RootHolds = isDir(filepath.Join(e.Root, campaign))
	}
	return e
}

// Campaigns counts the lines of journal file name by the campaign each
// names, whatever its outcome (claims and give-backs too; a last line cut
// by a crash when it still names its campaign): what a file that Read
// finds nothing of a campaign in holds instead.
func Campaigns(name string) (map[string]int, error) {
	n := map[string]int{}
	err := readLines(name, func(e Entry) error {
		if e.Campaign != "" {
			n[e.Campaign]++
		}
		return nil
	})
	if _, cut := errors.AsType[*cutError](err); !cut && err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	return n, nil
}

// cutError is readFile's error for a file whose last line is incomplete:
// Offset is where that line starts.
type cutError struct {
	name   string
	line   int
	offset int64
	// salvaged is what the cut line still says (see salvage), nil when it
	// names no recipient.
	salvaged *Entry
}

func (e *cutError) Error() string { return fmt.Sprintf("%s:%d: %v", e.name, e.line, ErrTruncated) }
func (e *cutError) Unwrap() error { return ErrTruncated }

// readFile calls fn for every entry of file name (see readLines), claims
// resolved: a claimed line is held until a later line of the same
// recipient resolves it (its outcome, passed on, or unclaimed, dropped),
// and the claims left are passed at the end as in doubt. A line resolves
// the latest claim of its recipient not yet resolved: a claim made again
// before an earlier one was resolved (the worker restarted with the same
// id after a crash) leaves the earlier one in doubt. A line that resolves
// a claim keeps what the claim says of the recipient and it lacks (a last
// line cut after the id names no address, lang or time): see fill.
func readFile(name string, fn func(Entry) error) error {
	// The claims not resolved yet, by recipient, each with its place in
	// the file: only those are kept (at most a window a connection, in a
	// file a worker wrote whole), not every claim a file ever made.
	type claim struct {
		e   Entry
		seq int
	}
	open := map[string][]claim{}
	seq := 0
	resolve := func(id string) (Entry, bool) {
		cs := open[id]
		if len(cs) == 0 {
			return Entry{}, false
		}
		c := cs[len(cs)-1]
		if len(cs) == 1 {
			delete(open, id)
		} else {
			open[id] = cs[:len(cs)-1]
		}
		return c.e, true
	}
	err := readLines(name, func(e Entry) error {
		switch e.Outcome {
		case OutcomeClaimed:
			open[e.ID] = append(open[e.ID], claim{e, seq})
			seq++
			return nil
		case OutcomeUnclaimed:
			resolve(e.ID)
			return nil
		}
		if e.Amends { // of an outcome line that resolved its claim
			return fn(e)
		}
		if claim, ok := resolve(e.ID); ok {
			e.fill(claim)
		}
		return fn(e)
	})
	var cut *cutError
	if err != nil && !errors.As(err, &cut) {
		return err
	}
	var left []claim
	for _, cs := range open {
		left = append(left, cs...)
	}
	slices.SortFunc(left, func(a, b claim) int { return a.seq - b.seq }) // in file order
	for _, c := range left {
		e := c.e
		e.Outcome, e.Code = OutcomeInDoubt, ClaimedCode
		if ferr := fn(e); ferr != nil {
			return ferr
		}
	}
	return err
}

// fill gives e what the claim line it resolves says of the same recipient
// and e lacks: its address (the operator of an in-doubt recipient looks it
// up in the SMTP server's log), lang and time (a salvaged line cut before
// them names the id alone). The claim's attempt and stage stay its own.
func (e *Entry) fill(claim Entry) {
	e.Email = cmp.Or(e.Email, claim.Email)
	e.Lang = cmp.Or(e.Lang, claim.Lang)
	if e.At.IsZero() {
		e.At = claim.At
	}
}

// readLines calls fn for every line of file name. When its last line is
// incomplete, fn also gets what that line still says of its recipient (see
// salvage), and readLines returns a *cutError.
func readLines(name string, fn func(Entry) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			e, lerr := parseLine(b)
			if lerr != nil {
				lerr.Path, lerr.Line = name, line
				return lerr
			}
			if ferr := fn(e); ferr != nil {
				return ferr
			}
		} else if len(b) > 0 {
			cut := &cutError{name: name, line: line, offset: off}
			if e, ok := salvage(b); ok {
				// The file is <run>.<worker>.jsonl.
				run, worker, _ := strings.Cut(strings.TrimSuffix(filepath.Base(name), ".jsonl"), ".")
				e.Run, e.Worker = cmp.Or(e.Run, run), cmp.Or(e.Worker, worker)
				cut.salvaged = &e
				if ferr := fn(e); ferr != nil {
					return ferr
				}
			}
			return cut
		}
		off += int64(len(b))
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// LineOf returns the number of the first whole line of file name for
// which match is true, 0 when none is (or the file cannot be read).
func LineOf(name string, match func(Entry) bool) int {
	n, found := 0, 0
	errFound := errors.New("found")
	err := readLines(name, func(e Entry) error {
		n++
		if match(e) {
			found = n
			return errFound
		}
		return nil
	})
	if !errors.Is(err, errFound) {
		return 0
	}
	return found
}

// LineError is a whole line of a journal file that is no entry tidings
// writes: a damaged disk's zeroes, a NUL or invalid UTF-8 in a field, a
// field of the wrong type, an empty line, a file that is no journal.
// Readers refuse it rather than guess whom it records.
type LineError struct {
	Path  string
	Line  int
	Field string // the field at fault; "" when the line is no JSON object
	Err   error  // what is wrong with it
}

// Error names the file, line and field, and says what to do.
func (e *LineError) Error() string {
	field := ""
	if e.Field != "" {
		field = " field " + strconv.Quote(e.Field) + ":"
	}
	if _, ok := errors.AsType[*OutcomeError](e.Err); ok {
		return fmt.Sprintf("%s:%d:%s %v: a line written by a newer version of tidings, or edited; read as not delivered, its recipient could be mailed twice, so it is refused: "+
			"read this journal with the build that wrote it (tidings version on the worker hosts), or, if the line was edited, see it with sed -n %dp %s, look the recipient up in the SMTP server's log "+
			"and write the outcome back as one of these (keep a copy of the file)",
			e.Path, e.Line, field, e.Err, e.Line, e.Path)
	}
	return fmt.Sprintf("%s:%d:%s not a journal entry: %v; tidings writes no such line (a damaged disk, an edit, or a file that is no journal): "+
		"see it with sed -n %dp %s; if it names a recipient, look them up in the SMTP server's log; then correct the line or delete it (keep a copy of the file), "+
		"or move a file that is no journal out of %s; tidings refuses rather than guess whom it records (they could be mailed twice)",
		e.Path, e.Line, field, e.Err, e.Line, e.Path, filepath.Dir(e.Path))
}

// Unwrap returns what is wrong with the line.
func (e *LineError) Unwrap() error { return e.Err }

// parseLine decodes b, a whole line (its newline included), as an Entry,
// or says what is wrong with it and in which field (Path and Line unset).
// Invalid UTF-8 is refused: json.Unmarshal would replace it, and a line
// tidings writes never holds any (appendString).
func parseLine(b []byte) (Entry, *LineError) {
	var e Entry
	err := json.Unmarshal(b, &e)
	if err == nil && utf8.Valid(b) {
		if !slices.Contains(Outcomes, e.Outcome) {
			return Entry{}, &LineError{Field: "outcome", Err: &OutcomeError{Outcome: e.Outcome}}
		}
		return e, nil
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return Entry{}, &LineError{Err: errors.New("an empty line")}
	}
	var fields map[string]json.RawMessage
	if merr := json.Unmarshal(b, &fields); merr != nil {
		// No JSON object: the field whose value the error is in.
		return Entry{}, &LineError{Field: fieldAt(b), Err: merr}
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		v := fields[k]
		if !utf8.Valid(v) || !utf8.ValidString(k) {
			return Entry{}, &LineError{Field: k, Err: errors.New("invalid UTF-8")}
		}
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		if ferr := json.Unmarshal(one, new(Entry)); ferr != nil {
			return Entry{}, &LineError{Field: k, Err: ferr}
		}
	}
	if err == nil {
		err = errors.New("invalid UTF-8")
	}
	return Entry{}, &LineError{Err: err}
}

// fieldAt returns the key of the last field whose value began in b
// before its JSON breaks off, "" when none did.
func fieldAt(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	field := ""
	for {
		k, err := dec.Token()
		if err != nil {
			return field
		}
		key, ok := k.(string)
		if !ok {
			return field
		}
		field = key
		if _, err := dec.Token(); err != nil {
			return field
		}
	}
}

// salvage returns what an incomplete line (its writer died while writing
// it) still says: the fields it holds whole. The line was written after
// the SMTP server's reply, so when it names a recipient but not the
// outcome, that recipient may have received the message: the entry is
// in-doubt. ok is false when the line names no recipient.
func salvage(frag []byte) (e Entry, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(frag))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return Entry{}, false
	}
	whole := map[string]string{} // the fields written whole
	amends := false
	for {
		k, err := dec.Token()
		if err != nil {
			break
		}
		v, err := dec.Token()
		if err != nil {
			break
		}
		if key, ok := k.(string); ok {
			if s, ok := v.(string); ok {
				whole[key] = s
			}
			amends = amends || key == "amends" && v == true
		}
	}
	// Decoded as Entry decodes a whole line (a bad "at" is left zero).
	b, _ := json.Marshal(whole)
	if err := json.Unmarshal(b, &e); err != nil {
		delete(whole, "at")
		b, _ = json.Marshal(whole)
		_ = json.Unmarshal(b, &e)
	}
	if e.Outcome == "" {
		if amends { // cut before what it amends to: the line it amends stands
			return Entry{}, false
		}
		e.Outcome = OutcomeInDoubt
	} else if !slices.Contains(Outcomes, e.Outcome) {
		e.Outcome = OutcomeInDoubt // a newer build's, say: fail closed
	}
	e.Amends = amends
	return e, e.Campaign != "" && e.ID != ""
}

// UnknownRuns lists the runs of campaign under dir of which the journal
// records a delivery (sent or in doubt) that a staging neither continues
// nor excludes. A file <run>.<worker>.jsonl is known when known holds its
// run (the run being sent, or a run excluded whole), or its Read name
// "<run>.<worker>@<bytes>" (the file was read, up to that size, when the
// deliveries were excluded: a file that has grown since holds lines nobody
// read), or "<run>.<worker>" (older stagings). It fails closed: a file it
// cannot read, or whose last line is cut, counts as holding a delivery,
// and a directory it cannot list is an error. It reads dir/<campaign>/
// (CampaignFiles), which holds no run when it does not exist.
func UnknownRuns(dir, campaign string, known []string) ([]string, error) {
	files, err := CampaignFiles(dir, campaign)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if slices.Contains(out, f.Run) || f.knownIn(known) {
			continue
		}
		delivered := errors.New("delivered")
		err := readFile(f.Path, func(e Entry) error {
			if e.Campaign == campaign && e.Delivered() {
				return delivered
			}
			return nil
		})
		if err != nil {
			out = append(out, f.Run)
		}
	}
	return out, nil
}

// ReadName names f as read now, for UnknownRuns: "<run>.<worker>@<bytes>".
// Take it before reading the file: lines appended while it is read make
// the file larger than the name says, so unknown (never wrongly known).
func (f File) ReadName() (string, error) {
	fi, err := os.Stat(f.Path)
	if err != nil {
		return "", fmt.Errorf("read journal: %w", err)
	}
	return fmt.Sprintf("%s.%s@%d", f.Run, f.Worker, fi.Size()), nil
}

// knownIn reports whether known names f (see UnknownRuns).
func (f File) knownIn(known []string) bool {
	name := f.Run + "." + f.Worker
	for _, k := range known {
		n, size, sized := strings.Cut(k, "@")
		switch {
		case k == f.Run, k == name:
			return true
		case sized && n == name:
			fi, err := os.Stat(f.Path)
			limit, perr := strconv.ParseInt(size, 10, 64)
			if err == nil && perr == nil && fi.Size() <= limit {
				return true
			}
		}
	}
	return false
}

// Tail calls fn for the entries in the last max bytes of f: its latest
// lines, claimed and unclaimed ones included, as written. The line the
// limit cuts, and a last line still being written, are skipped (so,
// unlike Read, a last line a crash cut is not read as in doubt: Tail
// serves a check that may miss one, never one that must count it). It
// returns the offset just past the last line it read: where After goes on.
func (f File) Tail(max int64, fn func(Entry) error) (end int64, err error) {
	return f.lines(max, true, fn)
}

// After calls fn for the entries of f's whole lines from offset off on (a
// line off cuts is skipped), and returns the offset just past the last.
func (f File) After(off int64, fn func(Entry) error) (end int64, err error) {
	return f.lines(off, false, fn)
}

// lines reads whole lines from offset n on (tail: the last n bytes),
// skipping the line it starts in.
func (f File) lines(n int64, tail bool, fn func(Entry) error) (int64, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return 0, fmt.Errorf("read journal: %w", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return 0, fmt.Errorf("read journal: %w", err)
	}
	start := min(n, fi.Size())
	if tail {
		start = max(fi.Size()-n, 0)
	}
	// One byte before start too: whether start begins a line.
	off := max(start-1, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := io.ReadFull(io.NewSectionReader(fh, off, int64(len(buf))), buf); err != nil {
		return off, fmt.Errorf("read %s: %w", f.Path, err)
	}
	if start > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return off, nil
		}
		buf, off = buf[i+1:], off+int64(i+1)
	}
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return off, nil
		}
		var e Entry
		if err := json.Unmarshal(buf[:i], &e); err != nil {
			return off, fmt.Errorf("%s: a line near its end is not a journal entry: %w", f.Path, err)
		}
		if err := fn(e); err != nil {
			return off, err
		}
		buf, off = buf[i+1:], off+int64(i+1)
	}
}
