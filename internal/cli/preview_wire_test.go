package cli

import (
	"bytes"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestPreviewEMLIsTheSentMessage: README, "QA: sign off every language":
// the preview's <lang>.eml is the message "exactly as a worker composes" it
// for the recipient the gallery names. With an id column and a
// List-Unsubscribe URL that uses {id}, the preview's .eml for ada (the only
// en recipient, named as its source) carries the unsubscribe link and the
// Message-ID made from her id, those of the message the rehearsal's worker
// delivers to her over SMTP (found by the red team: the preview used her
// email as the id, so QA checked a link no recipient gets).
func TestPreviewEMLIsTheSentMessage(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "campaign.yaml")
	fixture.Write(t, file, `name: rt6-preview
environment: staging
template: welcome
templates_dir: `+filepath.Join(root, "templates")+`
locales_dir: `+filepath.Join(root, "locales")+`
default_locale: en
recipients: recipients.csv
from: "Altea Community <community@altea.example>"
list_unsubscribe: "https://altea.example/unsub?u={id}"
batches:
  interval: 0s
data:
  reregister_url: "https://altea.example/re-register"
`)
	fixture.Write(t, filepath.Join(dir, "recipients.csv"), "id,email,name,locale,posts\nU-1001,ada@example.org,Ada,en,1\nU-1002,juerg@example.org,Jürg,de,3\n")

	prev := filepath.Join(t.TempDir(), "preview")
	if r := cli(t, nil, "preview", file, "--out", prev); r.code != 0 {
		t.Fatalf("preview: want exit 0\n%s", r)
	}
	reh := filepath.Join(t.TempDir(), "rehearse")
	if r := cli(t, nil, "rehearse", file, "--out", reh); r.code != 0 {
		t.Fatalf("rehearse: want exit 0\n%s", r)
	}

	pm := readEML(t, filepath.Join(prev, "en.eml")).Header
	if to := pm.Get("To"); !strings.Contains(to, "ada@example.org") {
		t.Fatalf("preview en.eml is not ada's message: To %q", to)
	}
	var sent mail.Header
	err := filepath.WalkDir(filepath.Join(reh, "mail"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eml") {
			return err
		}
		if h := readEML(t, p).Header; strings.Contains(h.Get("To"), "ada@example.org") {
			sent = h
		}
		return nil
	})
	if err != nil || sent == nil {
		t.Fatalf("the rehearsal delivered no message to ada (%v)", err)
	}
	for _, f := range []string{"List-Unsubscribe", "Message-ID"} {
		if pv, sv := pm.Get(f), sent.Get(f); pv != sv {
			t.Errorf("%s: preview en.eml (ada) shows %q, ada was sent %q", f, pv, sv)
		}
	}
}

// readEML parses the message in the file at path.
func readEML(t *testing.T, path string) *mail.Message {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return m
}

// TestPreviewSubjectIsTheWire: README, "QA: sign off every language": the
// preview shows each language's subject, and the .eml is what the worker
// sends. A French catalog written with French typography (a no-break space
// U+00A0 before ":" and a narrow no-break space U+202F before "!") previews
// with those spaces, and the subject the rehearsal's worker puts on the wire
// decodes to the same characters (found by the red team: the sender turned
// every Unicode space into an ASCII one).
func TestPreviewSubjectIsTheWire(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	locs := filepath.Join(t.TempDir(), "locales")
	entries, err := os.ReadDir(filepath.Join(root, "locales"))
	if err != nil {
		t.Fatal(err)
	}
	const subject = "Action requise\u00a0: réinscrivez-vous\u202f!"
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, "locales", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if e.Name() == "fr.toml" {
			s = strings.Replace(s, `other = "Action requise : réinscrivez-vous sur la nouvelle communauté Altea"`, `other = "`+subject+`"`, 1)
			if !strings.Contains(s, subject) {
				t.Fatal("fr.toml's subject is not the expected one")
			}
		}
		fixture.Write(t, filepath.Join(locs, e.Name()), s)
	}
	file := writeCampaign(t, campaignFile{locales: locs, rows: []string{"zoe@example.org,Zoë,fr,2"}})
	prev := filepath.Join(t.TempDir(), "preview")
	r := cli(t, nil, "preview", file, "--out", prev)
	if r.code != 0 {
		t.Fatalf("preview: want exit 0\n%s", r)
	}
	if got := previewSubjects(r.stdout)["fr"]; got != subject {
		t.Fatalf("preview shows fr subject %q, want the catalog's %q", got, subject)
	}
	reh := filepath.Join(t.TempDir(), "rehearse")
	if r := cli(t, nil, "rehearse", file, "--out", reh); r.code != 0 {
		t.Fatalf("rehearse: want exit 0\n%s", r)
	}
	var sent string
	_ = filepath.WalkDir(filepath.Join(reh, "mail"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".eml") {
			var dec mime.WordDecoder
			sent, _ = dec.DecodeHeader(readEML(t, p).Header.Get("Subject"))
		}
		return nil
	})
	if sent != subject {
		t.Errorf("QA previewed the subject %q (% x), zoe was sent %q (% x)", subject, subject, sent, sent)
	}
}
