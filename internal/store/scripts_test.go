package store

import (
	"io/fs"
	"strings"
	"testing"
)

// TestScriptFiles: every script under lua/ is named by the SHA-1 EVALSHA
// runs it by.
func TestScriptFiles(t *testing.T) {
	files, err := fs.Glob(luaFiles, "lua/*.lua")
	if err != nil {
		t.Fatal(err)
	}
	got := ScriptFiles()
	if len(got) != len(files) {
		t.Errorf("ScriptFiles has %d scripts, lua/ %d files", len(got), len(files))
	}
	for _, tt := range []struct {
		sha, file string
	}{{stepScript.Hash(), "step.lua"}, {tickScript.Hash(), "tick.lua"}, {aliveScript.Hash(), "alive.lua"}} {
		if got[tt.sha] != tt.file {
			t.Errorf("ScriptFiles()[%s] = %q, want %q", tt.sha, got[tt.sha], tt.file)
		}
	}
}

// TestScriptIncludes: the scripts that count a batch's recipients
// waiting for a retry (tick, transition) carry lua/lib/waiting.lua in
// place of their include line; no script is left with one.
func TestScriptIncludes(t *testing.T) {
	lib, err := luaFiles.ReadFile("lua/lib/waiting.lua")
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(luaFiles, "lua/*.lua")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "lua/"), ".lua")
		text := scriptSource(name)
		want := name == "tick" || name == "transition"
		if strings.Contains(text, string(lib)) != want || includeLine.MatchString(text) {
			t.Errorf("%s: includes lua/lib/waiting.lua: %v, want %v; an include line left: %v", f, !want, want, includeLine.MatchString(text))
		}
	}
}
