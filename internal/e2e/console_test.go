package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// The console tests drive the real binary's `tidings console` with a real
// Chromium (Debian's chromium, through chromedp), next to real workers and
// an SMTP server we did not write (postfix's smtp-sink).

var updateScreenshots = flag.Bool("update-screenshots", false, "write the console screenshots to docs/img/")

const (
	operatorToken = "alice e2e-operator-token-0123456789"
	viewerToken   = "quinn e2e-viewer-token-0123456789"
)

// consoleWorld is an env whose config gives the console its tokens (and,
// with webhook, a notify section).
func consoleWorld(t *testing.T, smtpPort int, webhook string) *env {
	t.Helper()
	e := newEnv(t, smtpPort, 2)
	addConsole(t, e, webhook)
	return e
}

// addConsole gives e's config the console's tokens (and, with webhook, a
// notify section).
func addConsole(t *testing.T, e *env, webhook string) {
	t.Helper()
	op, view := filepath.Join(e.dir, "operators"), filepath.Join(e.dir, "viewers")
	fixture.Write(t, op, operatorToken+"\n")
	fixture.Write(t, view, viewerToken+"\n")
	extra := fmt.Sprintf("    console:\n      url: https://console.e2e.example\n      operator_token_file: %s\n      viewer_token_file: %s\n", op, view)
	if webhook != "" {
		hook := filepath.Join(e.dir, "webhook")
		fixture.Write(t, hook, webhook)
		extra += fmt.Sprintf("    notify:\n      webhook_url_file: %s\n", hook)
	}
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(extra); err != nil {
		t.Fatal(err)
	}
}

// startConsole runs `tidings console --env e2e` on a loopback port the
// kernel picks (port 0: no other test's server can hold it) and returns the
// base URL it prints, once /healthz answers there.
func (e *env) startConsole(t *testing.T) string {
	t.Helper()
	p := e.start("console", "console", "--env", envName, "--addr", "127.0.0.1:0")
	var base string
	wait.For(t, 30*time.Second, "the console to answer", func() bool {
		if done, err := p.exited(); done {
			t.Fatalf("the console exited (%v):\n%s", err, tail(p.log, 4000))
		}
		if base == "" {
			for line := range strings.SplitSeq(tail(p.log, 8000), "\n") {
				if _, url, ok := strings.Cut(line, " on http://127.0.0.1:"); ok && strings.HasPrefix(line, "Console for ") {
					base = "http://127.0.0.1:" + strings.TrimSuffix(strings.TrimSpace(url), "/")
				}
			}
			if base == "" {
				return false
			}
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if out := tail(p.log, 2000); !strings.Contains(out, "loopback only") {
		t.Errorf("the console does not say it listens on loopback only:\n%s", out)
	}
	return base
}

// browser starts a fresh headless Chromium (its own profile) for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := "/usr/bin/chromium"
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			need(t, "chromium", "apt-get install chromium")
		}
		bin = p
	}
	actx, cancel := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel2(); cancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs browser steps, failing the test on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// eval evaluates expr in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// poll waits until expr is truthy in the page.
func poll(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("browser: waiting for %s (%s): %v", what, expr, err)
	}
}

// signIn signs in through the login form with a "NAME TOKEN" line's token.
func signIn(t *testing.T, ctx context.Context, base, line string) {
	t.Helper()
	token := strings.Fields(line)[1]
	do(t, ctx, "sign in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(`input[name=token]`),
		chromedp.SetValue(`input[name=token]`, token), chromedp.Click(`form.login button`), chromedp.WaitVisible(`.envbar .who`))
}

// screenshot saves what the viewport shows at a desktop (1280x900) and a
// phone (390x844) size: into docs/img/ with -update-screenshots, else into the test's
// directory (logged, to look at).
func screenshot(t *testing.T, ctx context.Context, name string, ready string) {
	t.Helper()
	dir := t.TempDir()
	if *updateScreenshots {
		dir = filepath.Join(repoRoot, "docs", "img")
	}
	for _, vp := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		do(t, ctx, "viewport "+vp.suffix, chromedp.EmulateViewport(vp.w, vp.h, opts...))
		if ready != "" {
			poll(t, ctx, "the page to be ready for a screenshot", ready, 20*time.Second)
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, fmt.Sprintf("console-%s-%s.png", name, vp.suffix))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	do(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 900))
}

// stateIs is the page's live state label.
func stateIs(s string) string {
	return fmt.Sprintf(`(document.getElementById('state') || {}).textContent === %q`, s)
}

// TestConsoleOnCall: an operator signs in, opens a running campaign (real
// worker, smtp-sink), pauses it from the page: the state changes on the
// page without a reload and the SMTP server's count stays flat; resumes it
// (mail flows again); cancels it after typing its name. The audit log names
// the operator; /metrics shows the paused state; a POST without the CSRF
// token is refused.
func TestConsoleOnCall(t *testing.T) {
	t.Parallel()
	const name = "e2e-console"
	srv := startSMTPSink(t)
	e := consoleWorld(t, srv.Port(), "")
	rows := simpleRows(1200, acceptedLocales)
	e.stageSimple(campaignSpec{name: name, size: 400, rate: "30/s"}, rows)
	w := e.startWorker("worker", 2)
	base := e.startConsole(t)
	wait.For(t, time.Minute, "the first 40 messages", func() bool { return srv.Count() >= 40 })

	ctx := browser(t)
	signIn(t, ctx, base, operatorToken)
	do(t, ctx, "open the campaigns page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(`a[href="/c/`+name+`"]`))
	screenshot(t, ctx, "campaigns", `document.getElementById('livestate').textContent === 'live'`)
	do(t, ctx, "open the campaign", chromedp.Navigate(base+"/c/"+name), chromedp.WaitVisible(`#state`))
	poll(t, ctx, "the live stream", `document.getElementById('livestate').textContent === 'live'`, 10*time.Second)
	screenshot(t, ctx, "campaign", `document.getElementById('livestate').textContent === 'live'`)
	eval[int](t, ctx, `window.notReloaded = 42`)

	do(t, ctx, "pause", chromedp.SetValue(`form[action$="/pause"] input[name=reason]`, "e2e: bounces climbing"),
		chromedp.Click(`form[action$="/pause"] button`))
	poll(t, ctx, "the page to show paused", stateIs("paused"), 10*time.Second)
	if eval[int](t, ctx, `window.notReloaded || 0`) != 42 {
		t.Fatal("the page was reloaded: the state must change in place")
	}
	if !eval[bool](t, ctx, `document.querySelector('form[action$="/pause"]').hidden && !document.querySelector('form[action$="/resume"]').hidden`) {
		t.Error("after pausing, Pause is still offered or Resume is not")
	}
	if msg := eval[string](t, ctx, `document.getElementById('flash').textContent`); !strings.Contains(msg, "Paused") {
		t.Errorf("flash %q, want the pause confirmed", msg)
	}
	// Messages already handed to the server may finish; once they have,
	// nothing more may arrive.
	waitClaimsEnded(t, e.redis.Client(), name, rows)
	flat := srv.Count()
	if flat >= len(rows) {
		t.Fatalf("the campaign finished before the pause (%d messages): lower the rate", flat)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if got := srv.Count(); got != flat {
			t.Fatalf("paused from the console: the SMTP server had %d messages, then %d", flat, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	st := e.status(name)
	var audit string
	for _, a := range st.Audit {
		if a.Action == "pause" {
			audit = a.Who + "|" + a.Reason
		}
	}
	if st.State != "paused" || audit != "alice (console)|e2e: bounces climbing" {
		t.Errorf("status after the console's pause: %s, audit %q; want paused by alice (console) with the reason", st.State, audit)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `tidings_campaign_state{campaign="` + name + `",environment="` + envName + `",state="paused"} 1`; !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %s", want)
	}
	// The operator's session without the CSRF token: refused.
	code := eval[int](t, ctx, `fetch('/c/`+name+`/resume', {method: 'POST', body: new URLSearchParams({reason: 'no token'})}).then(r => r.status)`)
	if code != http.StatusForbidden || e.status(name).State != "paused" {
		t.Errorf("POST without the CSRF token: %d, want 403 and still paused", code)
	}

	do(t, ctx, "resume", chromedp.Click(`form[action$="/resume"] button`))
	poll(t, ctx, "the page to show running", stateIs("running"), 10*time.Second)
	wait.For(t, 30*time.Second, "mail to flow again after resume", func() bool { return srv.Count() > flat })

	do(t, ctx, "open cancel", chromedp.Click(`details.cancel summary`),
		chromedp.SetValue(`form[action$="/cancel"] input[name=reason]`, "e2e: wrong recipients file"))
	if !eval[bool](t, ctx, `document.querySelector('form[action$="/cancel"] button').disabled`) {
		t.Error("Cancel is enabled before the campaign name is typed")
	}
	do(t, ctx, "type the name", chromedp.SendKeys(`input[name=confirm]`, name))
	if eval[bool](t, ctx, `document.querySelector('form[action$="/cancel"] button').disabled`) {
		t.Fatal("Cancel stays disabled after the campaign name was typed")
	}
	do(t, ctx, "cancel", chromedp.Click(`form[action$="/cancel"] button`))
	poll(t, ctx, "the page to show cancelled", stateIs("cancelled"), 15*time.Second)
	st = e.waitState(name, "cancelled", 10*time.Second, w)
	if st.Counts["cancelled"] == 0 || st.Counts["sent"]+st.Counts["cancelled"]+st.Counts["in-doubt"] != int64(len(rows)) {
		t.Errorf("after cancel: counts %v, want sent + cancelled (+ in-doubt) = %d", st.Counts, len(rows))
	}
	checkOnce(t, srv, rows, false)
}

// TestConsoleViewerAndGallery: a viewer sees no action and a forged POST is
// refused; the gallery shows every catalog language from the approved
// snapshot (the incomplete one flagged), Arabic right to left in subject,
// HTML and text, and no email frame narrower than its content, on a
// desktop and on a phone.
func TestConsoleViewerAndGallery(t *testing.T) {
	t.Parallel()
	const name = "e2e-gallery"
	srv := startSMTPSink(t)
	e := consoleWorld(t, srv.Port(), "")
	cdir := filepath.Join(e.dir, "campaign")
	bundledCampaignDirs(t, cdir, false)
	rows := simpleRows(60, append(append([]string(nil), acceptedLocales...), "pt-PT"))
	file := writeCampaign(t, cdir, campaignSpec{name: name, templatesDir: "templates", localesDir: "locales", size: 500}, csvOf(t, rows))
	e.mustRun("send", file, "--env", envName, "--skip-refused")
	base := e.startConsole(t)

	ctx := browser(t)
	signIn(t, ctx, base, viewerToken)
	do(t, ctx, "open the campaign", chromedp.Navigate(base+"/c/"+name), chromedp.WaitVisible(`#state`))
	if n := eval[int](t, ctx, `document.querySelectorAll('form.action, #actions').length`); n != 0 {
		t.Errorf("the viewer's page has %d action forms, want none", n)
	}
	code := eval[int](t, ctx, `fetch('/c/`+name+`/pause', {method: 'POST', headers: {'Accept': 'application/json'},
		body: new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value, reason: 'forged'})}).then(r => r.status)`)
	if code != http.StatusForbidden || e.status(name).State != "running" {
		t.Errorf("viewer's forged POST: %d, want 403 and the campaign still running", code)
	}

	fitted := `[...document.querySelectorAll('iframe.mail')].every(f => f.dataset.fitted === '1')`
	do(t, ctx, "open the gallery", chromedp.Navigate(base+"/c/"+name+"/gallery"), chromedp.WaitVisible(`.cards`))
	poll(t, ctx, "every email frame to load", fitted, 20*time.Second)
	langs := eval[[]string](t, ctx, `[...document.querySelectorAll('main > .cards > .card')].map(c => c.dataset.lang)`)
	want := "ar,de,en,es,fr,it,ja,pl,pt,ru"
	if strings.Join(langs, ",") != want {
		t.Errorf("gallery cards %v, want %s", langs, want)
	}
	if pt := eval[string](t, ctx, `document.querySelector('[data-lang=pt]').textContent`); !strings.Contains(pt, "NOT SENT") || !strings.Contains(pt, "incomplete: pt lacks") {
		t.Errorf("the pt card is not flagged with its reason: %q", pt)
	}
	for _, vp := range []struct {
		w, h   int64
		mobile bool
	}{{1280, 900, false}, {390, 844, true}} {
		opts := []chromedp.EmulateViewportOption{}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		do(t, ctx, "viewport", chromedp.EmulateViewport(vp.w, vp.h, opts...), chromedp.Reload())
		poll(t, ctx, "every email frame to load", fitted, 20*time.Second)
		dirs := eval[map[string]string](t, ctx, `(() => { const c = document.querySelector('.card[data-lang=ar]'); const f = c.querySelector('iframe.mail');
			return {subject: getComputedStyle(c.querySelector('.subject')).direction, text: getComputedStyle(c.querySelector('pre.text')).direction,
			html: getComputedStyle(f.contentDocument.body).direction}; })()`)
		for part, d := range dirs {
			if d != "rtl" {
				t.Errorf("%d px wide: the Arabic %s is %s, want rtl", vp.w, part, d)
			}
		}
		narrow := eval[[]string](t, ctx, `[...document.querySelectorAll('iframe.mail')].filter(f => f.clientWidth < f.contentDocument.documentElement.scrollWidth)
			.map(f => f.closest('.card').dataset.lang + ': frame ' + f.clientWidth + ' < content ' + f.contentDocument.documentElement.scrollWidth)`)
		if len(narrow) > 0 {
			t.Errorf("%d px wide: email frames narrower than their content: %v", vp.w, narrow)
		}
	}
	screenshot(t, ctx, "gallery", fitted)
}

// webhookRecorder runs a local HTTP server that keeps every notification
// posted to it, and returns its URL and a function that lists those of
// one event kind.
func webhookRecorder(t *testing.T) (url string, received func(kind string) []map[string]any) {
	t.Helper()
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("webhook payload: %v", err)
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	return hook.URL + "/tidings", func(kind string) []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		var out []map[string]any
		for _, ev := range got {
			if ev["event"] == kind {
				out = append(out, ev)
			}
		}
		return out
	}
}

// TestConsoleWebhookOnce: three worker processes see the same auto-pause
// (every recipient rejected by smtp-sink); a local HTTP server receives
// exactly one auto-pause notification, linking to the console.
func TestConsoleWebhookOnce(t *testing.T) {
	t.Parallel()
	const name = "e2e-webhook"
	url, received := webhookRecorder(t)
	port := startRejectingSink(t)
	e := consoleWorld(t, port, url)
	e.stageSimple(campaignSpec{name: name, size: 500}, simpleRows(120, acceptedLocales))
	var workers []*process
	for i := range 3 {
		workers = append(workers, e.startWorker(fmt.Sprintf("worker-%d", i+1), 2))
	}
	st := e.waitState(name, "paused", time.Minute)
	if !strings.Contains(st.Reason, "auto-pause") {
		t.Fatalf("paused with %q, want an automatic pause", st.Reason)
	}
	wait.For(t, time.Minute, "the auto-pause notification", func() bool { return len(received("auto-pause")) > 0 })
	// Every worker's notifier checks every 5 s: give each two more rounds.
	<-time.After(11 * time.Second)
	for _, w := range workers {
		if done, err := w.exited(); done {
			t.Fatalf("worker %s exited (%v)", w.name, err)
		}
	}
	evs := received("auto-pause")
	if len(evs) != 1 {
		t.Fatalf("the webhook received %d auto-pause notifications from 3 workers, want exactly 1: %v", len(evs), evs)
	}
	ev := evs[0]
	if ev["campaign"] != name || ev["url"] != "https://console.e2e.example/c/"+name || !strings.Contains(fmt.Sprint(ev["reason"]), "error rate") {
		t.Errorf("notification %v: want the campaign, the console link and the reason", ev)
	}
	if top, _ := ev["top_error"].(map[string]any); top == nil || !strings.HasPrefix(fmt.Sprint(top["code"]), "5") {
		t.Errorf("notification without the top SMTP error: %v", ev)
	}

	// What on-call then sees: why it paused and the errors by SMTP reply.
	base := e.startConsole(t)
	ctx := browser(t)
	signIn(t, ctx, base, operatorToken)
	do(t, ctx, "open the campaign", chromedp.Navigate(base+"/c/"+name), chromedp.WaitVisible(`#state`))
	page := eval[string](t, ctx, `document.querySelector('main').innerText`)
	for _, want := range []string{"auto-pause: error rate", "Errors by SMTP reply", "permanent", "Resume"} {
		if !strings.Contains(page, want) {
			t.Errorf("the auto-paused campaign's page lacks %q:\n%s", want, page)
		}
	}
	screenshot(t, ctx, "autopaused", `document.getElementById('livestate').textContent === 'live'`)
}

// startRejectingSink runs postfix's smtp-sink answering every RCPT TO with
// a permanent error, and returns its port.
func startRejectingSink(t *testing.T) int {
	t.Helper()
	if _, err := os.Stat(smtpSinkPath); err != nil {
		need(t, "postfix's smtp-sink at "+smtpSinkPath, "apt-get install postfix")
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, "smtp-sink", func(port int) (*exec.Cmd, string) {
		// -f RCPT: a hard 5xx to every recipient; -u and -h as in startSMTPSink.
		name := sinkName(port)
		return exec.Command(smtpSinkPath, "-u", u.Username, "-h", name, "-f", "RCPT", fmt.Sprintf("127.0.0.1:%d", port), "64"), name
	})
}

// TestPreviewServeGallery: `tidings preview FILE --serve ADDR` serves the
// console's gallery of a campaign file, rendered on demand, behind a
// sign-in link it prints, saying that the link is valid while it runs
// (not once) and is not to be shared.
func TestPreviewServeGallery(t *testing.T) {
	t.Parallel()
	e := &env{t: t, dir: t.TempDir()}
	cdir := filepath.Join(e.dir, "campaign")
	bundledCampaignDirs(t, cdir, false)
	rows := simpleRows(20, acceptedLocales)
	file := writeCampaign(t, cdir, campaignSpec{name: "e2e-preview", templatesDir: "templates", localesDir: "locales", size: 500}, csvOf(t, rows))
	// Port 0: the kernel picks one no other test's server holds; the
	// sign-in link says which.
	p := e.start("preview", "preview", file, "--out", filepath.Join(e.dir, "out"), "--serve", "127.0.0.1:0")
	var link, addr, says string
	wait.For(t, 30*time.Second, "the sign-in link", func() bool {
		if done, err := p.exited(); done {
			t.Fatalf("preview --serve exited (%v):\n%s", err, tail(p.log, 4000))
		}
		for _, line := range strings.Split(tail(p.log, 8000), "\n") {
			if i := strings.Index(line, "http://127.0.0.1:"); i >= 0 {
				if host, _, ok := strings.Cut(line[i+len("http://"):], "/login#token="); ok {
					link, addr, says = strings.TrimSpace(line[i:]), host, line[:i]
				}
			}
		}
		return link != ""
	})
	if !strings.Contains(says, "valid while this command runs") || !strings.Contains(says, "do not share it") || strings.Contains(says, "one-time") {
		t.Errorf("preview --serve announces its link as %q: want it valid while the command runs, not to be shared, and not one-time", says)
	}
	// Without the token: nothing.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get("http://" + addr + "/file/gallery")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("gallery without signing in: %s, want a redirect to sign in", resp.Status)
	}
	ctx := browser(t)
	do(t, ctx, "open the sign-in link", chromedp.Navigate(link))
	// The page signs in and is redirected twice: evaluate until it settles.
	wait.For(t, 20*time.Second, "the gallery after the sign-in", func() bool {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`location.pathname === '/file/gallery' && document.readyState === 'complete' && document.querySelectorAll('.card').length > 0`))
		return err == nil && ok
	})
	langs := eval[[]string](t, ctx, `[...document.querySelectorAll('main > .cards > .card')].map(c => c.dataset.lang)`)
	if got := strings.Join(langs, ","); got != "ar,de,en,es,fr,it,ja,pl,pt,ru" {
		t.Errorf("preview gallery cards %s, want every catalog language", got)
	}
	if d := eval[string](t, ctx, `getComputedStyle(document.querySelector('.card[data-lang=ar] .subject')).direction`); d != "rtl" {
		t.Errorf("the Arabic subject is %s, want rtl", d)
	}
}

// TestConsoleBeyondLoopback: binding beyond loopback is explicit, warned
// about, and refused while nobody could sign in.
func TestConsoleBeyondLoopback(t *testing.T) {
	t.Parallel()
	e := &env{t: t, dir: t.TempDir()}
	cdir := filepath.Join(e.dir, "campaign")
	bundledCampaignDirs(t, cdir, false)
	file := writeCampaign(t, cdir, campaignSpec{name: "e2e-addr", templatesDir: "templates", localesDir: "locales", size: 500}, csvOf(t, simpleRows(5, acceptedLocales)))
	addr := "0.0.0.0:0" // the kernel picks a port no other test's server holds
	r := e.run("console", "--campaign", file, "--addr", addr)
	if r.code != 2 || !strings.Contains(r.stderr, "nobody could sign in") {
		t.Errorf("beyond loopback without tokens: want exit 2 saying nobody could sign in, got %s", r)
	}
	tokens := filepath.Join(e.dir, "viewers")
	fixture.Write(t, tokens, viewerToken+"\n")
	p := e.start("console", "console", "--campaign", file, "--addr", addr, "--viewer-tokens", tokens)
	wait.For(t, 30*time.Second, "the console's warning", func() bool {
		if done, err := p.exited(); done {
			t.Fatalf("the console exited (%v):\n%s", err, tail(p.log, 4000))
		}
		out := tail(p.log, 4000)
		return strings.Contains(out, "WARNING: listening on ") && strings.Contains(out, ", reachable from the network")
	})
	if strings.Contains(tail(p.log, 4000), strings.Fields(viewerToken)[1]) {
		t.Error("the console printed a token")
	}
}
