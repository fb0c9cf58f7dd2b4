package worker

import (
	"context"

	"github.com/tidings-mail/tidings/internal/store"
)

// countingDoubted is what the dispatch loop logs when it cannot count the
// recipients a cancel recorded in doubt.
const countingDoubted = "count the recipients a cancel recorded in doubt"

// countDoubted counts in tidings_messages_total{outcome="in-doubt"} the
// recipients a cancel recorded in doubt (they were being sent) of the
// campaigns of this worker's environment, once their claimer is no longer
// alive to record the real outcome (store.CountDoubted: each is counted
// once, by one worker). No claim finds them again in a cancelled
// campaign, and a claimer that died never learnt their outcome, so no
// other worker counts them; without this a dashboard showed none in
// doubt while `report` listed them. A claimer alive records them itself
// (sent, failed, cancelled: what it counts) and they are not counted here.
// The dispatch loop runs it at each reconciling pass.
func (w *Worker) countDoubted(ctx context.Context) {
	cs, err := w.st.Doubted(ctx)
	if !w.outage.note(ctx, countingDoubted, err) || len(cs) == 0 {
		return
	}
	var alive []string
	for _, c := range cs {
		// Only the campaigns of this worker's environment, whose claimers
		// say they are alive in its registry (a worker of no environment
		// takes only those of none).
		p, err := w.st.Probe(ctx, c)
		if err == nil && p.State == "" {
			// Gone from Redis (unlinked, evicted): forgotten once nothing
			// of it is left to count; an error is tried again next pass.
			_ = w.st.ForgetDoubted(ctx, c)
			continue
		}
		if err != nil || p.Env != w.cfg.Env || !w.ours(p) {
			continue // unreadable now, or another environment's
		}
		if alive == nil {
			if _, alive, err = w.st.Alive(ctx, w.cfg.Env, w.cfg.WorkerID, checkInWindow); err != nil {
				w.outage.note(ctx, countingDoubted, err)
				return
			}
			alive = append(alive, w.cfg.WorkerID) // not nil any more: listed once a pass
		}
		byLang, err := w.st.CountDoubted(ctx, c, alive)
		for lang, n := range byLang {
			w.m.messages.WithLabelValues(c, lang, store.OutcomeInDoubt).Add(float64(n))
		}
		if err != nil {
			w.outage.note(ctx, countingDoubted, err)
		}
	}
}
