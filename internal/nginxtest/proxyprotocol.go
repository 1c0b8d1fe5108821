package nginxtest

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// ProxyHeader is a proxy protocol v2 header as an AWS Network Load Balancer
// sends it. With vpce == "" and a zero src it is a LOCAL header, as on the
// NLB's health checks (no client, no TLV). Otherwise a PROXY header for TCP
// over IPv4 from src to dst, carrying the AWS TLV (type 0xEA) with subtype
// 0x01, the VPC endpoint id, when vpce is not empty.
// Layout: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt and
// the NLB guide's "Proxy protocol" section (PP2_TYPE_AWS, PP2_SUBTYPE_AWS_VPCE_ID).
func ProxyHeader(src, dst netip.AddrPort, vpce string) []byte {
	h := []byte("\r\n\r\n\x00\r\nQUIT\n")
	if !src.IsValid() {
		return append(h, 0x20, 0x00, 0, 0) // v2, LOCAL, AF_UNSPEC, no addresses
	}
	body := make([]byte, 0, 64)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	body = append(body, s4[:]...)
	body = append(body, d4[:]...)
	body = binary.BigEndian.AppendUint16(body, src.Port())
	body = binary.BigEndian.AppendUint16(body, dst.Port())
	if vpce != "" {
		body = append(body, 0xEA)
		body = binary.BigEndian.AppendUint16(body, uint16(1+len(vpce)))
		body = append(body, 0x01)
		body = append(body, vpce...)
	}
	h = append(h, 0x21, 0x11) // v2, PROXY; TCP over IPv4
	h = binary.BigEndian.AppendUint16(h, uint16(len(body)))
	return append(h, body...)
}

// AgentAddr is the address a test's agent has in its own VPC, as the
// proxy protocol header names it.
var AgentAddr = netip.MustParseAddrPort("10.1.2.3:40000")

// Client returns an HTTP client for n: when n expects proxy protocol, every
// connection opens with the header an NLB would send for a consumer behind
// VPC endpoint vpce (AgentAddr as the client; a LOCAL header when vpce is
// ""). h2c makes it speak cleartext HTTP/2 (gRPC).
func (n *Nginx) Client(vpce string, h2c bool) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	if h2c {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	}
	if n.Config.ProxyProtocol {
		tr.DialContext = ProxyDialer(vpce)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}
}

// ProxyDialer dials addr and opens the connection with the proxy protocol
// header an NLB would send for a consumer behind VPC endpoint vpce
// (AgentAddr as the client; a LOCAL header when vpce is "").
func ProxyDialer(vpce string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		src := AgentAddr
		if vpce == "" {
			src = netip.AddrPort{}
		}
		dst := netip.MustParseAddrPort(addr)
		if _, err := c.Write(ProxyHeader(src, dst, vpce)); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}
