package send_test

import (
	"context"
	"fmt"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// A pool of reused connections sends messages; failures are classified once.
func Example() {
	ctx := context.Background()
	srv, err := smtpcapture.Start(ctx, smtpcapture.Config{
		Fault: func(rcpt string) error {
			if rcpt == "gone@example.org" {
				return smtpcapture.Reject(550, "5.1.1 no such user")
			}
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	defer func() { _ = srv.Close() }()

	pool := send.NewPool(send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}, 4)
	defer func() { _ = pool.Close() }()
	conn, err := pool.Get(ctx)
	if err != nil {
		panic(err)
	}
	defer pool.Put(conn)

	for _, to := range []string{"ana@example.org", "gone@example.org"} {
		err := conn.Send(ctx, &send.Message{
			From:    "Altea <community@altea.example>",
			To:      to,
			Subject: "Bienvenue 🎉",
			Text:    "Bonjour",
			HTML:    "<p>Bonjour</p>",
		})
		if e := send.Classify(err); e != nil {
			fmt.Printf("%s: %v (temporary %v)\n", to, e, e.Temporary)
			continue
		}
		fmt.Printf("%s: sent\n", to)
	}
	fmt.Println("captured:", srv.Count())
	// Output:
	// ana@example.org: sent
	// gone@example.org: smtp 550 5.1.1: no such user (temporary false)
	// captured: 1
}
