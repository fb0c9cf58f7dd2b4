package console

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// LiveLimit caps the live pages' streams (server-sent events) open at
// once: each holds a goroutine and reads Redis every LiveInterval, so one
// signed-in browser opening thousands would load the console and Redis.
// A stream beyond PerSession of one sign-in is refused with 429, beyond
// Overall with 503; a slot is free again as soon as its client goes.
type LiveLimit struct {
	PerSession int // default 16
	Overall    int // default 256
}

// liveRetry is the Retry-After of a refused stream, in seconds.
const liveRetry = 5

// liveStreams counts the open streams, by session and in all.
type liveStreams struct {
	cfg LiveLimit

	mu        sync.Mutex
	bySession map[string]int
	open      int
	// refusals by the overall cap not logged yet, and when the last were
	refused int
	warned  time.Time
}

func newLiveStreams(cfg LiveLimit) *liveStreams {
	if cfg.PerSession < 1 {
		cfg.PerSession = 16
	}
	if cfg.Overall < 1 {
		cfg.Overall = 256
	}
	return &liveStreams{cfg: cfg, bySession: map[string]int{}}
}

// take takes a slot for a stream of session key; ok false when a cap
// refuses it (overall tells which). release frees the slot.
func (l *liveStreams) take(key string) (release func(), overall, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bySession[key] >= l.cfg.PerSession {
		return nil, false, false
	}
	if l.open >= l.cfg.Overall {
		l.refused++
		return nil, true, false
	}
	l.bySession[key]++
	l.open++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.open--
			if l.bySession[key]--; l.bySession[key] <= 0 {
				delete(l.bySession, key)
			}
		})
	}, false, true
}

// capped serves h, a live stream of a signed-in request (inside get), in
// a slot of s.streams, freed when h returns (the client went, or the
// session ended); it refuses the stream in words beyond the caps.
func (s *Server) capped(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := sessionOf(r)
		key := ss.user.Name + "." + strconv.FormatInt(ss.exp, 10)
		release, overall, ok := s.streams.take(key)
		if ok {
			defer release()
			h(w, r)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(liveRetry))
		lim := s.streams.cfg
		if !overall {
			http.Error(w, fmt.Sprintf("This sign-in has %d live pages open already, the most one sign-in may have: "+
				"close some of the console's tabs or windows; this page tries again by itself.", lim.PerSession), http.StatusTooManyRequests)
			return
		}
		s.streams.warn(s, r)
		http.Error(w, fmt.Sprintf("The console serves %d live pages already, the most it serves at once: "+
			"this page tries again by itself; close the console's pages you do not need.", lim.Overall), http.StatusServiceUnavailable)
	}
}

// warn logs the refusals of the overall cap, at most once a minute with
// their count, so that on-call hears of them without a line per refusal.
func (l *liveStreams) warn(s *Server, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.warned) < time.Minute {
		return
	}
	s.log.Warn("console: refused live pages: as many streams open as the console serves", "refused", l.refused,
		"overall", l.cfg.Overall, "remote", r.RemoteAddr)
	l.refused, l.warned = 0, time.Now()
}

// openStreams is how many live streams are open (tests).
func (l *liveStreams) openStreams() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}
