package statusview_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusJSONFieldsAreDocumented holds docs/cli.md to the README's word
// that it lists the fields of `status --format json`: every field the
// JSON of a campaign's status (store.Status, with its batches, languages,
// errors, audit entries and pause made while staging) and of a lost
// campaign in the list (statusview.LostCampaign) can hold is named there,
// in backquotes, in the paragraph on status.
func TestStatusJSONFieldsAreDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "**`status CAMPAIGN --format json`**")
	if start < 0 {
		t.Fatal("docs/cli.md has no paragraph on status CAMPAIGN --format json")
	}
	para := doc[start:]
	if end := strings.Index(para, "\n\n"); end >= 0 {
		para = para[:end]
	}
	seen := map[reflect.Type]bool{}
	var names []string
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() == "time" {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			tag := f.Tag.Get("json")
			if f.Anonymous && tag == "" {
				walk(f.Type)
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name != "" {
				names = append(names, name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[store.Status]())
	walk(reflect.TypeFor[statusview.LostCampaign]())
	if len(names) < 40 {
		t.Fatalf("found only %d fields in store.Status: the walk is broken", len(names))
	}
	for _, n := range names {
		if !strings.Contains(para, "`"+n+"`") {
			t.Errorf("status --format json has the field %q, which docs/cli.md's paragraph on status does not name", n)
		}
	}
}
