package store

import (
	"io/fs"
	"regexp"
	"slices"
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

// TestFinalOutcomesOneDefinition: "every recipient has a final outcome"
// is summed by lib/final.lua alone, over the final outcomes of Go's list
// (terminal: Outcomes but pending) in its order, which tick.lua's done
// reason names them by; the scripts that sum them (tick, chunk_end,
// step) include it, and no script reads the outcomes' counts with an
// HMGET of its own, which a new final outcome would have to be added to.
func TestFinalOutcomesOneDefinition(t *testing.T) {
	lib, err := luaFiles.ReadFile("lua/lib/final.lua")
	if err != nil {
		t.Fatal(err)
	}
	hmget := regexp.MustCompile(`redis\.call\('HMGET',[^)]*\)`)
	quoted := regexp.MustCompile(`'([^']*)'`)
	calls := hmget.FindAllString(string(lib), -1)
	if len(calls) != 1 {
		t.Fatalf("lib/final.lua: %d HMGET calls, want 1", len(calls))
	}
	var fields []string
	for _, m := range quoted.FindAllStringSubmatch(calls[0], -1)[1:] { // the first is HMGET
		fields = append(fields, m[1])
	}
	if !slices.Equal(fields, terminal) {
		t.Errorf("lib/final.lua reads %q, want the final outcomes %q", fields, terminal)
	}
	files, err := fs.Glob(luaFiles, "lua/*.lua")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "lua/"), ".lua")
		raw, err := luaFiles.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range hmget.FindAllString(string(raw), -1) {
			n := 0
			for _, o := range terminal {
				if strings.Contains(call, "'"+o+"'") {
					n++
				}
			}
			if n > 1 {
				t.Errorf("%s reads %d final outcomes' counts itself (%s): use finalOf (-- include: final)", f, n, call)
			}
		}
		want := name == "tick" || name == "chunk_end" || name == "step"
		if got := strings.Contains(scriptSource(name), string(lib)); got != want {
			t.Errorf("%s includes lua/lib/final.lua: %v, want %v", f, got, want)
		}
	}
}
