package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Bytes on the wire are counted by the kernel, not by the programs under
// test: every TCP socket keeps tcpi_bytes_acked (bytes it sent that the
// peer acknowledged) and tcpi_bytes_received in its tcp_info, and the
// sock_diag netlink interface (what `ss -ti` uses) reports it for every
// socket of the machine. Reading the client side of every connection to
// smtp-sink counts what tidings' workers and the bare sender put on the wire,
// without a proxy in between and without touching their code.

// tcpCounters is one TCP connection's byte counters as the kernel keeps them.
type tcpCounters struct {
	Cookie     uint64 // the kernel's socket cookie: unique while the socket lives
	LocalPort  int
	RemotePort int
	Sent       uint64 // tcpi_bytes_acked - 1 (the SYN): payload bytes sent and acknowledged
	Received   uint64 // tcpi_bytes_received: payload bytes received
}

// Constants of linux/inet_diag.h, linux/sock_diag.h and net/tcp_states.h.
const (
	inetDiagInfo         = 2  // INET_DIAG_INFO: the attribute holding struct tcp_info
	inetDiagReqBytecode  = 1  // INET_DIAG_REQ_BYTECODE: a filter run by the kernel
	inetDiagBCDEq        = 12 // INET_DIAG_BC_D_EQ: remote port equals (Linux 4.16)
	inetDiagReqLen       = 56 // sizeof(struct inet_diag_req_v2)
	inetDiagMsgLen       = 72 // sizeof(struct inet_diag_msg)
	tcpTimeWait          = 6
	tcpListen            = 10
	tcpNewSynRecv        = 12
	tcpStatesWithoutInfo = 1<<tcpTimeWait | 1<<tcpListen | 1<<tcpNewSynRecv
)

// tcpConnsTo returns the counters of every IPv4 TCP connection on this
// machine whose remote port is port (the client side of connections to a
// local server on port).
func tcpConnsTo(port int) ([]tcpCounters, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("open sock_diag socket: %w", err)
	}
	defer syscall.Close(fd)

	// The request, then a filter (bytecode) that keeps the sockets whose
	// remote port is port: one D_EQ op that jumps to the end (accept) when
	// true and past it (reject) when false; the port is in the second op's
	// "no" field. Filtering in the kernel keeps a sample cheap on a machine
	// with many sockets.
	const bcLen = 8
	req := make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqLen+syscall.SizeofRtAttr+bcLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence number
	r := req[syscall.NLMSG_HDRLEN:]
	r[0] = syscall.AF_INET
	r[1] = syscall.IPPROTO_TCP
	r[2] = 1 << (inetDiagInfo - 1) // ask for tcp_info
	ne.PutUint32(r[4:], 0xffffffff&^tcpStatesWithoutInfo)
	a := r[inetDiagReqLen:]
	ne.PutUint16(a[0:], syscall.SizeofRtAttr+bcLen)
	ne.PutUint16(a[2:], inetDiagReqBytecode)
	bc := a[syscall.SizeofRtAttr:]
	bc[0], bc[1] = inetDiagBCDEq, bcLen // code, yes
	ne.PutUint16(bc[2:], bcLen+4)       // no
	ne.PutUint16(bc[6:], uint16(port))  // second op's "no": the port
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("query sock_diag: %w", err)
	}

	var out []tcpCounters
	buf := make([]byte, 64<<10)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("read sock_diag: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("parse sock_diag reply: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return out, nil
			case syscall.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return nil, fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
					}
				}
				return nil, errors.New("sock_diag: error reply")
			}
			if c, ok := parseDiagMsg(m.Data); ok && c.RemotePort == port {
				out = append(out, c)
			}
		}
	}
}

// parseDiagMsg reads one struct inet_diag_msg and its INET_DIAG_INFO
// attribute; ok is false for a socket without tcp_info (e.g. TIME_WAIT).
func parseDiagMsg(b []byte) (c tcpCounters, ok bool) {
	if len(b) < inetDiagMsgLen {
		return c, false
	}
	ne := binary.NativeEndian
	c.LocalPort = int(binary.BigEndian.Uint16(b[4:]))
	c.RemotePort = int(binary.BigEndian.Uint16(b[6:]))
	c.Cookie = uint64(ne.Uint32(b[44:])) | uint64(ne.Uint32(b[48:]))<<32
	attrs := b[inetDiagMsgLen:]
	for len(attrs) >= 4 {
		l, t := int(ne.Uint16(attrs[0:])), ne.Uint16(attrs[2:])
		if l < 4 || l > len(attrs) {
			break
		}
		if t == inetDiagInfo {
			var info unix.TCPInfo
			v := attrs[4:l]
			// The kernel's struct may be shorter (older kernel) or longer
			// (newer) than x/sys's; the fields used are old (Linux 4.1).
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&info)), unsafe.Sizeof(info)), v)
			if len(v) < int(unsafe.Offsetof(info.Bytes_received)+8) {
				return c, false
			}
			// bytes_acked counts the SYN of an actively opened
			// connection, which carries no payload.
			c.Sent, c.Received = info.Bytes_acked, info.Bytes_received
			if c.Sent > 0 {
				c.Sent--
			}
			return c, true
		}
		attrs = attrs[min((l+3)&^3, len(attrs)):]
	}
	return c, false
}

// wireMeter accumulates the byte counters of the connections to one port
// over a period: sampled now and then, it also counts connections that
// closed before the end (with what they had sent at their last sample).
type wireMeter struct {
	port   int
	ignore map[uint64]bool // connections that existed before the period began
	seen   map[uint64]tcpCounters
}

// newWireMeter starts a period for connections to port: connections open now
// are not counted.
func newWireMeter(port int) (*wireMeter, error) {
	m := &wireMeter{port: port, ignore: map[uint64]bool{}, seen: map[uint64]tcpCounters{}}
	cs, err := tcpConnsTo(port)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		m.ignore[c.Cookie] = true
	}
	return m, nil
}

// sample records the current counters of every connection to the port.
func (m *wireMeter) sample() error {
	cs, err := tcpConnsTo(m.port)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if !m.ignore[c.Cookie] {
			m.seen[c.Cookie] = c
		}
	}
	return nil
}

// total returns the bytes sent and received by the connections seen in the
// period, and how many there were.
func (m *wireMeter) total() (sent, received uint64, conns int) {
	for _, c := range m.seen {
		sent += c.Sent
		received += c.Received
	}
	return sent, received, len(m.seen)
}
