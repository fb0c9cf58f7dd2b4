package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRehearseSortsMailOfAUnicodeDomainByLanguage: recipients at
// a domain written in Unicode (de@bücher.example, ru@bücher.example), as
// the README's own example mailbox josé@bücher.test is. rehearse sends them
// (the envelope carries the A-label xn--bcher-kva.example, as promised),
// and files each under mail/<lang>/: "every message is written as `.eml`
// under `mail/<lang>/`", which is where QA looks for each language's
// message. Found by red team 11: every captured message went under
// mail/unknown/ ("Captured 2 messages by language: unknown 2."), as
// internal/rehearsal/rehearsal.go sortMail keyed the ledger's rows by
// strings.ToLower(row.Email), the
// address as staged (Unicode domain), and looks the envelope's A-label
// address up in it; nothing compares them as one mailbox.
func TestRehearseSortsMailOfAUnicodeDomainByLanguage(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{rows: []string{
		"de@bücher.example,Anna,de,1",
		"ru@bücher.example,Анна,ru,3",
	}})
	out := filepath.Join(t.TempDir(), "r")
	r := cli(t, nil, "rehearse", file, "--out", out)
	if r.code != 0 {
		t.Fatalf("rehearse\n%s", r)
	}
	for _, lang := range []string{"de", "ru"} {
		mails, _ := filepath.Glob(filepath.Join(out, "mail", lang, "*.eml"))
		if len(mails) != 1 {
			all, _ := filepath.Glob(filepath.Join(out, "mail", "*", "*.eml"))
			t.Errorf("want the %s recipient's message under mail/%s/, found %d there; all captured: %v", lang, lang, len(mails), all)
		}
	}
	if strings.Contains(r.stdout, "unknown") {
		t.Errorf("rehearse files messages of covered languages as unknown\n%s", r)
	}
}
