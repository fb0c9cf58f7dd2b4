// Package send delivers messages over SMTP: it turns a Message into a MIME
// mail (multipart/alternative text and HTML in UTF-8), sends it over pooled,
// reused connections (pipelined when the server offers PIPELINING), and
// classifies every failure as temporary, permanent or in doubt. Composer
// builds a campaign's Message for one recipient.
//
// github.com/wneessen/go-mail lives only here; the rest of tidings talks in
// this package's types. go-mail dials, starts TLS and authenticates (Pool).
// Two things are written here on purpose instead:
//
//   - the SMTP transaction (Conn.Send): go-mail cannot tell a message
//     rejected before its data from one sent whose reply never came, which
//     the at-most-once promise needs, and does not pipeline;
//   - the message bytes (mime.go, header.go): go-mail's writer costs several
//     times the CPU (measured, see mime.go), folds headers only at spaces and
//     passes encoded-words in data through.
//
// What goes on the wire is valid whatever the data: every header line is at
// most 78 characters where the value allows it and 998 always; header values
// from data are cleaned of control characters (CR and LF included) and
// written as RFC 2047 encoded-words when they are not plain ASCII or look
// like encoded-words, so they display literally and never start a header of
// their own; addresses are parsed strictly and go into the envelope with
// A-label domains (SMTPUTF8 only when a local part needs it); each body part
// takes the smallest correct transfer encoding for the connection (7bit,
// 8bit when the server offers 8BITMIME, else quoted-printable or base64).
package send

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// TLS policies for Config.TLS.
const (
	// TLSNone never encrypts, even when the server offers STARTTLS.
	TLSNone = "none"
	// TLSStartTLS requires STARTTLS; a server that does not offer it is an
	// error.
	TLSStartTLS = "starttls"
	// TLSOpportunistic uses STARTTLS when the server offers it.
	TLSOpportunistic = "opportunistic"
	// TLSImplicit connects with TLS from the first byte (SMTPS, port 465).
	TLSImplicit = "tls"
)

// Config describes how to reach the SMTP server. Its zero values are replaced
// by defaults (see WithDefaults).
type Config struct {
	Host string
	// Port defaults to 465 for TLSImplicit, 587 for TLSStartTLS and 25
	// otherwise.
	Port int
	// TLS is one of TLSNone, TLSStartTLS (the default), TLSOpportunistic,
	// TLSImplicit.
	TLS string
	// Username enables SMTP AUTH (the strongest mechanism the server offers
	// among SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN; PLAIN and
	// LOGIN only over TLS or to localhost).
	Username, Password string
	// HeloName is the EHLO name; default the local host name.
	HeloName string
	// Timeout bounds the connection set-up and each SMTP command; default 30s.
	Timeout time.Duration
	// InsecureSkipVerify disables certificate verification (test servers
	// only).
	InsecureSkipVerify bool
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid SMTP configuration")

// WithDefaults returns cfg with defaults applied, or an error (wrapping
// ErrConfig) saying which field is wrong and what is accepted.
func (cfg Config) WithDefaults() (Config, error) {
	cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSNone, TLSStartTLS, TLSOpportunistic, TLSImplicit:
	default:
		return cfg, fmt.Errorf("%w: smtp tls %q: use one of none, starttls, opportunistic, tls", ErrConfig, cfg.TLS)
	}
	if cfg.Host == "" {
		return cfg, fmt.Errorf("%w: smtp host is empty: set the SMTP host of the environment", ErrConfig)
	}
	if strings.ContainsAny(cfg.Host+cfg.HeloName, "\r\n \t") {
		return cfg, fmt.Errorf("%w: smtp host or helo name contains white space", ErrConfig)
	}
	if cfg.Port == 0 {
		switch cfg.TLS {
		case TLSImplicit:
			cfg.Port = 465
		case TLSStartTLS:
			cfg.Port = 587
		default:
			cfg.Port = 25
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return cfg, fmt.Errorf("%w: smtp port %d: use 1-65535", ErrConfig, cfg.Port)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Password != "" && cfg.Username == "" {
		return cfg, fmt.Errorf("%w: smtp password set without a username", ErrConfig)
	}
	return cfg, nil
}

var hostname = os.Hostname
