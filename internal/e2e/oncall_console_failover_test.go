package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// consoleSession signs in to the console at base with an operator token,
// as the login form does, and returns a client holding the session.
func consoleSession(t *testing.T, base string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	page := get(t, c, base+"/login")
	m := regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no nonce on the login page:\n%s", page)
	}
	resp, err := c.PostForm(base+"/login", url.Values{"nonce": {m[1]}, "token": {strings.Fields(operatorToken)[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c
}

// get returns the body of a GET of u, failing the test unless it is 200.
func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}

// consolePause presses Pause on campaign's page, as the page's script
// does (the form's fields, Accept: application/json), and returns the
// answer's status and message.
func consolePause(t *testing.T, c *http.Client, base, campaign, reason string) (int, string) {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, c, base+"/c/"+campaign))
	if m == nil {
		t.Fatalf("no CSRF token on the page of %s", campaign)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/c/"+campaign+"/pause", strings.NewReader(url.Values{"csrf": {m[1]}, "reason": {reason}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsolePauseAfterSentinelMasterKilled: the console runs through a
// failover in which the master is killed for good (Sentinel, two
// replicas, min_replica_acks auto). The new master keeps one replica,
// which every worker and every command waits for from then on; the
// console, started before with two, must not wait for two for ever: on-call
// presses Pause after the failover and the campaign pauses (a press that
// comes short may say so, as the CLI does, and pressing again then pauses),
// and nothing more is sent once the claims held at the pause end.
func TestConsolePauseAfterSentinelMasterKilled(t *testing.T) {
	t.Parallel()
	sen := redistest.StartSentinel(t, redistest.SentinelOptions{
		Replicas:     2,
		ServerConfig: []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"},
	})
	o := startOncall(t, fmt.Sprintf("sentinel: { master: %s, addrs: [%s] }", sen.MasterName(), strings.Join(sen.SentinelAddrs(), ", ")), "e2e-console-failover")
	e, srv, name := o.e, o.srv, o.name

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, _, err := sen.KillMaster(ctx); err != nil {
		t.Fatal(err)
	}
	// The workers go on with the new master's one replica.
	at := srv.Count()
	wait.For(t, time.Minute, "sending to go on after the failover", func() bool { return srv.Count() >= at+50 })

	// A press may come short while the Sentinels still list the killed
	// master (down-after-milliseconds); pressing again must then pause.
	var answers []string
	wait.For(t, time.Minute, "the console's Pause to pause the campaign", func() bool {
		code, msg := consolePause(t, o.c, o.base, name, "e2e: errors climbing after a failover")
		answers = append(answers[max(len(answers)-4, 0):], fmt.Sprintf("%d %s", code, msg))
		switch code {
		case http.StatusOK:
			return true
		case http.StatusServiceUnavailable:
			return false
		}
		t.Fatalf("Pause answered %d: %s", code, msg)
		return false
	}, func() string { return strings.Join(answers, "\n") })
	if st := e.status(name); st.State != "paused" {
		t.Fatalf("the console said %q, but the campaign is %s", answers[len(answers)-1], st.State)
	}
	held := o.pausedThenDone(t, sen.FailoverClient())
	t.Logf("the last presses until paused: %q; %d received when paused", answers, held)
}

// oncallRun is a campaign of oncallRecipients at 100/s, one worker, and
// the console started before anything fails, signed in as an operator.
type oncallRun struct {
	e    *env
	srv  *smtpSink
	name string
	rows []row
	base string
	c    *http.Client
	w    *process
}

const oncallRecipients = 2000

// startOncall starts o on the Redis redisYAML configures, and returns once
// 100 messages are received.
func startOncall(t *testing.T, redisYAML, name string) *oncallRun {
	t.Helper()
	o := &oncallRun{srv: startSMTPSink(t), name: name, rows: simpleRows(oncallRecipients, acceptedLocales)}
	o.e = newEnvWith(t, redisYAML, o.srv.Port(), 4)
	addConsole(t, o.e, "")
	o.e.extra = []string{"TIDINGS_REDIS_REPLICA_ACK_TIMEOUT=5s"} // send's start, on a loaded machine (failoverCampaign)
	o.e.stageSimple(campaignSpec{name: name, size: 1000, rate: "100/s"}, o.rows)
	o.e.extra = nil
	o.base = o.e.startConsole(t)
	o.c = consoleSession(t, o.base)
	o.w = o.e.startWorker("worker-1", 4)
	wait.For(t, 2*time.Minute, "100 messages", func() bool { return o.srv.Count() >= 100 })
	return o
}

// pausedThenDone checks that o's campaign, paused, stays so and receives
// nothing more once the claims held at the pause end (read with rdb), and
// that resume then finishes it with nobody mailed twice and every
// recipient sent or in doubt. It returns the messages received when
// paused.
func (o *oncallRun) pausedThenDone(t *testing.T, rdb redis.UniversalClient) int {
	t.Helper()
	waitClaimsEnded(t, rdb, o.name, o.rows)
	held := o.srv.Count()
	if st := o.e.status(o.name); st.State != "paused" || o.srv.Count() != held {
		t.Fatalf("after the claims held at the pause ended: %s, %d received, then %d", st.State, held, o.srv.Count())
	}
	o.e.mustRun("resume", o.name, "--env", envName)
	st := o.e.waitState(o.name, "done", 3*time.Minute, o.w)
	per := checkOnce(t, o.srv, o.rows, false)
	checkOutcomes(t, o.e.report(o.name), per, false)
	if got := st.Counts["sent"] + st.Counts["in-doubt"]; got != oncallRecipients {
		t.Errorf("sent %d + in doubt %d = %d, want %d; counts %v", st.Counts["sent"], st.Counts["in-doubt"], got, oncallRecipients, st.Counts)
	}
	return held
}
