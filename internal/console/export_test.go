package console

import "time"

// SetWaits sets how long s waits for a request's body and for a kept-alive
// connection's next request (tests: shorter than a test's patience).
func SetWaits(s *Server, body, idle time.Duration) { s.bodyWait, s.idleWait = body, idle }

// ClientKey is the address a client's sign-ins are limited by.
var ClientKey = clientKey

// OpenStreams is how many live streams s serves now.
func OpenStreams(s *Server) int { return s.streams.openStreams() }
