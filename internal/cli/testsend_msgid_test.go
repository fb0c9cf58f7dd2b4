package cli

import (
	"bytes"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestTestSendMessageIDDomainIsTheCampaigns: a test message
// carries a Message-ID at the domain every recipient's message has (the
// campaign's From domain), not at the host name of the machine QA ran
// test-send on.
//
// The promise (worker/message.go:11-14, send.Composer's doc): "Previews,
// test sends, rehearsals and the console use the same Composer, so what QA
// sees is what recipients get"; send.ComposerConfig.MessageIDDomain: "the
// part of every Message-ID after the "@"; default the domain of From";
// README, test-send: "sends one message per covered language to a QA inbox,
// the subject prefixed `[TEST de]`" (the prefix is the one difference it
// names). QA checks a test message's headers (spam scoring, DMARC/ARC
// views, threading) to sign off what recipients get.
//
// What happens: the rehearsal's worker sends Ada
// `Message-ID: <rt14e-mid.…@altea.example>`; `tidings test-send` sends QA
// `Message-ID: <RandomLetters@HOSTNAME>` (here the test machine's name,
// e.g. `@vm`): a Message-ID at an unqualified internal host name, which
// spam filters score and which leaks the name of the machine it ran on,
// unlike anything a recipient receives.
//
// The cause was: internal/testsend/testsend.go cleared the composed
// Message-ID ("a fresh id: QA may test-send many times"), and
// send.(*Conn).Send then generates one with newMessageID
// (internal/send/mime.go:90-99, called at :110), whose domain is os.Hostname(), not the
// Composer's MessageIDDomain.
func TestTestSendMessageIDDomainIsTheCampaigns(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{name: "rt14e-mid", rows: []string{"ada@example.org,Ada,en,1"}})

	reh := filepath.Join(t.TempDir(), "rehearse")
	if r := cli(t, nil, "rehearse", file, "--out", reh); r.code != 0 {
		t.Fatalf("rehearse: want exit 0\n%s", r)
	}
	var sentID string
	_ = filepath.WalkDir(filepath.Join(reh, "mail"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".eml") {
			sentID = readEML(t, p).Header.Get("Message-ID")
		}
		return nil
	})
	at := strings.LastIndexByte(sentID, '@')
	if at < 0 {
		t.Fatalf("setup: the rehearsal's message to ada has no Message-ID (%q)", sentID)
	}
	domain := strings.TrimSuffix(sentID[at+1:], ">") // altea.example, From's domain

	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
	if r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org"); r.code != 0 {
		t.Fatalf("test-send: want exit 0\n%s", r)
	}
	msgs := smtp.Messages()
	if len(msgs) == 0 {
		t.Fatal("test-send sent nothing")
	}
	for _, m := range msgs {
		tm, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		id := tm.Header.Get("Message-ID")
		if !strings.HasSuffix(id, "@"+domain+">") {
			t.Errorf("test message %s has Message-ID %s; every recipient's message has one at %s (ada was sent %s)",
				tm.Header.Get("Content-Language"), id, domain, sentID)
		}
	}
}
