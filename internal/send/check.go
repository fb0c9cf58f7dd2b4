package send

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail/smtp"
)

// Step is one check of Check, with what to do when it failed.
type Step struct {
	Name string // connect, ehlo, starttls, auth
	OK   bool
	// Warn marks a step that passed with a risk the operator must know of
	// (mail sent unencrypted); Msg says what and why.
	Warn bool
	Msg  string
}

// Report is the result of Check: the server checked and every step in order.
// Steps after a failed one are not run.
type Report struct {
	Server string // host:port
	Steps  []Step
}

// OK reports whether every step passed (with or without a warning).
func (r Report) OK() bool {
	for _, s := range r.Steps {
		if !s.OK {
			return false
		}
	}
	return len(r.Steps) > 0
}

// Check connects to the SMTP server in cfg the way the sender does and
// reports each step for `tidings doctor`: connect (and the TLS handshake for
// implicit TLS), EHLO, STARTTLS (whether offered and whether it succeeds, per
// the TLS policy) and AUTH when a username is configured. The error is nil
// when every step passed; otherwise it names the first failed step.
func Check(ctx context.Context, cfg Config) (Report, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return Report{Server: cfg.Host, Steps: []Step{{Name: "config", Msg: err.Error()}}}, err
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	r := Report{Server: addr}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	tlsConf := &tls.Config{ServerName: cfg.Host, InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in

	fail := func(name, msg string, cause error) (Report, error) {
		r.Steps = append(r.Steps, Step{Name: name, Msg: msg})
		return r, fmt.Errorf("check SMTP %s: %s: %w", addr, name, cause)
	}
	pass := func(name, msg string) { r.Steps = append(r.Steps, Step{Name: name, OK: true, Msg: msg}) }
	warn := func(name, msg string) { r.Steps = append(r.Steps, Step{Name: name, OK: true, Warn: true, Msg: msg}) }

	var conn net.Conn
	if cfg.TLS == TLSImplicit {
		d := tls.Dialer{Config: tlsConf}
		conn, err = d.DialContext(ctx, "tcp", addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fail("connect", fmt.Sprintf("cannot connect to %s (%s): check the SMTP host, port and TLS setting and that the server is reachable from here", addr, err), err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		_ = conn.Close()
		return fail("connect", fmt.Sprintf("no SMTP greeting from %s (%s): is this an SMTP port? (implicit TLS needs tls: tls)", addr, err), err)
	}
	defer func() { _ = c.Close() }()
	connMsg := "connected to " + addr
	if cfg.TLS == TLSImplicit {
		connMsg += " with TLS"
	}
	pass("connect", connMsg)

	helo := cfg.HeloName
	if helo == "" {
		helo = "localhost"
		if h, herr := hostname(); herr == nil {
			helo = h
		}
	}
	if err := c.Hello(helo); err != nil {
		return fail("ehlo", fmt.Sprintf("EHLO %s refused (%s): set a HELO name the server accepts", helo, err), err)
	}
	pass("ehlo", "EHLO "+helo+" accepted")

	offered, _ := c.Extension("STARTTLS")
	switch {
	case cfg.TLS == TLSImplicit:
		pass("starttls", "not needed: implicit TLS")
	case cfg.TLS == TLSNone:
		msg := "disabled (tls: none): mail, recipients' addresses and any password travel unencrypted, readable and changeable by anyone on the network path"
		if offered {
			msg += "; the server offers STARTTLS: set tls: starttls"
		} else {
			msg += "; use a server or port with STARTTLS (tls: starttls) or TLS (tls: tls) unless the path is a trusted local network"
		}
		warn("starttls", msg)
	case !offered && cfg.TLS == TLSStartTLS:
		err := errors.New("STARTTLS not offered")
		return fail("starttls", "the server does not offer STARTTLS but tls is starttls: use a server or port with STARTTLS (587), or tls: tls for port 465", err)
	case !offered:
		warn("starttls", "not offered: mail, recipients' addresses and any password will travel unencrypted (tls: opportunistic), readable and changeable by anyone on the network path; use a server or port with STARTTLS")
	default:
		if err := c.StartTLS(tlsConf); err != nil {
			return fail("starttls", fmt.Sprintf("STARTTLS failed (%s): check the server certificate (or set insecure_skip_verify for a test server)", err), err)
		}
		pass("starttls", "STARTTLS succeeded")
	}

	if cfg.Username == "" {
		pass("auth", "no credentials configured: not authenticating")
	} else {
		_, mechs := c.Extension("AUTH")
		state, _ := c.TLSConnectionState()
		a, mech := pickAuth(strings.Fields(mechs), cfg, state.HandshakeComplete)
		if a == nil {
			err := errors.New("no usable AUTH mechanism")
			return fail("auth", fmt.Sprintf("the server offers AUTH %q; none is usable here (PLAIN and LOGIN need TLS): enable TLS or check the server", mechs), err)
		}
		if err := c.Auth(a); err != nil {
			return fail("auth", fmt.Sprintf("AUTH %s as %s failed (%s): check the SMTP username and password", mech, cfg.Username, err), err)
		}
		pass("auth", "AUTH "+mech+" as "+cfg.Username+" succeeded")
	}
	_ = c.Quit()
	return r, nil
}

// pickAuth chooses the mechanism the sender would use (same preference as the
// pool's go-mail client).
func pickAuth(offered []string, cfg Config, tlsOn bool) (smtp.Auth, string) {
	local := cfg.Host == "localhost" || cfg.Host == "127.0.0.1" || cfg.Host == "::1"
	for _, m := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"} {
		if !slices.Contains(offered, m) {
			continue
		}
		switch m {
		case "SCRAM-SHA-256":
			return smtp.ScramSHA256Auth(cfg.Username, cfg.Password), m
		case "SCRAM-SHA-1":
			return smtp.ScramSHA1Auth(cfg.Username, cfg.Password), m
		case "CRAM-MD5":
			return smtp.CRAMMD5Auth(cfg.Username, cfg.Password), m
		case "PLAIN":
			if tlsOn || local {
				return smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host, false), m
			}
		case "LOGIN":
			if tlsOn || local {
				return smtp.LoginAuth(cfg.Username, cfg.Password, cfg.Host, false), m
			}
		}
	}
	return nil, ""
}
