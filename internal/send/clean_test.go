package send

import (
	"strings"
	"testing"
	"time"
)

// TestIsReserved checks the reserved lookup against strings.ToLower's, for
// every reserved name in three cases and for others, long ones included.
func TestIsReserved(t *testing.T) {
	names := []string{"X-Tidings-Campaign", "Content-Language", "List-Unsubscribe", "list-unsubscribe-post",
		"X-" + strings.Repeat("Long-Header-", 6), strings.ToUpper("content-transfer-encoding") + "X", "FROM:"}
	for n := range reserved {
		names = append(names, n, strings.ToUpper(n), strings.ToUpper(n[:1])+n[1:])
	}
	for _, n := range names {
		if got, want := isReserved(n), reserved[strings.ToLower(n)]; got != want {
			t.Errorf("isReserved(%q) = %v, want %v", n, got, want)
		}
	}
}

// TestFormatDate checks the Date cache against time.Format: the same
// second in other locations, the next second, fractions, other years.
func TestFormatDate(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var times []time.Time
	for _, d := range []time.Duration{0, 0, time.Millisecond, 999 * time.Millisecond, time.Second, -time.Nanosecond, 90 * 24 * time.Hour, 180 * 24 * time.Hour} {
		tt := base.Add(d)
		times = append(times, tt, tt.In(berlin), tt.In(time.FixedZone("X", -5*3600-30*60)), tt.Local(), tt.In(berlin), tt)
	}
	times = append(times, time.Now(), time.Now(), time.Date(1969, 12, 31, 23, 59, 59, 500, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Time{})
	for _, tt := range times {
		if got, want := formatDate(tt), tt.Format(time.RFC1123Z); got != want {
			t.Errorf("formatDate(%v) = %q, want %q", tt, got, want)
		}
	}
}
