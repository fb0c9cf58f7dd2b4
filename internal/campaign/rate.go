package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a global sending rate: Count messages per Per. The zero Rate is
// unlimited. In a campaign file and in the definition's JSON it is written
// as its String ("20/s").
type Rate struct {
	Count int
	Per   time.Duration
}

// Limit returns the count and period; count 0 means unlimited.
func (r Rate) Limit() (count int, per time.Duration) { return r.Count, r.Per }

// Unlimited reports whether the rate sets no limit.
func (r Rate) Unlimited() bool { return r.Count <= 0 || r.Per <= 0 }

// PerSecond returns the rate in messages per second, 0 when unlimited.
func (r Rate) PerSecond() float64 {
	if r.Unlimited() {
		return 0
	}
	return float64(r.Count) / r.Per.Seconds()
}

// String returns the rate as written in a campaign file: "20/s", "600/m",
// "1000/h", "5/10s" or "unlimited".
func (r Rate) String() string {
	if r.Unlimited() {
		return "unlimited"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Count)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.Count)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Count)
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Per)
}

// MarshalText returns the rate's String.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a rate with ParseRate.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseRate parses "20/s", "600/m", "1000/h", "5/10s" (any Go duration of
// a second or more after the slash; also sec, second, min, minute, hour),
// and "0", "unlimited" or "" for no limit. A rate of 0 messages per period
// ("0/s") sends nothing and a period under a second ("1/1ns") is no rate a
// relay keeps: both are errors that say what to write.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "0", "unlimited":
		return Rate{}, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q has no period: write the rate as N/s, N/m or N/h, e.g. 20/s, or unlimited", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 0 {
		return Rate{}, fmt.Errorf("%q: %q is not a whole number of messages: write e.g. 20/s", s, n)
	}
	var per time.Duration
	switch strings.ToLower(strings.TrimSpace(unit)) {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		per, err = time.ParseDuration(strings.TrimSpace(unit))
		if err != nil || per <= 0 {
			return Rate{}, fmt.Errorf("%q: unknown period %q: use s, m, h or a duration like 10s", s, unit)
		}
	}
	switch {
	case count == 0:
		return Rate{}, fmt.Errorf("%q sends nothing: write a rate above 0, e.g. 20/s, or unlimited for no limit", s)
	case per < time.Second && time.Second%per == 0:
		return Rate{}, fmt.Errorf("%q: the period %s is under a second: write the rate per second, %d/s", s, per, int64(count)*int64(time.Second/per))
	case per < time.Second:
		return Rate{}, fmt.Errorf("%q: the period %s is under a second: write the rate per second, e.g. 20/s", s, per)
	}
	return Rate{Count: count, Per: per}, nil
}
