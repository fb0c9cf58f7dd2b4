package worker_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestUnreadableDefinitionPauses: a worker that cannot load a campaign's
// definition (one staged before validation refused what it holds, here a
// List-Unsubscribe that is an address, not a URL; or one of another
// tidings version) pauses the campaign and says why, as its other
// refusals do, instead of failing to load it four times a second while
// the campaign stays running with nobody sent.
func TestUnreadableDefinitionPauses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, from, to string
		want           []string
	}{
		{"invalid", `"list_unsubscribe":"https://altea.example/unsub?id={id}"`, `"list_unsubscribe":"unsubscribe@altea.example"`,
			[]string{`cannot load this campaign's definition: validate campaign definition: campaign definition: list_unsubscribe: "unsubscribe@altea.example" is not an http(s) or mailto URL`, "stage it again"}},
		{"other version", `"version":1`, `"version":9`,
			[]string{"cannot load this campaign's definition: decode campaign definition: version 9", "run workers of the version that staged the campaign, then resume the campaign"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.stage(t, opts{n: 12, definition: func(def []byte) []byte {
				if !bytes.Contains(def, []byte(tt.from)) {
					t.Fatalf("the definition has no %s: %s", tt.from, def)
				}
				return bytes.Replace(def, []byte(tt.from), []byte(tt.to), 1)
			}})
			e.startWorker(t, wopts{id: "w1"})
			e.waitState(t, 20*time.Second, store.StatePaused)
			st, err := e.st.Status(context.Background(), e.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range append(tt.want, "worker w1 on ") {
				if !strings.Contains(st.Reason, w) {
					t.Errorf("reason %q lacks %q", st.Reason, w)
				}
			}
			if n := e.smtp.Count(); n != 0 {
				t.Errorf("sent %d messages of a campaign it cannot load", n)
			}
		})
	}
}
