// Package e2e holds the end-to-end tests of the real tidings binary: TestMain
// builds cmd/tidings once, and every test runs it exactly as an operator
// would (exec, a tidings.yaml named by TIDINGS_CONFIG, campaign files in a
// temporary directory) against a real redis-server and SMTP servers we did not
// write: Debian's aiosmtpd (captures to a Maildir) and postfix's smtp-sink
// (dumps one file per mail transaction).
//
// The tests check what the product promises: every accepted recipient gets
// exactly one message in their own language and nobody refused or invalid
// gets any; subjects survive RFC 2047 intact; data cannot inject headers and
// is escaped in HTML; a worker killed with SIGKILL never causes a second
// send; pause holds across three workers; the canary waits for approval; and
// the demo's captured mails are all in the right language.
//
// Under CI=true a missing redis-server, aiosmtpd or smtp-sink fails the
// tests; elsewhere a missing SMTP server skips the test that needs it, and a
// missing redis-server falls back to an embedded one (internal/redistest).
// The package has test files only.
package e2e
