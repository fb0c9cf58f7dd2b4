// Package redisserver runs an embedded, in-process Redis (miniredis) for
// `tidings rehearse` and `tidings demo`, where nothing may leave the machine
// and no redis-server needs to be installed.
//
// miniredis never expires keys on its own: time only moves when FastForward
// is called. Server advances it with the real elapsed time every few
// milliseconds, so TTLs (locks, rate-limiter state, asynq leases) behave as on
// a real Redis.
package redisserver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
)

// tick is how often the embedded clock is advanced; TTLs expire with at most
// this much delay. Each advance sorts every key under miniredis' lock
// (milliseconds at 10k keys), so it is not done more often than needed: the
// shortest TTL tidings sets is the 3 s worker heartbeat.
const tick = 50 * time.Millisecond

// Server is a running embedded Redis.
type Server struct {
	mr   *miniredis.Miniredis
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start starts an embedded Redis on 127.0.0.1 on a free port. It runs until
// Close is called or ctx is done.
func Start(ctx context.Context) (*Server, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	if err := mr.Server().Register("CONFIG", config); err != nil {
		mr.Close()
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	s := &Server{mr: mr, stop: make(chan struct{}), done: make(chan struct{})}
	go s.clock(ctx)
	return s, nil
}

// clock advances miniredis' clock by the real elapsed time, and closes the
// server when ctx is done or Close is called.
func (s *Server) clock(ctx context.Context) {
	defer close(s.done)
	defer s.mr.Close()
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mr.FastForward(now.Sub(last))
			last = now
		}
	}
}

// config answers CONFIG GET maxmemory-policy with noeviction, which is
// true of miniredis (it has no maxmemory and never evicts): a worker reads
// the policy and holds its sends unless it is noeviction, and would
// otherwise warn, in every demo and rehearsal, that it cannot tell. Every
// other CONFIG command is refused, as miniredis refused them all.
func config(c *server.Peer, cmd string, args []string) {
	if len(args) == 2 && strings.EqualFold(args[0], "GET") && strings.EqualFold(args[1], "maxmemory-policy") {
		c.WriteMapLen(1)
		c.WriteBulk("maxmemory-policy")
		c.WriteBulk("noeviction")
		return
	}
	c.WriteError("ERR the embedded Redis answers only CONFIG GET maxmemory-policy")
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.mr.Addr() }

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	return nil
}
