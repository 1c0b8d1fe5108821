package topology

import "fmt"

// TLS settings a topology file may name in tls and services[].tls.
const (
	// TLSPassthrough: agents speak TLS to <service>.<domain>, and the proxies
	// route each connection by its SNI to the service's ALB HTTPS listener
	// without terminating it; agents verify the ALB's certificate.
	TLSPassthrough = "passthrough"
	// TLSNone: agents speak HTTP (or cleartext gRPC) to the proxies, which
	// route by Host and speak to the ALB as upstreamTls says.
	TLSNone = "none"
)

// DefaultTLSPort is a service's default port with tls: passthrough, where
// agents speak TLS (https://<service>.<domain>, gRPC included).
const DefaultTLSPort = 443

// Passthrough reports whether the proxies pass the agents' TLS for s
// through to its ALB unopened: services[].tls, else the topology's tls.
func (t *Topology) Passthrough(s Service) bool { return orDefault(s.TLS, t.TLS) == TLSPassthrough }

// TLSPassthrough reports whether the proxies pass the agents' TLS through
// for every service (tls: passthrough, which no service overrides).
func (t *Topology) TLSPassthrough() bool {
	for _, s := range t.Services {
		if !t.Passthrough(s) {
			return false
		}
	}
	return len(t.Services) > 0
}

// tls checks the tls settings and what passthrough needs: the service's
// upstream is the ALB's HTTPS listener, and a consumer header needs a
// service whose requests the proxies see. Port sharing is checked with the
// services (an SNI-routed port may mix http and grpc, not TLS and HTTP).
// In proxy.mode none the NLB forwards the agents' TLS to the ALBs the same
// way, by port (proxyless checks the rest).
func (v *validator) tls(t *Topology) {
	setting := func(path, value string) bool {
		switch value {
		case "", TLSPassthrough, TLSNone:
			return true
		}
		v.add(path, "%q is not a setting; use passthrough (agents' TLS goes through the proxies unopened to the ALB's HTTPS listener, routed by SNI) or none (agents speak HTTP to the proxies, which route by host name; the default)", value)
		return false
	}
	if !setting("tls", t.TLS) {
		return
	}
	sees := false // the proxies see some service's requests
	for i, s := range t.Services {
		if !setting(fmt.Sprintf("services[%d].tls", i), s.TLS) {
			continue
		}
		if !t.Passthrough(s) {
			sees = true
			continue
		}
		if !s.UpstreamTLS && s.Protocol != ProtocolGRPC { // grpc already says so
			v.add(fmt.Sprintf("services[%d].upstreamTls", i), "is false with tls: passthrough: the proxies forward the agents' TLS unopened, so it must end at the ALB's HTTPS listener, whose certificate for %s.%s agents verify; set upstreamTls: true and upstreamPort to that listener's port (it defaults to port, %d with passthrough), or set this service's tls: none",
				s.Name, orDefault(t.Domain, DefaultDomain), DefaultTLSPort)
		}
	}
	if h := t.Proxy.ConsumerHeader; h != nil && *h && !sees && len(t.Services) > 0 {
		v.add("proxy.consumerHeader", "is true with tls: passthrough for every service: the proxies never see the requests inside the agents' TLS, so they cannot add X-Obslink-Consumer; remove consumerHeader (with proxyProtocol the proxies still log each connection's consumer)")
	}
}

// applyTLSDefaults gives services without a port the TLS port under
// passthrough; it runs after validation, before applyDefaults (which then
// defaults upstreamPort to it).
func (t *Topology) applyTLSDefaults() {
	for i, s := range t.Services {
		if s.Port == 0 && t.Passthrough(s) {
			t.Services[i].Port = DefaultTLSPort
		}
	}
}
