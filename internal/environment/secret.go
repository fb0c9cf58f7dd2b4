package environment

import (
	"fmt"
	"log/slog"
)

// Secret is a password or token. It prints as "***" through fmt (every
// verb, including %#v and %x), encoding/json, YAML, text marshalling and
// log/slog; only Reveal returns the value.
type Secret string

const masked = "***"

// Reveal returns the secret's value, for the one place that must use it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret holds a value.
func (s Secret) IsSet() bool { return s != "" }

// String returns "***".
func (s Secret) String() string { return masked }

// GoString returns "***".
func (s Secret) GoString() string { return masked }

// Format writes "***" whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(masked)) }

// MarshalJSON returns "***" as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + masked + `"`), nil }

// MarshalText returns "***".
func (s Secret) MarshalText() ([]byte, error) { return []byte(masked), nil }

// MarshalYAML returns "***".
func (s Secret) MarshalYAML() (any, error) { return masked, nil }

// LogValue returns "***" for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(masked) }
