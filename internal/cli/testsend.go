package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/worker"
)

type testSendOptions struct {
	env string
	to  string
}

func (a *app) cmdTestSend() *cobra.Command {
	var o testSendOptions
	c := &cobra.Command{
		Use:   "test-send CAMPAIGN --env ENV --to ADDR",
		Short: "Send one message per covered language to a QA inbox",
		Long: `test-send renders the campaign once per covered catalog language (with one real
recipient of that language from the recipients file where one exists, else
sample data) and sends each to ADDR through the environment's SMTP server,
the subject prefixed with the language, e.g. "[TEST de] ...". Nothing is
queued and no recipient is contacted. Incomplete languages are listed, not
sent.`,
		Example: `  tidings test-send campaigns/altea.yaml --env staging --to qa@altea.example`,
		Args:    argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.to == "" {
				return usageError(cmd, errors.New("--to is required: the QA inbox to send the test messages to"))
			}
			return a.runTestSend(cmd.Context(), args[0], o)
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment whose SMTP server to use (required)")
	c.Flags().StringVar(&o.to, "to", "", "QA address to send to (required)")
	return c
}

func (a *app) runTestSend(ctx context.Context, file string, o testSendOptions) error {
	l, err := a.loadCampaign(file)
	if err != nil {
		return err
	}
	e, err := a.loadEnv(o.env)
	if err != nil {
		return err
	}
	if !e.Allowed(o.to) {
		return configError(fmt.Errorf("%s is not in the allowlist of environment %s; test messages go only to allowed addresses", o.to, e.Name))
	}
	examples, err := firstPerLanguage(l)
	if err != nil {
		return err
	}
	pool := send.NewPool(smtpConfig(e), 1)
	defer pool.Close()
	conn, err := pool.Get(ctx)
	if err != nil {
		return infraError(fmt.Errorf("connect to SMTP %s: %w", e.SMTP.Addr(), err))
	}
	defer pool.Put(conn)
	samples := defaultSamples()
	compose := worker.NewComposer(l.camp)
	failed, sent := 0, 0
	for _, c := range l.engine.Languages() {
		if !c.Covered {
			fmt.Fprintf(a.stdout, "skip  %-6s incomplete: lacks %s\n", c.Lang, strings.Join(c.Missing, ", "))
			continue
		}
		d := render.Data{Campaign: l.camp.Name, Data: l.camp.Data}
		requested := c.Lang
		if r, ok := examples[c.Lang]; ok {
			d.ID, d.Email, d.Name, d.Fields, requested = r.ID, r.Email, r.Name, r.Fields, r.Locale
		} else {
			s, ok := samples[c.Lang]
			if !ok {
				s = samples[""]
			}
			d.ID, d.Email, d.Name, d.Fields = s.Email, s.Email, s.Name, s.Fields
		}
		out, err := l.engine.Render(render.Match{Requested: requested, Lang: c.Lang, Via: render.ViaExact}, d)
		if err != nil {
			failed++
			fmt.Fprintf(a.stdout, "FAIL  %-6s render: %s\n", c.Lang, err)
			continue
		}
		out.Subject = fmt.Sprintf("[TEST %s] %s", c.Lang, out.Subject)
		m := compose.Message("test-"+c.Lang+"-"+d.ID, o.to, d.Name, out, time.Now())
		m.MessageID = "" // a fresh id: QA may test-send many times
		if err := conn.Send(ctx, m); err != nil {
			failed++
			fmt.Fprintf(a.stdout, "FAIL  %-6s %s\n", c.Lang, send.Classify(err))
			continue
		}
		sent++
		fmt.Fprintf(a.stdout, "sent  %-6s %s\n", c.Lang, out.Subject)
	}
	fmt.Fprintf(a.stdout, "\n%d test messages sent to %s via %s.\n", sent, o.to, e.SMTP.Addr())
	if failed > 0 {
		return problems("%d test messages failed", failed)
	}
	return nil
}

// firstPerLanguage finds one valid recipient per matched catalog language.
func firstPerLanguage(l *loaded) (map[string]preview.Recipient, error) {
	out := map[string]preview.Recipient{}
	next, done, err := l.validRecipients()
	if err != nil || next == nil {
		return out, err // no file: sample data will do
	}
	defer done()
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, configError(err)
		}
		m, err := l.engine.Resolve(r.Locale)
		if err != nil {
			continue
		}
		if _, ok := out[m.Lang]; !ok {
			out[m.Lang] = r
		}
	}
}
