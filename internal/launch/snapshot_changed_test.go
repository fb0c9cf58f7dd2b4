package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStagedSnapshotIsWhatWasPlanned: `tidings send` plans the
// campaign (reads the templates and catalogs on disk, checks every row
// against them, shows the plan), then, in production, waits for the
// operator to type the campaign name, then stages it. Meanwhile a
// translator saves a change to locales/de.toml (a valid, complete catalog:
// a reworded subject). Here: bundle.Load and launch.Plan as send does, the
// edit, then Planned.Stage.
//
// The README, the locale rule 5: "the rule is checked ... against the exact
// template and catalog content that was approved: send stores it with its
// hash, and workers render from it"; send "stages the campaign in Redis —
// the definition, the approved template and catalog content and its hash";
// for the recipients file, a change between the plan and the staging
// starts nothing.
//
// Found by red team 10: the staging succeeded, and stored the catalogs as
// they were on disk at staging time (the edited de.toml, which no plan
// checked) under the hash of the files the plan read: the snapshot did not
// have the hash stored with it. Every worker then rendered the snapshot,
// found another hash and refused the campaign with "template mismatch: ...
// run workers of the same tidings version", wrong advice for a campaign
// send reported as started. Planned.Stage read the directories again
// (render.Snapshot) and stored what it found. Now it refuses when what it
// reads is not what the plan's engine read (*ChangedError, naming the
// file), before anything is staged: the gallery QA signed off on shows the
// files on disk, so staging the plan's older bytes would send what QA may
// not have seen; send runs again and checks the files as they are then.
func TestStagedSnapshotIsWhatWasPlanned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	loc := filepath.Join(dir, "locales")
	if err := os.MkdirAll(loc, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "locales"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, "locales", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(loc, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	yaml := strings.Replace(campaignYAML, "template: welcome\n", "template: welcome\ntemplates_dir: "+filepath.Join(root, "templates")+"\nlocales_dir: locales\n", 1)
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "recipients.csv"), []byte(recipientsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	in := b.LaunchInput(nil, "tester", "box", nil)
	in.EnvName = "test"
	p, err := launch.Plan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	planned := b.Engine.Hash()

	// The translator saves a reworded German subject.
	de := filepath.Join(loc, "de.toml")
	src, err := os.ReadFile(de)
	if err != nil {
		t.Fatal(err)
	}
	const old, reworded = "Bitte registrieren Sie sich neu", "Bitte neu registrieren"
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s lacks %q", de, old)
	}
	if err := os.WriteFile(de, []byte(strings.Replace(string(src), old, reworded, 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	st := store.New(redistest.Start(t).Client())
	if _, err := p.Stage(ctx, st, launch.Options{Start: true}); err != nil {
		// A refusal is fine when it says which file changed and nothing
		// was staged.
		var changed *launch.ChangedError
		if !errors.As(err, &changed) || !strings.Contains(err.Error(), de+" (changed)") {
			t.Errorf("Stage: %v\nwant a *launch.ChangedError naming %s (changed)", err, de)
		}
		if _, err := st.Meta(ctx, "launch-test", true); !errors.As(err, new(*store.NotFoundError)) {
			t.Errorf("after the refusal, Meta: %v; want a *store.NotFoundError (nothing staged)", err)
		}
		return
	}
	meta, err := st.Meta(ctx, "launch-test", true)
	if err != nil {
		t.Fatal(err)
	}
	tfs, lfs := render.FromSnapshot(meta.Snapshot)
	eng, err := render.New(render.Config{Templates: tfs, Locales: lfs, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if meta.Hash != planned {
		t.Errorf("the stored hash %s is not the plan's %s", meta.Hash, planned)
	}
	if eng.Hash() != meta.Hash {
		t.Errorf("the staged snapshot has hash %s, but the hash stored with it (the plan's) is %s: the snapshot holds files the plan never read (locales/de.toml with %q: %v), and every worker refuses the campaign as a template mismatch",
			eng.Hash(), meta.Hash, reworded, strings.Contains(string(meta.Snapshot["locales/de.toml"]), reworded))
	}
}
