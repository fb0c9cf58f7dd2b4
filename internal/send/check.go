package send

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
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
	// Extensions holds those of RelayExtensions the server announced, with
	// their parameters ("SIZE": "10485760"), in the session mail goes
	// through: after STARTTLS when it is used. nil when the check stopped
	// before it had one (connect, EHLO or STARTTLS failed).
	Extensions map[string]string
}

// RelayExtensions are the EHLO keywords that change what the sender does
// (Check records them): SMTPUTF8 (an address whose local part is not
// ASCII), 8BITMIME (bodies as 8bit), SIZE (the relay's limit of a
// message), PIPELINING (commands sent together). Whether STARTTLS is
// offered is the starttls step's.
var RelayExtensions = []string{"SMTPUTF8", "8BITMIME", "SIZE", "PIPELINING"}

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
// the TLS policy) and AUTH when a username is configured; without one,
// whether the server takes a transaction without AUTH (probeNoAuth), with
// from, the campaign's sender, as its sender ("" when no campaign is
// known: the null sender). It records the RelayExtensions the server
// announced once STARTTLS is settled (Report.Extensions). The error is
// nil when every step passed;
// otherwise it names the first failed step.
func Check(ctx context.Context, cfg Config, from string) (Report, error) {
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
	if verifyErr := (*tls.CertificateVerificationError)(nil); errors.As(err, &verifyErr) {
		return fail("connect", fmt.Sprintf("TLS with %s failed (%s): %s", addr, err, tlsAdvice(err, cfg.Host)), err)
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
		return fail("starttls", noStartTLSAdvice, err)
	case !offered:
		warn("starttls", "not offered: mail, recipients' addresses and any password will travel unencrypted (tls: opportunistic), readable and changeable by anyone on the network path; use a server or port with STARTTLS")
	default:
		if err := c.StartTLS(tlsConf); err != nil {
			return fail("starttls", fmt.Sprintf("STARTTLS failed (%s): %s", err, tlsAdvice(err, cfg.Host)), err)
		}
		pass("starttls", "STARTTLS succeeded")
	}
	r.Extensions = map[string]string{}
	for _, ext := range RelayExtensions {
		if ok, param := c.Extension(ext); ok {
			r.Extensions[ext] = param
		}
	}

	if cfg.Username == "" {
		if st, err := probeNoAuth(c, from); !st.OK {
			return fail("auth", st.Msg, err)
		} else if st.Warn {
			warn("auth", st.Msg)
		} else {
			pass("auth", st.Msg)
		}
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

// setCredentials says where an environment's SMTP credentials go.
const setCredentials = "set smtp.username and smtp.password_file (or TIDINGS_SMTP_USERNAME and TIDINGS_SMTP_PASSWORD)"

// probeNoAuth finds whether the server of c takes mail without AUTH, as
// the sender will send it when no username is configured: it starts a
// transaction and resets it; nothing is sent. The transaction's sender is
// from, the campaign's (as the campaign writes it, "Name <address>"), when
// given: the sender puts it in every MAIL FROM, so the probe asks the
// server the question the campaign will. Without one it is the null
// sender <>, so that no address of a campaign's is needed.
//
// A refusal about authentication (authRefusal) fails: every message would
// be refused. Any other permanent refusal of the campaign's sender fails
// too, since every message carries it; one of the null sender is a
// warning that says what was refused (servers refuse <> by policy, which
// says nothing of the campaign's mail), as is a temporary refusal (4xx,
// greylisting) of either. A server that offers AUTH and
// takes the transaction is a warning, since a relay may still refuse
// recipients outside its own domains without it.
// The error is the server's refusal, or why the transaction failed.
func probeNoAuth(c *smtp.Client, from string) (Step, error) {
	offered, mechs := c.Extension("AUTH")
	sender := probeSender(from)
	err := c.Mail("<" + sender + ">")
	var te *textproto.Error
	switch {
	case err == nil:
		_ = c.Reset()
	case errors.As(err, &te) && te.Code >= 500 && authRefusal(te):
		return Step{Name: "auth", Msg: fmt.Sprintf("no credentials configured, and the server refuses mail without them (MAIL FROM:<%s> answered %d %s): every message would be refused; %s", sender, te.Code, te.Msg, setCredentials)}, err
	case errors.As(err, &te) && te.Code >= 500 && sender != "":
		return Step{Name: "auth", Msg: fmt.Sprintf("no credentials configured; the server refuses the campaign's sender (MAIL FROM:<%s> answered %d %s): every message would be refused; give the campaign a from address this server takes from this client, or, if it takes it only from authenticated clients, %s", sender, te.Code, te.Msg, setCredentials)}, err
	case errors.As(err, &te) && te.Code < 500:
		return Step{Name: "auth", OK: true, Warn: true, Msg: fmt.Sprintf("no credentials configured: not authenticating; the server refused the probe's transaction for now (MAIL FROM:<%s> answered %d %s), so whether it takes mail without credentials is not known: run doctor again later; if the server asks for authentication, %s", sender, te.Code, te.Msg, setCredentials)}, nil
	case errors.As(err, &te):
		return Step{Name: "auth", OK: true, Warn: true, Msg: fmt.Sprintf("no credentials configured: not authenticating; the server refused the null sender (MAIL FROM:<> answered %d %s), a refusal not about authentication, so whether it takes the campaign's mail without credentials is not known: give doctor the campaign to probe with its from address; if the server asks for authentication, %s", te.Code, te.Msg, setCredentials)}, nil
	default:
		return Step{Name: "auth", Msg: fmt.Sprintf("no credentials configured; starting a transaction without them failed (%s): check that the server is reachable and takes mail from here", err)}, err
	}
	if offered {
		return Step{Name: "auth", OK: true, Warn: true, Msg: fmt.Sprintf("no credentials configured: not authenticating; the server offers AUTH (%s) and took MAIL FROM:<%s> without it, but a relay that relays only for authenticated clients refuses the recipients (5.7.1, relay access denied): if it does, %s", mechs, sender, setCredentials)}, nil
	}
	return Step{Name: "auth", OK: true, Msg: fmt.Sprintf("no credentials configured: not authenticating; the server takes mail without them (MAIL FROM:<%s> accepted)", sender)}, nil
}

// probeSender is the address probeNoAuth gives MAIL FROM for the
// campaign's sender from ("Name <address>" or "address"): its wire form,
// read as a message's From is (parseMailbox, wireAddress), so the probe
// asks for the envelope the sender will give; "" (the null sender) when
// from is empty or not an address a message could carry.
func probeSender(from string) string {
	if from == "" {
		return ""
	}
	a, err := parseMailbox("from", from)
	if err != nil {
		return ""
	}
	wire, _, err := wireAddress("from", a.Address)
	if err != nil {
		return ""
	}
	return wire
}

// authRefusal reports whether the refusal te is about authentication:
// 530 (authentication required, RFC 4954), an enhanced status of 5.7.0
// (RFC 4954's "authentication required") or 5.7.57 (client not
// authenticated to send mail), or text that speaks of authenticating.
// Other 5.7.x refusals (5.7.1: delivery not authorized, the sender
// refused by policy) are not.
func authRefusal(te *textproto.Error) bool {
	enh, _, _ := strings.Cut(te.Msg, " ")
	return te.Code == 530 || enh == "5.7.0" || enh == "5.7.57" ||
		strings.Contains(strings.ToLower(te.Msg), "authenticat")
}

// tlsAdvice says what to do about a TLS handshake with host that failed
// with err. Nothing in an environment turns certificate verification off:
// the certificate must verify.
func tlsAdvice(err error, host string) string {
	var hostErr x509.HostnameError
	var verifyErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &hostErr):
		return fmt.Sprintf("the server's certificate is for %s, not for %s, the host tidings dialled (smtp.host): set smtp.host to a name the certificate is for that reaches this server, or have the server present a certificate for %s",
			certNames(hostErr.Certificate), host, host)
	case errors.As(err, &verifyErr):
		return "the server's certificate does not verify on this machine: have the server present one from a CA this machine trusts, or trust its CA here (add it to the system's trust store, or on Linux point SSL_CERT_FILE at a PEM file holding it and the system's CAs, for every tidings process); for a test server on a trusted network only, smtp.tls: none sends without TLS"
	}
	return "check the server's TLS setup (protocol versions, ciphers) and that this is its STARTTLS port"
}

// certNames lists the host names and IP addresses cert is for (its
// subject alternative names: Go reads host names from nowhere else), at
// most five of them and how many more; "no host name" when it has none.
func certNames(cert *x509.Certificate) string {
	var names []string
	if cert != nil {
		names = slices.Clone(cert.DNSNames)
		for _, ip := range cert.IPAddresses {
			names = append(names, ip.String())
		}
	}
	const most = 5
	switch {
	case len(names) == 0:
		return "no host name (it has no subject alternative names)"
	case len(names) > most:
		return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
	}
	return strings.Join(names, ", ")
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
