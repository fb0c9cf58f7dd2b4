package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestCampaignOverMutualTLS: a Redis that takes only clients with a
// certificate its CA signed (tls-auth-clients yes), the CA a private one
// no trust store holds (no SSL_CERT_FILE), reached with redis.tls_ca_file,
// redis.tls_cert_file and redis.tls_key_file in the config file. doctor
// passes Redis's reachability and shows the client certificate; a campaign
// reaches done with everyone mailed once; status and pause work, also
// through a Sentinel over mutual TLS (pause, after done, refuses it as
// done: it read the campaign). Without
// the client certificate, status exits 3 saying to set
// redis.tls_cert_file; with the key of another certificate, it exits 2
// (a configuration error) before connecting.
func TestCampaignOverMutualTLS(t *testing.T) {
	t.Parallel()
	m := redistest.StartMutualTLSServer(t)
	addr, ca, caFile := m.TLSAddr, m.CA, m.CAFile
	now := time.Now()
	certFile, keyFile := ca.ClientCert(t, "tidings-e2e", now.Add(-time.Hour), now.Add(24*time.Hour))

	srv := startSMTPSink(t)
	e := newEnvWith(t, "url: rediss://"+addr+"/0\n      tls_ca_file: "+caFile+"\n      tls_cert_file: "+certFile+"\n      tls_key_file: "+keyFile, srv.Port(), 2)

	doc := e.run("doctor", "--env", envName)
	for _, want := range []string{"PASS  redis reachable", "redis client certificate", certFile, "tidings-e2e", "redis CA certificate", caFile} {
		if !strings.Contains(doc.stdout, want) {
			t.Errorf("doctor over mutual TLS: no %q\n%s", want, doc)
		}
	}

	const name = "e2e-mtls"
	rows := simpleRows(12, []string{"en", "de"})
	e.stageSimple(campaignSpec{name: name, canary: 1, size: 4, approve: true}, rows)
	w := e.startWorker("worker-1", 2)
	e.waitState(name, "awaiting-approval", 2*time.Minute, w)
	for _, args := range [][]string{
		{"status", name, "--env", envName},
		{"pause", name, "--env", envName, "--reason", "mtls check"},
		{"resume", name, "--env", envName},
		{"approve", name, "--env", envName},
	} {
		if res := e.run(args...); res.code != 0 {
			t.Fatalf("over mutual TLS: %s", res)
		}
	}
	st := e.waitState(name, "done", 3*time.Minute, w)
	checkOnce(t, srv, rows, true)
	if st.Counts["sent"] != int64(len(rows)) {
		t.Errorf("done with counts %v, want %d sent", st.Counts, len(rows))
	}

	// The same Redis through a Sentinel over mutual TLS: status and pause
	// work (the settings apply to the Sentinel's connection and the
	// master's).
	sentinel := redistest.StartTLSSentinel(t, m)
	viaSentinel := newEnvWith(t, "tls: true\n      sentinel: { master: "+redistest.MasterName+", addrs: ["+sentinel+"] }\n      tls_ca_file: "+caFile+"\n      tls_cert_file: "+certFile+"\n      tls_key_file: "+keyFile, srv.Port(), 2)
	// status reads the campaign (done); pause reads it too, and refuses a
	// done campaign: both read Redis through the Sentinel.
	if res := viaSentinel.run("status", name, "--env", envName); res.code != 0 || !strings.Contains(res.stdout, "done") {
		t.Errorf("status through the Sentinel over mutual TLS: want exit 0 saying done: %s", res)
	}
	if res := viaSentinel.run("pause", name, "--env", envName, "--reason", "x"); res.code != 1 || !strings.Contains(res.stderr, "the campaign is done") {
		t.Errorf("pause through the Sentinel over mutual TLS: want exit 1, the campaign is done: %s", res)
	}

	// The client certificate left out: Redis refuses the connection.
	noCert := newEnvWith(t, "url: rediss://"+addr+"/0\n      tls_ca_file: "+caFile, srv.Port(), 2)
	if res := noCert.run("status", name, "--env", envName); res.code != 3 || !strings.Contains(res.stderr, "redis.tls_cert_file") {
		t.Errorf("without a client certificate: want exit 3 naming redis.tls_cert_file: %s", res)
	}
	other, err := redistest.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey := other.ClientCert(t, "x", now.Add(-time.Hour), now.Add(time.Hour))
	badKey := newEnvWith(t, "url: rediss://"+addr+"/0\n      tls_ca_file: "+caFile+"\n      tls_cert_file: "+certFile+"\n      tls_key_file: "+otherKey, srv.Port(), 2)
	if res := badKey.run("status", name, "--env", envName); res.code != 2 || !strings.Contains(res.stderr, "redis.tls_key_file") || !strings.Contains(res.stderr, "is not the key of the certificate in "+certFile) {
		t.Errorf("the key of another certificate: want exit 2 naming redis.tls_key_file: %s", res)
	}
}
