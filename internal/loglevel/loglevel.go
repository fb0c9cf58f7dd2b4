// Package loglevel reads the log level people name (debug, info, warn,
// error) into a slog level.
package loglevel

import (
	"fmt"
	"log/slog"
)

// Names are the levels Level takes.
const Names = "debug, info, warn or error"

// Level is the level name asks for, but never below min unless name is
// debug: a command that reports its progress itself keeps the logs of the
// work it runs to warnings and errors unless asked for debug. An unknown
// name is an error saying which are known.
func Level(name string, min slog.Level) (slog.Level, error) {
	switch name {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return min, nil
	case "warn":
		return max(min, slog.LevelWarn), nil
	case "error":
		return slog.LevelError, nil
	}
	return min, fmt.Errorf("log level %q: use %s", name, Names)
}
