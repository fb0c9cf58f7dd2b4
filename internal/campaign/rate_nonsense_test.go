package campaign

import (
	"strings"
	"testing"
)

// TestRateThatMeansNothingIsRefused: "0/s" (which used to mean unlimited,
// silently) and a period under a second ("1/1ns") are refused at the rate
// key's line, saying what to write.
func TestRateThatMeansNothingIsRefused(t *testing.T) {
	t.Parallel()
	base := "name: c\nenvironment: staging\ntemplate: welcome\nrecipients: r.csv\nfrom: a@altea.example\n"
	for rate, want := range map[string]string{
		"0/s":     `c.yaml:6: rate: "0/s" sends nothing: write a rate above 0, e.g. 20/s, or unlimited for no limit`,
		"0/10m":   `c.yaml:6: rate: "0/10m" sends nothing`,
		"1/1ns":   `c.yaml:6: rate: "1/1ns": the period 1ns is under a second: write the rate per second, 1000000000/s`,
		"5/500ms": `c.yaml:6: rate: "5/500ms": the period 500ms is under a second: write the rate per second, 10/s`,
		"2/300ms": `c.yaml:6: rate: "2/300ms": the period 300ms is under a second: write the rate per second, e.g. 20/s`,
	} {
		_, err := Parse([]byte(base+"rate: "+rate+"\n"), "c.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("rate: %s: got %v, want %q", rate, err, want)
		}
	}
	for _, rate := range []string{"0", "unlimited", "1/3s", "20/s"} {
		if _, err := Parse([]byte(base+"rate: "+rate+"\n"), "c.yaml"); err != nil {
			t.Errorf("rate: %s: %v", rate, err)
		}
	}
}
