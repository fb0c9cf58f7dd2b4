package nextstep

import (
	"cmp"
	"fmt"
	"os"
	"strings"

	"github.com/tidings-mail/tidings/internal/launch"
)

// Files says how campaign c of environment env was staged, as this host
// knows it (FilesIn): the start record of its last send here, whose
// campaign file and flags the sends the hints advise name then, ready to
// paste, instead of CAMPAIGN-FILE; nil when it does not know. A nil
// Files knows none.
type Files func(c, env string) *launch.Record

// FilesIn is Files of the start records stateDir keeps (launch.Record's
// CampaignFile, absolute, and Send): of the last send of c on this host,
// when its record is of env (or env is not known) and names a campaign
// file that is still there; none when stateDir is "", there is no such
// record (a host that did not send it), or it is of an older version.
func FilesIn(stateDir string) Files {
	return func(c, env string) *launch.Record {
		rec, err := launch.ReadRecord(stateDir, c)
		if err != nil || rec == nil || rec.CampaignFile == "" || env != "" && rec.Env != env {
			return nil
		}
		if _, err := os.Stat(rec.CampaignFile); err != nil {
			return nil // moved or removed since: the operator knows where it is now
		}
		return rec
	}
}

// unknownFile follows, where a hint introduces its send, the words that
// say which file CAMPAIGN-FILE stands for when Files does not know it.
const unknownFile = " (CAMPAIGN-FILE: the campaign file you staged it from)"

// unrecorded is {had} when the start record keeps the send's flags: it
// does not keep these, which a recovery's send has (and the record is
// written when a staging ends, so it is of the send before an
// interrupted one): without them, a recovery's send run again is refused
// (Redis has no trace of a campaign this host started).
const unrecorded = " (with any --resume-existing, --exclude-delivered or --none-delivered it had: a recovery's flags, which the start record does not keep)"

// fill is hint h of campaign c of environment env with {c}, {env} (ENV
// when not known), {send} (tidings send and the campaign file, quoted for
// a POSIX shell; CAMPAIGN-FILE when f does not know it), {from} (what
// CAMPAIGN-FILE stands for; "" when the file is known), {flags} (the
// flags its send had, " --skip-refused ..."; "" when none or not known)
// and {had} (" (with the flags it had)" when they are not known, else
// unrecorded) replaced.
func (f Files) fill(h, c, env string) string { return f.fillBy(h, c, env, "") }

// fillBy is fill for a campaign whose staging Redis holds was begun by by
// ("who@host", as the control's staging_by says it; "" when not known):
// this host's start record is of another send when by is not of its host,
// and its file and flags would stage something else (an older campaign
// file, the flags of another run). CAMPAIGN-FILE then, and {from} names
// who began the staging, on which host.
func (f Files) fillBy(h, c, env, by string) string {
	var rec *launch.Record
	if f != nil {
		rec = f(c, env)
	}
	send, from, flags, had := "tidings send CAMPAIGN-FILE", unknownFile, "", " (with the flags it had)"
	if rec != nil && by != "" && rec.Host != "" && !strings.HasSuffix(by, "@"+rec.Host) {
		rec, from = nil, fmt.Sprintf(" (CAMPAIGN-FILE: the campaign file its staging was begun from, by %s: another host; this host's start record is of another send)", by)
	}
	if rec != nil {
		send, from = "tidings send "+shellQuote(rec.CampaignFile), ""
		if rec.Send != nil {
			flags, had = strings.Join(append([]string{""}, optionArgs(rec.Send)...), " "), unrecorded
		}
	}
	return strings.NewReplacer("{c}", c, "{env}", cmp.Or(env, "ENV"), "{send}", send, "{from}", from, "{flags}", flags, "{had}", had).Replace(h)
}

// LostChunks says, after err (a store.LostChunksError of campaign c of
// environment env), what Redis lost and what to run: check Redis, list
// who was sent from the journals, and stage it again without them.
// The controls say it.
func (f Files) LostChunks(err error, c, env string) error {
	return f.lostChunks(err, c, env, "to mail the others and nobody twice, cancel it and stage it again")
}

// LostChunksCancelled is LostChunks after a cancel that took (err: the
// chunks it could not sweep): the campaign is cancelled, so what is left
// to run is the staging again, not another cancel.
func (f Files) LostChunksCancelled(err error, c, env string) error {
	return f.lostChunks(err, c, env, "it is cancelled now; to mail the others and nobody twice, stage it again")
}

func (f Files) lostChunks(err error, c, env, todo string) error {
	return fmt.Errorf("%w: %s", err, f.fill("Redis lost part of this campaign's state; check its persistence and memory ('tidings doctor --env {env}'); who was sent is in the workers' delivery journals ('tidings report {c} --journal JOURNAL_DIR'); "+todo+" excluding those deliveries{from}: {send} --env {env} --resume-existing --exclude-delivered JOURNAL_DIR{flags} (the journals: a report written now lacks the lost rows)", c, env))
}

// Cancelled follows the refusal to resume or retry cancelled campaign c
// of environment env: that it does not run again, and the send that
// stages it again for the recipients not yet sent.
func (f Files) Cancelled(c, env string) string {
	return f.fill("; a cancelled campaign does not run again; to send to the recipients not yet sent, stage it again{from}: {send} --env {env} --resume-existing{flags} (nobody already sent is sent again)", c, env)
}
