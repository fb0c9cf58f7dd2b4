package redisconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// tlsHint says what to do when err, from dialling the Redis of opts (its
// addresses in setting), is about TLS: a certificate this machine does
// not trust, one for another name, one expired; a rediss:// URL at a port
// that does not speak TLS, or a redis:// one at a port that does. It is
// "" for any other error: Redis may then well not run there.
func tlsHint(err error, opts *redis.UniversalOptions, setting string) string {
	var (
		unknown  x509.UnknownAuthorityError
		host     x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		verified *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return "the server answered with a certificate signed by an authority this machine does not trust: add that CA's certificate to the system's trusted CAs, or set redis.tls_ca_file (TIDINGS_REDIS_TLS_CA_FILE) to a PEM file holding it (then only that CA is trusted), or point SSL_CERT_FILE at a PEM file holding it and the system's CAs"
	case errors.As(err, &host):
		return fmt.Sprintf("the server answered with a certificate for %s, not %s: write a name the certificate is for in %s, or have the certificate issued for %s", certNames(host.Certificate), host.Host, setting, host.Host)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "the server answered with a certificate that has expired or is not valid yet (" + invalid.Detail + "): renew the server's certificate, or check this machine's clock"
	case errors.As(err, &verified):
		return "the server answered with a certificate this machine refuses: have it reissued by a CA this machine trusts (redis.tls_ca_file or SSL_CERT_FILE), for the host in " + setting
	case errors.As(err, &record):
		return "the server there does not speak TLS at that port: write redis:// instead of rediss:// in " + setting + ", or give the port Redis takes TLS at (tls-port)"
	}
	if h := clientCertHint(err); h != "" {
		return h
	}
	if opts.TLSConfig != nil && errors.Is(err, context.DeadlineExceeded) {
		return "check " + setting + ": that Redis runs there, and that it takes TLS at that port (tls-port; rediss:// in the URL): a server that does not speak TLS leaves the handshake unanswered; write redis:// if it does not"
	}
	if opts.TLSConfig == nil && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return "the server there closed the connection without answering: if Redis takes only TLS at that port (tls-port), write rediss:// instead of redis:// in " + setting + "; else check that the server at that address is Redis"
	}
	return ""
}

// clientCertHint says what to do when the server refused the client
// certificate it asks for (tls-auth-clients): none was shown, or one it
// does not take. Go names the server's TLS alert only in its error's
// text ("remote error: tls: certificate required").
func clientCertHint(err error) string {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		return ""
	}
	switch alert := op.Err.Error(); alert {
	case "tls: certificate required":
		return "the server asks for a client certificate (tls-auth-clients) and was shown none: set redis.tls_cert_file and redis.tls_key_file (TIDINGS_REDIS_TLS_CERT_FILE, TIDINGS_REDIS_TLS_KEY_FILE) to the PEM certificate and key Redis takes"
	case "tls: unknown certificate authority", "tls: bad certificate", "tls: unknown certificate", "tls: expired certificate", "tls: unsupported certificate", "tls: revoked certificate":
		return "the server refused the client certificate in redis.tls_cert_file (" + alert + "): have it issued by the CA Redis trusts (its tls-ca-cert-file), valid now, and point redis.tls_cert_file and redis.tls_key_file at it and its key"
	}
	return ""
}

// sentinelTLSHint is tlsHint for a TLS handshake with the first Sentinel
// of opts, and a PING over it: the error go-redis retried until its
// deadline and did not keep. It is "" when they worked.
func sentinelTLSHint(ctx context.Context, ue *UnreachableError, opts *redis.UniversalOptions) string {
	if opts.TLSConfig == nil || len(opts.Addrs) == 0 {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	d := tls.Dialer{Config: opts.TLSConfig}
	c, err := d.DialContext(ctx, "tcp", opts.Addrs[0])
	if err == nil {
		defer c.Close()
		// Under TLS 1.3 a server that wants a client certificate sends
		// its alert after the handshake, and closes: read it first. A
		// PING written after that close draws a reset, which can discard
		// the alert unread (1 run in 3 here). Nothing read within a
		// moment: the server took the handshake, and answers a PING.
		_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			if _, err = c.Write([]byte("PING\r\n")); err == nil {
				_, err = c.Read(make([]byte, 1))
			}
		}
	}
	if err == nil {
		return ""
	}
	return tlsHint(err, opts, ue.Setting)
}

// certNames lists the names and addresses cert is for.
func certNames(cert *x509.Certificate) string {
	if cert == nil {
		return "other names"
	}
	var names []string
	names = append(names, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, net.IP(ip).String())
	}
	if len(names) == 0 {
		return "no name (subject " + cert.Subject.CommonName + ", no subject alternative name)"
	}
	return strings.Join(names, ", ")
}
