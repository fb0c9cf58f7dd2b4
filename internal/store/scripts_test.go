package store

import (
	"io/fs"
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
