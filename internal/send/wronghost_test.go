package send_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestWrongHostCertificateIsRefused: a relay whose certificate is for
// other host names than the one tidings dials (smtp.host), over STARTTLS
// or implicit TLS, dialled by IP address or by name: the sender refuses it
// before any command after STARTTLS (the capture server receives no
// message, and nothing is retried as if it might have been), with an
// error that names the host dialled, the names the certificate is for,
// and what to do (smtp.host); a temporary failure, as every TLS refusal.
//
// Before the fix the error named the certificate's names only when Go's
// own x509 text did (a host name dialled), never for an IP address
// ("doesn't contain any IP SANs"): the operator was told to set smtp.host
// to "a name the certificate is for" without being told which.
func TestWrongHostCertificateIsRefused(t *testing.T) {
	t.Parallel()
	cert, _, err := smtpcapture.SelfSigned("relay.example", "mx.relay.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, implicit := range []bool{false, true} {
		for _, host := range []string{"127.0.0.1", "localhost"} {
			t.Run(fmt.Sprintf("implicit %v, %s", implicit, host), func(t *testing.T) {
				t.Parallel()
				srv := startCapture(t, smtpcapture.Config{Certificate: cert, ImplicitTLS: implicit})
				cfg := plainConfig(srv)
				cfg.Host, cfg.TLS = host, send.TLSStartTLS
				if implicit {
					cfg.TLS = send.TLSImplicit
				}
				err := getAndSend(t, newPool(t, cfg, 1), sampleMessage("jane@example.org"))
				temporarySaying(t, err, "nothing was sent", host, "relay.example, mx.relay.example", "smtp.host")
				if srv.Count() != 0 {
					t.Errorf("capture server received %d messages", srv.Count())
				}
				if strings.Contains(err.Error(), "trust its CA") {
					t.Errorf("error %q: the certificate's names are the fault, not (yet) its CA", err)
				}
			})
		}
	}
}
