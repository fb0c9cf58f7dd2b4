package worker

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// outageLog logs the worker's loops finding Redis unreachable: the first
// failure of an outage at WARN, its repeats at DEBUG, and its end at INFO
// with how long it lasted and how many failures it held back, so that a
// Redis away for a minute is two lines of the log, not hundreds. Errors
// Redis answered with (a replica, out of memory, ...) are not an outage
// and are logged as they come.
type outageLog struct {
	log   *slog.Logger
	mu    sync.Mutex
	since time.Time // zero while Redis answers
	held  int
}

// unreachable reports whether err says that Redis could not be reached.
func unreachable(err error) bool {
	return errors.As(err, new(*net.OpError)) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// warn logs msg at WARN, or at DEBUG when err is a repeat of an outage
// already logged.
func (o *outageLog) warn(msg string, err error, args ...any) {
	args = append(args, "err", err)
	if !unreachable(err) {
		o.log.Warn(msg, args...)
		return
	}
	o.mu.Lock()
	first := o.since.IsZero()
	if first {
		o.since = time.Now()
	} else {
		o.held++
	}
	o.mu.Unlock()
	if first {
		o.log.Warn(msg+": Redis is unreachable; until it answers, its repeats are logged at debug level", args...)
		return
	}
	o.log.Debug(msg, args...)
}

// answered notes that Redis answered; the end of an outage is logged.
func (o *outageLog) answered() {
	o.mu.Lock()
	since, held := o.since, o.held
	o.since, o.held = time.Time{}, 0
	o.mu.Unlock()
	if !since.IsZero() {
		o.log.Info("Redis answers again", "unreachable_for", time.Since(since).Round(time.Millisecond), "errors_held_back", held)
	}
}
