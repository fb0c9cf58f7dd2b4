package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// errNoAnswer ends a read of a page (gallery, recipients) that Redis left
// without an answer for redisWait.
var errNoAnswer = fmt.Errorf("Redis did not answer for %s", redisWait)

// answeredKey carries, in a bounded read's context, the function that
// says Redis answered (see boundRedis).
type answeredKey struct{}

// boundRedis bounds the reads of one request by Redis' silence, not by
// their length: ctx ends once Redis has not answered for redisWait, and
// every answer (answered(ctx), called by the loops that read recipient
// after recipient) starts that wait afresh, so that a long list of
// recipients is read whole while a Redis that stalls is said to within
// seconds. stop releases it.
func boundRedis(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(redisWait, func() { cancel(errNoAnswer) })
	ctx = context.WithValue(ctx, answeredKey{}, func() { t.Reset(redisWait) })
	return ctx, func() { t.Stop(); cancel(context.Canceled) }
}

// answered says, in a context of boundRedis, that Redis answered; in any
// other context it does nothing.
func answered(ctx context.Context) {
	if f, ok := ctx.Value(answeredKey{}).(func()); ok {
		f()
	}
}

// bounded serves h with its reads bounded by boundRedis.
func bounded(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, stop := boundRedis(r.Context())
		defer stop()
		h(w, r.WithContext(ctx))
	}
}

// readError answers a page (gallery, recipients) whose read of Redis
// failed: when Redis could not be read, a page (503) that says so and
// reloads itself once Redis answers (data-reload, console.js), as the
// live pages fill in by themselves; any other error as storeError does.
func (s *Server) readError(w http.ResponseWriter, r *http.Request, err error) {
	err = silence(r.Context(), err)
	msg, unread := s.liveProblem(r.PathValue("campaign"), err)
	if !unread || wantsJSON(r) {
		s.storeError(w, r, err)
		return
	}
	s.log.Error("console: store", "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	s.render(w, r, "retrying", map[string]any{"Title": "Cannot read Redis", "Message": msg})
}

// silence is err of a read in ctx (a context of boundRedis), saying that
// Redis did not answer when that is why the read ended.
func silence(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errNoAnswer) {
		return fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	return err
}
