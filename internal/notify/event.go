package notify

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// Event is one notification. Its JSON form is the generic webhook's
// payload; its fields are stable.
type Event struct {
	// ID is unique per event and campaign, the same for every notifier and
	// retry: "<campaign>/a<audit index>-<unix ms of the audit entry>" (the
	// time keeps it unique when Redis loses the campaign and its audit log
	// starts over) or "<campaign>/stall-<unix ms>"; also sent as the
	// X-Tidings-Event header.
	ID string `json:"id"`
	// Kind is auto-pause, awaiting-approval, done, cancelled or no-progress.
	Kind string `json:"event"`
	// Cause says why an auto-pause happened: failures (the error window or
	// a batch gate), or a worker that stopped the campaign: state-loss
	// (Redis lost state), journal (its delivery journal cannot be written),
	// refuse (it cannot render what was approved).
	Cause      string    `json:"cause,omitempty"`
	Campaign   string    `json:"campaign"`
	Env        string    `json:"env"`
	Production bool      `json:"production"`
	At         time.Time `json:"at"`
	// State is the campaign's state when the notification was built.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// By is who caused the event (a person for cancel, tidings-worker for
	// automatic events).
	By string `json:"by,omitempty"`
	// TopError is the most frequent recent SMTP error, if any.
	TopError *SMTPError `json:"top_error,omitempty"`
	// Counts is recipients per outcome (pending included); Total their sum.
	Counts map[string]int64 `json:"counts"`
	Total  int64            `json:"total"`
	// Since is, for no-progress events, since when there was no progress:
	// the later of the last outcome and when the waiting work became due.
	Since time.Time `json:"since,omitzero"`
	// URL is the campaign's page in the console (empty without a console URL).
	URL string `json:"url,omitempty"`
	// Text is the one-line summary sent to Slack.
	Text string `json:"text"`
}

// SMTPError is a group of recent failures with the same SMTP response.
type SMTPError struct {
	Code      string `json:"code"`
	Response  string `json:"response"`
	Temporary bool   `json:"temporary"`
	// InDoubt: the whole message went and no reply came; never sent again.
	InDoubt bool `json:"in_doubt"`
	Count   int  `json:"count"`
}

// event builds the event of kind for campaign status st; action is the
// audit-log action it announces.
func (n *Notifier) event(st *store.Status, kind, action string, at time.Time, reason, by string) Event {
	ev := Event{
		Kind: kind, Campaign: st.Campaign, Env: n.cfg.Env, Production: n.cfg.Production, At: at.UTC(),
		State: string(st.State), Reason: reason, By: by, Counts: st.Counts, Total: st.Total,
	}
	if kind == KindAutoPause {
		ev.Cause = cmp.Or(strings.TrimPrefix(action, "auto-pause"), causeFailures)
	}
	if n.cfg.ConsoleURL != "" {
		ev.URL = n.cfg.ConsoleURL + "/c/" + url.PathEscape(st.Campaign)
	}
	if len(st.Errors) > 0 {
		groups := append([]store.ErrorGroup(nil), st.Errors...)
		sort.SliceStable(groups, func(i, j int) bool { return groups[i].Count > groups[j].Count })
		g := groups[0]
		ev.TopError = &SMTPError{Code: g.Code, Response: g.Response, Temporary: g.Temporary, InDoubt: g.InDoubt, Count: g.Count}
	}
	ev.Text = summary(ev)
	return ev
}

// causeFailures is the Cause of an auto-pause for failures.
const causeFailures = "failures"

// summary is the event in one line, e.g.
// "[production] altea: auto-paused: error rate 21% ... Top SMTP error: 550 ... (12×). 1,200 of 10,000 sent."
func summary(ev Event) string {
	var b strings.Builder
	env := ev.Env
	if ev.Production {
		env = strings.ToUpper(env)
	}
	fmt.Fprintf(&b, "[%s] %s: ", env, ev.Campaign)
	switch ev.Kind {
	case KindAutoPause:
		if ev.Cause == causeFailures {
			b.WriteString("paused automatically")
		} else {
			b.WriteString("stopped by a worker") // its reason says why and what to do
		}
	case KindAwaitingApproval:
		b.WriteString("canary sent, waiting for approval")
	case KindDone:
		b.WriteString("done")
	case KindCancelled:
		b.WriteString("cancelled")
		if ev.By != "" {
			b.WriteString(" by " + ev.By)
		}
	case KindNoProgress:
		b.WriteString("no progress")
	}
	if ev.Reason != "" {
		b.WriteString(": " + ev.Reason)
	}
	b.WriteString(".")
	if ev.TopError != nil && (ev.Cause == causeFailures || ev.Kind == KindNoProgress) {
		doubt := ""
		if ev.TopError.InDoubt {
			doubt = "in doubt, "
		}
		fmt.Fprintf(&b, " Top SMTP error: %s%s (%d×).", doubt, strings.TrimSpace(ev.TopError.Code+" "+ev.TopError.Response), ev.TopError.Count)
	}
	// Its figures add up to the total: every other outcome that is not
	// zero, in status's order (store.Outcomes), then pending.
	fmt.Fprintf(&b, " %d of %d sent, %d failed", ev.Counts[store.OutcomeSent], ev.Total, ev.Counts[store.OutcomeFailed])
	for _, o := range store.Outcomes {
		if n := ev.Counts[o]; n > 0 && o != store.OutcomeSent && o != store.OutcomeFailed && o != store.OutcomePending {
			fmt.Fprintf(&b, ", %d %s", n, strings.ReplaceAll(o, "-", " "))
		}
	}
	fmt.Fprintf(&b, ", %d pending.", ev.Counts[store.OutcomePending])
	// A finished campaign's recipients in doubt are never sent again and
	// wait for a human: how many, and the command that lists them, as
	// status and the console say it.
	if n := ev.Counts[store.OutcomeInDoubt]; n > 0 && (ev.Kind == KindDone || ev.Kind == KindCancelled) {
		b.WriteString(" " + nextstep.InDoubt(n, ev.Campaign, ev.Env))
	}
	return b.String()
}

// slackPayload is a Slack-compatible incoming-webhook message.
func slackPayload(ev Event) ([]byte, error) {
	// Slack's mrkdwn treats &, < and > as control characters.
	text := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(ev.Text)
	if ev.URL != "" {
		text += " <" + ev.URL + "|Open in the console>"
	}
	return json.Marshal(map[string]string{"text": text})
}

// jsonPayload is the generic webhook's payload: the Event.
func jsonPayload(ev Event) ([]byte, error) { return json.Marshal(ev) }
