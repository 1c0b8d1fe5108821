package topology

import "fmt"

// TLS settings a topology file may name in tls.
const (
	// TLSPassthrough: agents speak TLS to <service>.<domain>, and the proxies
	// route each connection by its SNI to the service's ALB HTTPS listener
	// without terminating it; agents verify the ALB's certificate.
	TLSPassthrough = "passthrough"
)

// DefaultTLSPort is a service's default port with tls: passthrough, where
// agents speak TLS (https://<service>.<domain>, gRPC included).
const DefaultTLSPort = 443

// TLSPassthrough reports whether the proxies pass the agents' TLS through
// to the ALBs unopened (tls: passthrough).
func (t *Topology) TLSPassthrough() bool { return t.TLS == TLSPassthrough }

// tls checks the tls setting and what passthrough needs: every service's
// upstream is the ALB's HTTPS listener, and no consumer header (the proxies
// never see the requests inside the TLS). Port sharing between http and
// grpc services is allowed with it (services: SNI routes them). In
// proxy.mode none the NLB forwards the agents' TLS to the ALBs the same
// way, by port (proxyless checks the rest).
func (v *validator) tls(t *Topology) {
	switch t.TLS {
	case "":
		return
	case TLSPassthrough:
	default:
		v.add("tls", "%q is not a setting; use passthrough (agents' TLS goes through the proxies unopened to each ALB's HTTPS listener, routed by SNI), or leave tls out for routing by host name", t.TLS)
		return
	}
	for i, s := range t.Services {
		if !s.UpstreamTLS && s.Protocol != ProtocolGRPC { // grpc already says so
			v.add(fmt.Sprintf("services[%d].upstreamTls", i), "is false with tls: passthrough: the proxies forward the agents' TLS unopened, so it must end at the ALB's HTTPS listener, whose certificate for %s.%s agents verify; set upstreamTls: true and upstreamPort to that listener's port (it defaults to port, %d with passthrough)",
				s.Name, orDefault(t.Domain, DefaultDomain), DefaultTLSPort)
		}
	}
	if h := t.Proxy.ConsumerHeader; h != nil && *h {
		v.add("proxy.consumerHeader", "is true with tls: passthrough: the proxies never see the requests inside the agents' TLS, so they cannot add X-Obslink-Consumer; remove consumerHeader (with proxyProtocol the proxies still log each connection's consumer)")
	}
}

// applyTLSDefaults gives services without a port the TLS port under
// passthrough; it runs after validation, before applyDefaults (which then
// defaults upstreamPort to it).
func (t *Topology) applyTLSDefaults() {
	if !t.TLSPassthrough() {
		return
	}
	for i := range t.Services {
		if t.Services[i].Port == 0 {
			t.Services[i].Port = DefaultTLSPort
		}
	}
}
