package redistest

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on loopback in front of one Redis node, for a
// replica's replication link ([SentinelOptions.ReplicationProxy]): the
// replica's replicaof names the proxy, and [Proxy.Stall] holds what the
// node sends (the replication stream) until [Proxy.Release], so that the
// replica falls behind by whatever the master accepts meanwhile. What the
// replica sends (its REPLCONF ACKs, every second) always passes: the
// master still sees it connected with a small lag, only its acknowledged
// offset stays behind, and WAIT counts it no more.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	stalled bool
	closed  bool
	links   map[*proxyLink]bool
}

// proxyLink is one connection through the proxy: down from the client
// (the replica), up to the target (the master).
type proxyLink struct {
	down, up net.Conn
	once     sync.Once
	closed   bool // under Proxy.mu
}

// StartProxy starts a proxy to target on a free loopback port; it is
// closed when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := newProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func newProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("redistest: listen for a proxy to %s: %w", target, err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*proxyLink]bool{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the proxy's address, 127.0.0.1:port: the one to replicate
// from.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the address of the node the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Stall holds every byte the target sends from now on (on open
// connections and new ones) until Release; bytes already passed on are
// the replica's. A connection that ends while stalled drops what it held:
// a replica promoted meanwhile (REPLICAOF NO ONE closes its link) never
// receives it.
func (p *Proxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

// Release passes on what Stall held, and everything after it.
func (p *Proxy) Release() {
	p.mu.Lock()
	p.stalled = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	links := make([]*proxyLink, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, l := range links {
		p.end(l)
	}
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		up, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			_ = down.Close() // the replica tries again, as with a master down
			continue
		}
		l := &proxyLink{down: down, up: up}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_, _ = down.Close(), up.Close()
			return
		}
		p.links[l] = true
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { // the replica's side: never held
			defer p.wg.Done()
			_, _ = io.Copy(up, down)
			p.end(l)
		}()
		go func() {
			defer p.wg.Done()
			p.forward(l)
			p.end(l)
		}()
	}
}

// forward copies what the target sends to the client, holding each read
// while the proxy is stalled (the reads stop meanwhile, and the rest
// waits in the target's output buffer).
func (p *Proxy) forward(l *proxyLink) {
	buf := make([]byte, 32<<10)
	for {
		n, err := l.up.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.stalled && !l.closed {
				p.cond.Wait()
			}
			gone := l.closed
			p.mu.Unlock()
			if gone {
				return
			}
			if _, err := l.down.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// end closes both sides of l and wakes its held reader.
func (p *Proxy) end(l *proxyLink) {
	l.once.Do(func() {
		_, _ = l.down.Close(), l.up.Close()
		p.mu.Lock()
		l.closed = true
		delete(p.links, l)
		p.cond.Broadcast()
		p.mu.Unlock()
	})
}
