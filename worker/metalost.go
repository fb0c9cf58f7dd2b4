package worker

import (
	"context"
	"errors"

	"github.com/tidings-mail/tidings/internal/store"
)

// metaLostReason is the pause's reason for a campaign whose meta Redis
// lost.
const metaLostReason = "state loss: Redis lost this campaign's meta (part of its state: an eviction, a DEL; its ledger may have lost deliveries too): nothing more is sent; cancel it and stage it again excluding the deliveries recorded in the workers' journals"

// metaLostPause is the outage log's site of metaLost's pause.
const metaLostPause = "pause a campaign whose meta Redis lost"

// metaLost pauses running campaign c as state loss when Redis still has
// its control (probe p) but no longer its meta (p.Env and p.Format, read
// from the meta, are empty, and Meta finds none), and reports whether it
// did or tried to. Before, such a campaign stayed running for ever without
// a word: no worker could load it (its ticks and chunks were passed over
// as a campaign Redis no longer has, and Probe's empty environment is no
// worker's), and status failed to read it. The probe says enough for
// every campaign whose meta it read: Meta is read only for one whose
// probe found no meta (every meta of a build of stored formats has one),
// not each pass for every campaign. A pause that fails (Redis refusing
// writes, unreachable) is said through the outage log, once per outage,
// not at each pass (50 ms to a second apart).
func (w *Worker) metaLost(ctx context.Context, c string, p store.Probe) bool {
	if p.State != store.StateRunning || p.Env != "" || p.Format != store.FormatNone {
		return false
	}
	// A *NotFoundError only: not a staging under way, nor one that died
	// (BeingStagedError, UnfinishedStagingError), whose meta is not
	// written yet.
	if _, err := w.st.Meta(ctx, c, false); !errors.As(err, new(*store.NotFoundError)) {
		return false
	}
	// WhileStaging: without its meta, the control's staging is no meta's,
	// which the transition takes for a staging under way.
	_, moved, err := w.st.Transition(ctx, c, store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
		Actor: w.actor(), Action: "state-loss", Reason: metaLostReason, IfAt: p.At, Stage: p.Stage, WhileStaging: true})
	if err != nil {
		if ctx.Err() == nil {
			w.outage.warn(metaLostPause, err, "campaign", c)
		}
		return true
	}
	w.outage.answered(metaLostPause)
	if moved {
		w.m.autoPauses.WithLabelValues(c).Inc()
		w.log.Error("campaign paused by this worker: Redis lost its meta (part of its state)", "campaign", c, "reason", metaLostReason)
	}
	return true
}
