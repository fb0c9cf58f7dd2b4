package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// StoredFormat is the number of the stored layout of a campaign that this
// build writes and reads: staging writes it in the campaign's meta
// ("format"), and a worker sends, ticks, checks in for and writes into only
// a campaign of its own format (workers of two builds on one Redis: an
// older worker would read counters a newer one no longer writes, and its
// batch gate count no attempt).
//
// Bump it in the commit that changes the stored layout of a campaign:
// anything a worker of the build before would read, write or expect
// differently in a campaign's keys (tidings:{<campaign>}:*): a key, hash
// field or counter added, removed, renamed or given another meaning (one
// that a gate or a count reads, even if no older reader knows it), the
// encoding of a ledger entry, a chunk, a batch, the control or a meta
// field, what one Lua script expects another (or another build's Go code)
// to have written. Not a change: code that reads and writes the same data
// the same way (a refactor, a faster script with the same effect), and
// keys outside the campaign (the workers' registry, asynq's). When in
// doubt, bump: a bump costs finishing the campaigns under way with the
// workers of the build before; a missed one can send a message twice.
const StoredFormat = 3

// FormatNone is the stored format of a campaign staged by a build before
// stored formats (its meta has no "format"): a build whose layout nothing
// records, so no worker of this or a later build sends it (fail closed).
// It is not StoredFormat-1: after the next bump, that number names a build
// that recorded it.
const FormatNone = 0

// FormatError says that campaign Campaign was staged with stored format
// Format (FormatNone: by a build before stored formats), not Want, the
// format of the build that reads it: that build must not send it, nor
// write into it.
type FormatError struct {
	Campaign     string
	Format, Want int
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("campaign %s was staged by a build with stored format %s; this tidings has format %d", e.Campaign, FormatName(e.Format), e.Want)
}

// FormatName words stored format f: its number, and for FormatNone that
// it is a build before stored formats.
func FormatName(f int) string {
	if f == FormatNone {
		return "0 (a build before stored formats)"
	}
	return strconv.Itoa(f)
}

// checkFormat returns a *FormatError when format f of campaign c is not
// this build's.
func checkFormat(c string, f int) error {
	if f != StoredFormat {
		return &FormatError{Campaign: c, Format: f, Want: StoredFormat}
	}
	return nil
}

// CheckFormat returns a *FormatError when m, campaign c's meta, was
// staged with another stored format than this build's: the check Format
// makes of the one field, made of a meta read whole (a worker loading c).
func (m *Meta) CheckFormat(c string) error { return checkFormat(c, m.Format) }

// CheckFormat returns a *FormatError when p, campaign c's probe, names
// another stored format than this build's: the check Meta.CheckFormat
// makes, of the format a worker re-reads every few hundred milliseconds.
func (p Probe) CheckFormat(c string) error { return checkFormat(c, p.Format) }

// Format reads the stored format of campaign c (FormatNone when its meta
// has none) in one HGET, and returns it with a *FormatError when it is not
// this build's; ErrNotFound (wrapped) when c has no meta.
func (s *Store) Format(ctx context.Context, c string) (int, error) {
	k := keysFor(c)
	f, found, err := s.formatOf(ctx, k)
	switch {
	case err != nil:
		return 0, err
	case !found:
		return 0, s.absent(ctx, k, "read the stored format")
	}
	return f, checkFormat(c, f)
}

// formatOf reads the stored format of the campaign of keys k (FormatNone
// when its meta has none) in one HMGET, and whether it has a meta.
func (s *Store) formatOf(ctx context.Context, k keys) (f int, found bool, err error) {
	v, err := s.rdb.HMGet(ctx, k.meta, "format", "hash").Result() // every staging has written a hash
	if err != nil {
		return 0, false, fmt.Errorf("read the stored format of %s: %w", k.name, err)
	}
	return atoi(strOr(v[0], "")), v[0] != nil || v[1] != nil, nil
}

// controlFormat reads, for control action (resume, approve, cancel,
// retry: those that write what the campaign's own build reads: the
// auto-pause window, the idle time, the approval, ledger entries and
// counters) on campaign c by a caller of environment env ("" = any), the
// staging, environment and stored format of c's meta in one HMGET. It
// returns the staging, to act only while it is still c's (a staging
// records its format with its id, in one write, so the format read holds
// for the writes that staging guards); or, of a campaign of another
// environment, checkEnv's error, and of one of another stored format, a
// *FormatError (wrapped, with what to run). Pause does not call it: it writes only the
// control's state and an audit entry, which every format keeps, and
// on-call must always be able to stop a send. No staging ("") and no
// error when c's meta has none (Redis lost it, or the first staging is
// under way): the action's own checks say which.
func (s *Store) controlFormat(ctx context.Context, c, action, env string) (string, error) {
	v, err := s.rdb.HMGet(ctx, keysFor(c).meta, "stage", "env", "format").Result()
	if err != nil {
		return "", fmt.Errorf("%s %s: read meta: %w", action, c, err)
	}
	stage := strOr(v[0], "")
	if err := checkEnv(c, strOr(v[1], ""), env); err != nil {
		return "", fmt.Errorf("%s %s: %w", action, c, err)
	}
	if f := atoi(strOr(v[2], "")); stage != "" {
		if err := checkFormat(c, f); err != nil {
			return "", fmt.Errorf("%s %s: %w: %s it with a tidings of the build that staged it (stored format %s), whose workers send it (%s); a pause works from any build",
				action, c, err, action, FormatName(f), s.buildsOf(ctx, strOr(v[1], env), f))
		}
	}
	return stage, nil
}

// buildsOf words the workers alive in environment env that recorded
// stored format f, with their versions, for a refusal: which build to
// run; or that none is alive, so nobody sends a campaign of that format.
func (s *Store) buildsOf(ctx context.Context, env string, f int) string {
	if f == FormatNone {
		return "a build before stored formats records none: tidings doctor lists the workers alive and their builds"
	}
	ws, err := s.Builds(ctx, env)
	if err != nil {
		return "the workers alive could not be read: tidings doctor lists their builds"
	}
	var of []string
	for _, w := range ws {
		if w.Format == f {
			of = append(of, w.Worker+" runs "+w.Version)
		}
	}
	if len(of) == 0 {
		return fmt.Sprintf("no worker of stored format %d is alive in %s, so nobody sends it until one runs", f, env)
	}
	return fmt.Sprintf("alive in %s: %s", env, strings.Join(of, ", "))
}

// BuildsKey is the record of the builds of the workers of environment env:
// worker id -> "<stored format> <version>" (SayBuild).
func BuildsKey(env string) string { return "tidings:builds:" + env }

// SayBuild records that worker (of environment env) runs a build of this
// stored format, version version, and drops the records of workers the
// registry of the live no longer holds (Alive drops those silent for an
// hour). Workers say so every 30 s: doctor reads it (Builds).
func (s *Store) SayBuild(ctx context.Context, env, worker, version string) error {
	p := s.rdb.Pipeline()
	p.HSet(ctx, BuildsKey(env), worker, strconv.Itoa(StoredFormat)+" "+version)
	recorded := p.HKeys(ctx, BuildsKey(env))
	registered := p.HKeys(ctx, WorkersKey(env))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("record the build of worker %s: %w", worker, err)
	}
	var gone []string
	for _, w := range recorded.Val() {
		if w != worker && !slices.Contains(registered.Val(), w) {
			gone = append(gone, w)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	return wrapf(s.rdb.HDel(ctx, BuildsKey(env), gone...).Err(), "drop the builds of workers gone")
}

// WorkerBuild is a worker alive and the build it recorded (SayBuild).
type WorkerBuild struct {
	Worker  string
	Format  int    // its stored format; -1 when it recorded none (a build before SayBuild, or one started within 30 s)
	Version string // its version (buildinfo), "" when it recorded none
}

// Builds returns the workers of environment env alive now (seen within
// CheckInWindow, in Redis's time: Alive) with the build each recorded, by
// worker id. It writes nothing.
func (s *Store) Builds(ctx context.Context, env string) ([]WorkerBuild, error) {
	p := s.rdb.Pipeline()
	nowC := p.Time(ctx)
	aliveC := p.HGetAll(ctx, WorkersKey(env))
	buildC := p.HGetAll(ctx, BuildsKey(env))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read the workers alive and their builds: %w", err)
	}
	now := nowC.Val().UnixMilli()
	var out []WorkerBuild
	for w, v := range aliveC.Val() {
		var first, seen int64
		if _, err := fmt.Sscanf(v, "%d %d", &first, &seen); err != nil || now-seen > CheckInWindow.Milliseconds() || seen > now {
			continue
		}
		b := WorkerBuild{Worker: w, Format: -1}
		if f, version, ok := strings.Cut(buildC.Val()[w], " "); ok {
			b.Format, b.Version = atoi(f), version
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b WorkerBuild) int { return strings.Compare(a.Worker, b.Worker) })
	return out, nil
}

// OtherBuilds returns, of workers ws of environment env, those that
// recorded a stored format other than f (SayBuild), with their builds: a
// worker never checks in for a campaign of another format than its own,
// so the chunks of a campaign of format f that wait for them (Awaited)
// wait until they stop. Nil when none did, or the builds are unreadable
// (what it serves, a status or a worker's log line, is still worth
// giving).
func (s *Store) OtherBuilds(ctx context.Context, env string, ws []string, f int) []WorkerBuild {
	all, err := s.Builds(ctx, env)
	if err != nil {
		return nil
	}
	var out []WorkerBuild
	for _, b := range all {
		if b.Format >= 0 && b.Format != f && slices.Contains(ws, b.Worker) {
			out = append(out, b)
		}
	}
	return out
}

// SayOtherBuilds words workers ws, awaited by a campaign of stored format
// f and of another format themselves (OtherBuilds): their builds, that
// they never check that campaign in, and what to do; "" when ws is empty.
// Status (statusview) and a worker's log line that it waits say it so.
func SayOtherBuilds(ws []WorkerBuild, f int) string {
	if len(ws) == 0 {
		return ""
	}
	var each []string
	for _, w := range ws {
		each = append(each, fmt.Sprintf("%s (version %s) has stored format %d", w.Worker, w.Version, w.Format))
	}
	return fmt.Sprintf("%s, not this campaign's %s, and never checks a campaign of another format: stop the workers of another build until this campaign is done (run workers of one build per environment)",
		strings.Join(each, ", "), FormatName(f))
}
