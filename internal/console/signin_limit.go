package console

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// SignInLimit bounds the sign-in attempts that fail, so that nobody can
// guess tokens quickly and on-call hears that someone tries: each client
// address (an IPv6 address by its /64) may fail PerAddress times in a
// Window, and all addresses together Overall times; a good sign-in does
// not count. Beyond, sign-in answers 429 with Retry-After until enough of
// the window has passed (one attempt more every Window/PerAddress).
type SignInLimit struct {
	PerAddress int           // default 10
	Overall    int           // default 100
	Window     time.Duration // default 1 minute
}

// warnEvery is how often refused sign-ins are logged (their count).
const warnEvery = time.Minute

// signInLimit keeps the buckets of SignInLimit and counts its refusals.
type signInLimit struct {
	cfg     SignInLimit
	log     *slog.Logger
	overall *rate.Limiter

	mu    sync.Mutex
	addrs map[string]*rate.Limiter // by client address; a full bucket may be dropped
	// refusals not logged yet: how many, by which limit, from how many
	// addresses, since when; warned is when the last WARN was logged and
	// flush the timer of the next one.
	refused, refusedOverall int
	from                    map[string]bool
	since, warned           time.Time
	flush                   *time.Timer
}

func newSignInLimit(cfg SignInLimit, log *slog.Logger) *signInLimit {
	if cfg.PerAddress < 1 {
		cfg.PerAddress = 10
	}
	if cfg.Overall < 1 {
		cfg.Overall = 100
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	return &signInLimit{cfg: cfg, log: log, addrs: map[string]*rate.Limiter{}, from: map[string]bool{},
		overall: rate.NewLimiter(perWindow(cfg.Overall, cfg.Window), cfg.Overall)}
}

func perWindow(n int, window time.Duration) rate.Limit {
	return rate.Limit(float64(n) / window.Seconds())
}

// clientKey is the address a client is limited by: its IP address, an
// IPv6 one by its /64 (one host may hold all of it).
func clientKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// take counts one attempt of remote at now. When a limit refuses it, it
// returns how long to wait and whether the overall limit refused it
// (nothing is counted then). Otherwise give returns the attempt (a good
// sign-in), and keep counts it (a failed one).
func (l *signInLimit) take(remote string, now time.Time) (give func(), wait time.Duration, overall bool) {
	key := clientKey(remote)
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrs[key]
	if a == nil {
		if len(l.addrs) >= 4096 {
			l.prune(now)
		}
		a = rate.NewLimiter(perWindow(l.cfg.PerAddress, l.cfg.Window), l.cfg.PerAddress)
		l.addrs[key] = a
	}
	ra := a.ReserveN(now, 1)
	if d := ra.DelayFrom(now); d > 0 {
		ra.CancelAt(now)
		return nil, d, false
	}
	rg := l.overall.ReserveN(now, 1)
	if d := rg.DelayFrom(now); d > 0 {
		rg.CancelAt(now)
		ra.CancelAt(now)
		return nil, d, true
	}
	return func() { ra.CancelAt(now); rg.CancelAt(now) }, 0, false
}

// prune drops the buckets that are full again: they say nothing a new
// one would not. Those left each hold an attempt the overall limit let
// through within a window, so they are few.
func (l *signInLimit) prune(now time.Time) {
	for k, a := range l.addrs {
		if a.TokensAt(now) >= float64(l.cfg.PerAddress) {
			delete(l.addrs, k)
		}
	}
}

// refusedOne counts a refusal of remote and logs a WARN with the count:
// at once when none was logged for warnEvery, else when warnEvery has
// passed since the last one, so that on-call hears of a guesser once a
// minute, however fast it tries.
func (l *signInLimit) refusedOne(remote string, overall bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.refused == 0 {
		l.since = now
	}
	l.refused++
	if overall {
		l.refusedOverall++
	}
	if len(l.from) < 1000 {
		l.from[clientKey(remote)] = true
	}
	if wait := warnEvery - now.Sub(l.warned); wait > 0 {
		if l.flush == nil {
			l.flush = time.AfterFunc(wait, func() {
				l.mu.Lock()
				defer l.mu.Unlock()
				l.flush = nil
				l.warn(time.Now())
			})
		}
		return
	}
	l.warn(now)
}

// warn logs the refusals not logged yet (l.mu held).
func (l *signInLimit) warn(now time.Time) {
	if l.refused == 0 {
		return
	}
	l.log.Warn("console: sign-in attempts refused: too many failed; someone may be guessing tokens",
		"refused", l.refused, "refused_overall", l.refusedOverall, "addresses", len(l.from),
		"since", l.since.UTC().Format(time.RFC3339), "per_address", l.cfg.PerAddress, "overall", l.cfg.Overall, "window", l.cfg.Window)
	l.refused, l.refusedOverall, l.from, l.warned = 0, 0, map[string]bool{}, now
}

// refuseSignIn answers a sign-in attempt a limit refused: 429, Retry-After
// and the sign-in page saying how long to wait.
func (s *Server) refuseSignIn(w http.ResponseWriter, r *http.Request, wait time.Duration, overall bool) {
	s.signIns.refusedOne(r.RemoteAddr, overall)
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	lim := s.signIns.cfg
	window := lim.Window.String()
	if lim.Window == time.Minute {
		window = "a minute"
	}
	problem := fmt.Sprintf("Too many failed sign-ins from your address (at most %d in %s): wait %s, then try again.",
		lim.PerAddress, window, seconds(secs))
	if overall {
		problem = fmt.Sprintf("Too many failed sign-ins to this console from anywhere (at most %d in %s; someone may be guessing tokens, "+
			"and the console's log says so): wait %s, then try again.", lim.Overall, window, seconds(secs))
	}
	s.renderLogin(w, r, http.StatusTooManyRequests, problem)
}

// seconds words n seconds.
func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}
