package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// langs is the bench's language mix: recipient i writes langs[i%6].
var langs = []struct{ locale, name string }{
	{"en", "Ada Lovelace"}, {"de-CH", "Jürg Müller"}, {"fr", "Zoë Dupont"},
	{"it", "Niccolò Rossi"}, {"ja", "山田 太郎"}, {"ar", "ليلى حداد"},
}

// mixPeriod is the number of consecutive recipients after which the mix
// repeats: 6 languages x 7 post counts.
const mixPeriod = 42

// recipient is one row of the bench's recipients file.
type recipient struct {
	id, email, name, locale, posts string
}

// recipientAt returns recipient i of every bench campaign.
func recipientAt(i int) recipient {
	l := langs[i%len(langs)]
	return recipient{
		id: "u" + strconv.Itoa(i), email: "user" + strconv.Itoa(i) + "@bench.example",
		name: l.name, locale: l.locale, posts: strconv.Itoa(i % 7),
	}
}

// writeRecipients writes recipients 0..n-1 to path as CSV.
func writeRecipients(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write recipients: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "email", "name", "locale", "posts"})
	for i := range n {
		r := recipientAt(i)
		_ = cw.Write([]string{r.id, r.email, r.name, r.locale, r.posts})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write recipients: %w", err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write recipients: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write recipients: %w", err)
	}
	return nil
}

// Environments of the bench's tidings.yaml: the same Redis and smtp-sink,
// without and with the replica acknowledgement.
const (
	envPlain = "bench"
	envAck   = "bench-ack"
)

// writeCampaignFile writes dir/<name>.yaml: the bundled welcome template
// for every recipient of recipients.csv in one batch, at rate ("unlimited":
// no rate limit), pinned to environment env.
func writeCampaignFile(dir, name, env, repo string, n int, rate string) (string, error) {
	camp := fmt.Sprintf(`name: %s
environment: %s
template: welcome
templates_dir: %s
locales_dir: %s
default_locale: en
recipients: recipients.csv
from: "Bench <bench@tidings.example>"
batches:
  canary_per_locale: 0
  size: %d
  interval: 0s
rate: %s
auto_pause:
  error_rate: 0.5
  window: 1000
data:
  reregister_url: "https://example.org/re-register"
`, name, env, filepath.Join(repo, "templates"), filepath.Join(repo, "locales"), max(n, 1), rate)
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(camp), 0o644); err != nil {
		return "", fmt.Errorf("write campaign file: %w", err)
	}
	return p, nil
}

// writeConfig writes dir/tidings.yaml with the environments envPlain
// (no replica acknowledgement) and envAck (redis.min_replica_acks 1),
// their delivery journals fsynced as journalFsync says ("": the default).
func writeConfig(dir string, redisPort, smtpPort, conns int, journalFsync string) (string, error) {
	var b []byte
	b = append(b, "environments:\n"...)
	for _, e := range []struct {
		name string
		acks int
	}{{envPlain, 0}, {envAck, 1}} {
		b = fmt.Appendf(b, `  %s:
    production: false
    state_dir: %s
    redis:
      url: redis://127.0.0.1:%d/0
      min_replica_acks: %d
    smtp:
      host: 127.0.0.1
      port: %d
      tls: none
      connections: %d
`, e.name, filepath.Join(dir, "state-"+e.name), redisPort, e.acks, smtpPort, conns)
		if journalFsync != "" {
			b = fmt.Appendf(b, "    journal: { fsync: %s }\n", journalFsync)
		}
	}
	p := filepath.Join(dir, "tidings.yaml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return "", fmt.Errorf("write tidings.yaml: %w", err)
	}
	return p, nil
}
