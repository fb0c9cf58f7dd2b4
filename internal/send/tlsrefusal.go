package send

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
)

// noStartTLSAdvice says what to do about a server that does not offer
// STARTTLS when the environment requires it (Check and Pool say it alike).
const noStartTLSAdvice = "the server does not offer STARTTLS but tls is starttls: use a server or port that offers STARTTLS (587), or tls: tls for port 465"

// tlsRefusal returns what to do about a connection that failed with err
// because TLS could not be had as cfg requires (STARTTLS not offered, a
// certificate that does not verify), prefixed by the fact that nothing was
// sent; "" for any other failure.
//
// go-mail reports a server without STARTTLS under TLSMandatory with an
// error of its own text and no sentinel; isNoStartTLS matches that text
// here, in one place, and TestTLSRefusalSaysWhatToDo fails should go-mail
// change it.
func tlsRefusal(err error, cfg Config) string {
	var hostErr x509.HostnameError
	var verifyErr *tls.CertificateVerificationError
	switch {
	case cfg.TLS == TLSStartTLS && isNoStartTLS(err):
		return "nothing was sent, not even a login, in clear: " + noStartTLSAdvice
	case errors.As(err, &hostErr), errors.As(err, &verifyErr):
		return "nothing was sent: " + tlsAdvice(err, cfg.Host)
	}
	return ""
}

func isNoStartTLS(err error) bool {
	return strings.Contains(err.Error(), "does not support STARTTLS")
}
