package send

import (
	"strings"
	"testing"
	"time"
)

// TestIsClean checks clean's shortcut on names and subjects in the bench's
// languages and on what clean must change.
func TestIsClean(t *testing.T) {
	cases := []struct {
		s     string
		clean bool
	}{
		{"", true},
		{"Zoe Smith", true},
		{"Jürgen Groß", true},
		{"Action requise : réinscrivez-vous", true},
		{"Требуется действие: зарегистрируйтесь", true},
		{"対応のお願い：新しいAlteaコミュニティ", true},
		{"مطلوب إجراء: أعد التسجيل", true},
		{"emoji 🙂 and \uFFFD", true},
		{" lead", false},
		{"trail ", false},
		{"two  spaces", false},
		{"tab\there", false},
		{"new\nline", false},
		{"nul\x00", false},
		{"del\x7f", false},
		{"nbsp\u00a0here", false},
		{"nel\u0085here", false},
		{"ls\u2028ps\u2029", false},
		{"ideographic\u3000space", false},
		{"em\u2003space", false},
		{"c1\u009bcontrol", false},
		{"bad \xff utf-8", false},
		{"cut \xc3", false},
		{"surrogate \xed\xa0\x80", false},
	}
	for _, c := range cases {
		if got := isClean(c.s); got != c.clean {
			t.Errorf("isClean(%q) = %v, want %v", c.s, got, c.clean)
		}
		if same := rewriteClean(c.s) == c.s; same != c.clean {
			t.Errorf("rewriteClean(%q) == s: %v, want %v", c.s, same, c.clean)
		}
	}
}

// FuzzIsClean checks that clean's shortcut keeps exactly the values
// rewriteClean would return unchanged.
func FuzzIsClean(f *testing.F) {
	for _, s := range []string{"Jürgen Groß", "a  b", " x", "\u00a0", "\xff", "日本 語", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isClean(s), rewriteClean(s) == s; got != want {
			t.Fatalf("isClean(%q) = %v, rewriteClean returns it unchanged: %v", s, got, want)
		}
	})
}

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
