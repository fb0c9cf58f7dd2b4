package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// TestWorkerMetrics runs `tidings worker --metrics-addr` in-process against a
// real Redis and SMTP server, sends one clean campaign and one that bounces
// until it is paused automatically, and scrapes /metrics and /healthz.
func TestWorkerMetrics(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
		if strings.HasPrefix(rcpt, "bounce") {
			return smtpcapture.Reject(550, "5.1.1 no such user")
		}
		return nil
	}})
	env := merge(renv, smtpEnv(smtp))

	stop, stderr := startWorker(t, env, "--metrics-addr", "127.0.0.1:0", "--concurrency", "2")
	addrRE := regexp.MustCompile(`"serving metrics" addr=(\S+)`)
	var addr string
	wait.For(t, 20*time.Second, "the worker to serve metrics", func() bool {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	}, stderr.String)
	if code, body := httpGet(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}

	clean := writeCampaign(t, campaignFile{name: "metrics-ok", rows: []string{
		"ada@example.org,Ada,en,1", "juerg@example.org,Jürg,de-CH,3", "taro@example.org,山田,ja,2",
	}})
	if r := cli(t, env, "send", clean, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	var bounceRows []string
	for _, n := range []string{"1", "2", "3", "4", "5", "6", "7", "8"} {
		bounceRows = append(bounceRows, "bounce"+n+"@example.org,B,en,1")
	}
	bounce := writeCampaign(t, campaignFile{name: "metrics-bounce", rows: bounceRows,
		extra: "auto_pause:\n  error_rate: 0.5\n  window: 4\n  min_attempts: 2\nretry:\n  max_attempts: 1\n"})
	if r := cli(t, env, "send", bounce, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}

	diag := func() string {
		return "--- worker log:\n" + stderr.String() +
			"\n--- status metrics-ok:\n" + cli(t, env, "status", "metrics-ok", "--env", "staging").stdout +
			"\n--- status metrics-bounce:\n" + cli(t, env, "status", "metrics-bounce", "--env", "staging").stdout
	}
	wait.For(t, 30*time.Second, "3 messages captured", func() bool { return smtp.Count() >= 3 }, diag)
	wait.For(t, 30*time.Second, "the bouncing campaign to pause itself", func() bool {
		r := cli(t, env, "status", "metrics-bounce", "--env", "staging", "--json")
		var st struct{ State string }
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && st.State == "paused"
	}, diag)
	// The worker counts a message after Redis records it, and an automatic
	// pause after Redis answers the step that made it: a message captured,
	// or the campaign read as paused, is not yet counted. So wait for
	// every count these events make, then read the rest of the same scrape.
	counted := []string{
		`tidings_messages_total{campaign="metrics-ok",environment="staging",lang="en",outcome="sent"} 1`,
		`tidings_messages_total{campaign="metrics-ok",environment="staging",lang="de",outcome="sent"} 1`,
		`tidings_messages_total{campaign="metrics-ok",environment="staging",lang="ja",outcome="sent"} 1`,
		`tidings_messages_total{campaign="metrics-bounce",environment="staging",lang="en",outcome="`,
		`tidings_auto_pauses_total{campaign="metrics-bounce",environment="staging"} 1`,
	}
	var body string
	wait.For(t, 30*time.Second, "the clean campaign's messages and the automatic pause to be counted", func() bool {
		_, body = httpGet(t, "http://"+addr+"/metrics")
		for _, want := range counted {
			if !strings.Contains(body, want) {
				return false
			}
		}
		return true
	}, func() string { return "--- /metrics:\n" + grepLines(body, "tidings_") })
	for _, want := range []string{
		`tidings_send_duration_seconds_bucket{environment="staging",le=`,
		`tidings_send_duration_seconds_count{environment="staging"} `,
		`tidings_rate_limit_wait_seconds_total{environment="staging"} `,
		`tidings_queue_tasks{environment="staging",queue=`,
		`tidings_worker_up{environment="staging"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// One Prometheus scraping the workers of staging and production tells
	// their series apart: every sample names the environment, the Go
	// runtime's and the process's (go_, process_) as well as tidings_.
	for _, p := range []string{"tidings_", "go_", "process_"} {
		n := 0
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, p) {
				n++
				if !strings.Contains(l, `environment="staging"`) {
					t.Errorf("/metrics: %s has no environment=\"staging\"", l)
				}
			}
		}
		if n == 0 {
			t.Errorf("/metrics has no %s sample", p)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(body, "tidings_"))
	}
	if code := stop(); code != 0 {
		t.Errorf("worker exited with %d after cancel\n%s", code, stderr.String())
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
