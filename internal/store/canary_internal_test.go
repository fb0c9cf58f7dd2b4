package store

import "testing"

// TestStaleCanary: what a staging records of the canary messages sent
// of other content (canary_stale): nothing on a first staging or when
// nothing was kept; the kept canary recipients sent, with the hash they
// were sent, when the content changed; and, staged again with the same
// content, what the staging before recorded, since those messages are
// still of the older content (a second re-staging must not forget it).
func TestStaleCanary(t *testing.T) {
	t.Parallel()
	kept := map[string]int{"de": 1, "en": 2}
	for _, tt := range []struct {
		name                     string
		now, before, beforeStale string
		kept                     map[string]int
		want                     string
	}{
		{"first staging", "h2", "", "", nil, ""},
		{"same content, nothing recorded", "h1", "h1", "", kept, ""},
		{"content changed, canary kept", "h2", "h1", "", kept, `{"hash":"h1","langs":{"de":1,"en":2}}`},
		{"content changed, no canary kept", "h2", "h1", "", nil, ""},
		{"same content again keeps the record", "h2", "h2", `{"hash":"h1","langs":{"de":1}}`, kept, `{"hash":"h1","langs":{"de":1}}`},
		{"changed again: the staging before's hash", "h3", "h2", `{"hash":"h1","langs":{"de":1}}`, kept, `{"hash":"h2","langs":{"de":1,"en":2}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := staleCanary(tt.now, tt.before, tt.beforeStale, tt.kept); got != tt.want {
				t.Errorf("staleCanary(%q, %q, %q, %v) = %s, want %s", tt.now, tt.before, tt.beforeStale, tt.kept, got, tt.want)
			}
		})
	}
}
