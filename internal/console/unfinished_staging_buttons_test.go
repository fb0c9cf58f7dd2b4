package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// offeredRE finds the action forms of a campaign page (a <details>
// holds those of cancel and of retrying permanent failures): its action,
// or its class, and whether it is hidden.
var offeredRE = regexp.MustCompile(`<(?:form class="action" method="post" action="/c/[^"/]+/([a-z]+)"|details class="([a-z-]+)") data-when="[^"]*"( hidden)?>`)

// offered lists the actions a campaign page offers: its forms not hidden.
func offered(page string) []string {
	var out []string
	for _, m := range offeredRE.FindAllStringSubmatch(page, -1) {
		if m[3] != "" {
			continue
		}
		a := m[1]
		switch m[2] {
		case "cancel":
			a = "cancel"
		case "retry-permanent":
			a = "retry"
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// listRow is the campaigns page's row of campaign c, "" when none.
func listRow(page, c string) string {
	start := strings.Index(page, `data-campaign="`+c+`" data-state=`)
	if start < 0 {
		return ""
	}
	end := strings.Index(page[start:], "</tr>")
	if end < 0 {
		return page[start:]
	}
	return page[start : start+end]
}

// unfinishedStagings is a world with two campaigns whose staging did not
// end: "halfway", whose first staging bob@box began and whose send died
// (no definition yet), and "again", staged, whose staging again, begun by
// carol@build, died (its control names a staging that did not end; no
// send holds its lease).
func unfinishedStagings(t *testing.T) *consoletest.World {
	t.Helper()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "again", N: 9})
	if err := w.Redis.Client().HSet(t.Context(), "tidings:{again}:control", "state", "staged", "stage", "s2", "staging_by", "carol@build").Err(); err != nil {
		t.Fatal(err)
	}
	sg, err := w.Store.NewStager(t.Context(), store.StageConfig{Campaign: "halfway", Definition: []byte(`{}`), Hash: "h", Env: consoletest.EnvName, Who: "bob", Host: "box", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	sg.Abort(t.Context())
	return w
}

// TestUnfinishedStagingOffersWhatWorks: a campaign whose staging did not
// end is offered what the store accepts of it, and nothing else. One
// whose FIRST staging was interrupted (staging-interrupted) is offered
// Pause and Cancel (which gives it up: nothing was sent, and what the
// staging left is removed), one whose RE-staging was interrupted
// (restaging-interrupted: the campaign exists, its new staging never
// finished; not "staged", which it is not) Pause alone, on their page
// and in their row of the campaigns list, and neither Resume, Approve
// nor Retry: each action is accepted by the store exactly when the page
// offers it. The re-staging's state is shown as such, with what to run
// next: send --resume-existing. The pause keeps its protections (a
// reason, the CSRF token, an operator), and pauses it; the cancel then
// gives the first one up.
func TestUnfinishedStagingOffersWhatWorks(t *testing.T) {
	t.Parallel()
	w := unfinishedStagings(t)
	s := newSite(t, w, false)
	op, viewer := s.signIn(t, operatorToken), s.signIn(t, viewerToken)
	env := consoletest.EnvName

	_, list, _ := op.get("/")
	list = html.UnescapeString(list)
	for _, tt := range []struct {
		campaign string
		state    store.State
		says     string   // its page and its row's 'Needs a human'
		offers   []string // its page's actions
	}{
		{"halfway", store.StateStagingInterrupted, "run the same send again (its campaign file, --env " + env + ", and any --exclude-delivered it had)", []string{"cancel", "pause"}},
		{"again", store.StateRestagingInterrupted, "tidings send CAMPAIGN-FILE --env " + env + " --resume-existing", []string{"pause"}},
	} {
		c := tt.campaign
		row := listRow(list, c)
		cancels := slices.Contains(tt.offers, "cancel")
		if !strings.Contains(row, `action="/c/`+c+`/pause"`) || strings.Contains(row, `action="/c/`+c+`/cancel"`) != cancels || !strings.Contains(row, ">"+string(tt.state)+"<") || !strings.Contains(row, tt.says) {
			t.Errorf("the campaigns list's row of %s: want it %s, saying %q, with Pause, and Cancel %v\n%s", c, tt.state, tt.says, cancels, row)
		}
		_, page, _ := op.get("/c/" + c)
		page = html.UnescapeString(page)
		if got := offered(page); !slices.Equal(got, tt.offers) || !strings.Contains(page, ">"+string(tt.state)+"<") || !strings.Contains(page, tt.says) {
			t.Errorf("the page of %s offers %v, want %v; want it %s, saying %q\n%s", c, got, tt.offers, tt.state, tt.says, page)
		}
		csrf := op.csrf("/c/" + c)
		// What the page does not offer, the store refuses (409), and
		// nothing changes.
		for _, a := range []struct {
			action string
			form   url.Values
		}{
			{"resume", url.Values{}},
			{"approve", url.Values{"stage": {"s1"}}},
			{"retry", url.Values{}},
			{"cancel", url.Values{"stage": {""}, "reason": {"wrong list"}, "confirm": {c}}},
		} {
			if slices.Contains(tt.offers, a.action) {
				continue
			}
			a.form.Set("csrf", csrf)
			if code, body := op.post("/c/"+c+"/"+a.action, a.form); code != http.StatusConflict {
				t.Errorf("%s of %s, which its page does not offer: %d, want 409 (the store refuses it)\n%s", a.action, c, code, body)
			}
		}
		// The pause it offers: refused without a reason, without the
		// CSRF token, to a viewer; then it works.
		for _, r := range []struct {
			who  *client
			form url.Values
			code int
		}{
			{op, url.Values{"csrf": {csrf}}, http.StatusBadRequest},
			{op, url.Values{"reason": {"wrong list"}}, http.StatusForbidden},
			{viewer, url.Values{"csrf": {viewer.csrf("/c/" + c)}, "reason": {"wrong list"}}, http.StatusForbidden},
		} {
			if code, body := r.who.post("/c/"+c+"/pause", r.form); code != r.code {
				t.Errorf("pause of %s with %v: %d, want %d\n%s", c, r.form, code, r.code, body)
			}
		}
		if ctl, err := w.Store.Control(t.Context(), c); err != nil || ctl.State != store.StateStaged {
			t.Fatalf("%s after refused requests: %+v, %v; want it staged, as before", c, ctl, err)
		}
		if code, body := op.post("/c/"+c+"/pause", url.Values{"csrf": {csrf}, "reason": {"wrong list"}}); code != http.StatusOK || !strings.Contains(body, "Paused.") {
			t.Errorf("pause of %s, as offered: %d, want 200 saying Paused.\n%s", c, code, body)
		}
		if ctl, err := w.Store.Control(t.Context(), c); err != nil || ctl.State != store.StatePaused || ctl.Reason != "wrong list" || !strings.HasPrefix(ctl.By, "alice (console)") {
			t.Errorf("%s after the console's pause: %+v, %v; want it paused by alice (console) for 'wrong list'", c, ctl, err)
		}
		if !cancels {
			continue
		}
		// The cancel it offers gives it up: nothing was sent; it is no
		// longer listed.
		code, body := op.post("/c/"+c+"/cancel", url.Values{"csrf": {csrf}, "stage": {op.cancelStage("/c/"+c, c)}, "reason": {"abandoned"}, "confirm": {c}})
		if code != http.StatusOK || !strings.Contains(html.UnescapeString(body), "its first staging never finished, so nothing was sent") {
			t.Errorf("cancel of %s, as offered: %d, want 200 saying nothing was sent\n%s", c, code, body)
		}
		if _, list, _ := op.get("/"); strings.Contains(list, `href="/c/`+c+`"`) {
			t.Errorf("the campaigns list still has %s after its cancel gave it up", c)
		}
	}
}

// TestPauseOfAnUnfinishedStagingInTheBrowser: on-call opens the page of
// each campaign whose staging did not end (its first, its staging again)
// and pauses it with the keyboard: the live page keeps Pause shown and
// Cancel offered only for the first staging (which it gives up) as it
// updates itself (its state is neither staged nor running), the answer
// says Paused, and the campaign is paused; then the page offers what
// still works on a paused one (TestPausedUnfinishedStagingOffersNothingMore).
func TestPauseOfAnUnfinishedStagingInTheBrowser(t *testing.T) {
	t.Parallel()
	w := unfinishedStagings(t)
	s, ctx := newSite(t, w, false), browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	for _, tt := range []struct {
		campaign string
		state    store.State
	}{
		{"halfway", store.StateStagingInterrupted},
		{"again", store.StateRestagingInterrupted},
	} {
		c := tt.campaign
		do(t, ctx, "open "+c, chromedp.Navigate(s.URL+"/c/"+c), chromedp.WaitVisible(`#state`))
		// Cancel gives up a first staging only.
		cancel := strconv.FormatBool(tt.state != store.StateStagingInterrupted)
		poll(t, ctx, c+"'s page live, as "+string(tt.state)+", Pause shown and Cancel hidden: "+cancel, `document.getElementById('livestate').textContent === 'live' && document.getElementById('state').textContent === '`+string(tt.state)+`' && !document.querySelector('form[action$="/pause"]').hidden && document.querySelector('#actions details.cancel').hidden === `+cancel, 10*time.Second)
		reason := `form[action$="/pause"] input[name=reason]`
		do(t, ctx, "type a reason and press Enter", chromedp.Focus(reason), chromedp.SendKeys(reason, "wrong list\r"))
		poll(t, ctx, "the answer", `!document.getElementById('flash').hidden && document.getElementById('flash').textContent.indexOf('Paused.') >= 0`, 10*time.Second)
		if ctl, err := w.Store.Control(t.Context(), c); err != nil || ctl.State != store.StatePaused {
			t.Errorf("%s after the pause in the browser: %+v, %v; want it paused", c, ctl, err)
		}
		// Paused, nothing else acts on it but the cancel of a first
		// staging: the live page hides Pause (no second pause to offer)
		// and shows no other action (a first staging: Cancel alone), and
		// the answer stays current (the state it reported is the page's).
		after := map[store.State]string{store.StateStagingInterrupted: "paused-staging-interrupted", store.StateRestagingInterrupted: "paused-while-staging"}[tt.state]
		poll(t, ctx, c+"'s page, paused, offering nothing but a first staging's Cancel", `document.querySelector('#live [data-state]').dataset.state === '`+after+`' && Array.prototype.every.call(document.querySelectorAll('#actions [data-when]'), function (e) { return '`+after+`' === 'paused-staging-interrupted' ? e.hidden === !e.matches('details.cancel') : e.hidden; }) && !document.getElementById('flash').classList.contains('past')`, 10*time.Second)
	}
}
