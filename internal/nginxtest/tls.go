package nginxtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/obslink/obslink/constructs/proxyfleet"
)

// StreamModule returns what proxyfleet.Config.StreamModule must be for the
// nginx at bin: the file of its dynamic stream module, or "" when the module
// is built in. Debian builds it as a module (libnginx-mod-stream; trixie's
// lives in the debootstrap root next to the wrapper). Where the module is
// missing, tb skips (fails under OBSLINK_REQUIRE_ALL=1).
func StreamModule(tb testing.TB, bin string) string {
	tb.Helper()
	out, err := exec.Command(bin, "-V").CombinedOutput()
	if err != nil {
		tb.Fatalf("%s -V: %v\n%s", bin, err, out)
	}
	v := string(out)
	if !strings.Contains(v, "--with-stream=dynamic") {
		if strings.Contains(v, "--with-stream ") || strings.Contains(v, "--with-stream\n") {
			return "" // built in
		}
		skipOrFail(tb, bin+" has no stream module (--with-stream)")
	}
	dir := "modules" // nginx's default, under its prefix
	if m := regexp.MustCompile(`--modules-path=(\S+)`).FindStringSubmatch(v); m != nil {
		dir = m[1]
	}
	// The trixie wrapper runs nginx from a root beside it: its paths live there.
	root := ""
	if _, err := os.Stat(filepath.Join(filepath.Dir(bin), "usr", "sbin", "nginx")); err == nil {
		root = filepath.Dir(bin)
	}
	mod := filepath.Join(root, dir, "ngx_stream_module.so")
	if _, err := os.Stat(mod); err != nil {
		skipOrFail(tb, fmt.Sprintf("%s's stream module %s is not installed (Debian: apt-get install libnginx-mod-stream; both: make testdeps)", bin, mod))
	}
	return mod
}

func skipOrFail(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("OBSLINK_REQUIRE_ALL") == "1" {
		tb.Fatalf("%s; OBSLINK_REQUIRE_ALL=1 forbids skipping", msg)
	}
	tb.Skip(msg)
}

// CA is a certificate authority made for one test: what a private CA (AWS
// Private CA, say) is to agents and ALBs. Only clients that trust Pool
// accept the certificates it issues.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	Pool *x509.CertPool
}

// NewCA makes a CA with a fresh key.
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "obslink test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{cert: cert, key: key, Pool: pool}
}

// Issue returns a server certificate for the DNS names, signed by the CA.
func (ca *CA) Issue(tb testing.TB, names ...string) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// StartTLSALB is a stand-in for an ALB's HTTPS listener on ip:port: it
// presents cert and answers like StartALB's (HTTP/1.1, and HTTP/2 through
// ALPN for gRPC) until tb ends.
func StartTLSALB(tb testing.TB, name, ip string, port int, cert tls.Certificate) *ALB {
	tb.Helper()
	return startALB(tb, name, ip, port, &cert)
}

// TLSRig is nginx with the rendered tls: passthrough config in front of
// stand-in ALB HTTPS listeners with certificates of a test CA: metrics at
// 127.0.0.2, logs at 127.0.0.4, traces (gRPC) at 127.0.0.6, each presenting
// a certificate for its own <service>.<domain>. All three share one port
// on nginx (127.0.0.5), as SNI routing allows.
type TLSRig struct {
	Domain                string
	Nginx                 *Nginx
	DNS                   *DNS
	CA                    *CA
	Metrics, Logs, Traces *ALB
	Port, HealthPort      int
	// ALBs are the stand-ins, and ALBPorts their listener ports, by service.
	ALBs     map[string]*ALB
	ALBPorts map[string]int
}

// StartTLSRig starts the stand-ins and nginx with obslink's rendered
// passthrough config; opts may change the config before it renders.
func StartTLSRig(tb testing.TB, domain string, opts ...func(*proxyfleet.Config)) *TLSRig {
	tb.Helper()
	r := startTLSRig(tb, domain, []TLSService{{"metrics", "127.0.0.2", false}, {"logs", "127.0.0.4", false}, {"traces", "127.0.0.6", true}}, opts)
	r.Metrics, r.Logs, r.Traces = r.ALBs["metrics"], r.ALBs["logs"], r.ALBs["traces"]
	return r
}

// TLSService is a service of a TLS rig: its name, the address of its
// stand-in ALB, and whether it speaks gRPC.
type TLSService struct {
	Name, IP string
	GRPC     bool
}

// StartTLSRigServices is StartTLSRig with services of the caller's: each
// with a stand-in ALB HTTPS listener on its IP, with a certificate for
// <name>.<domain>, named <name>-alb.test, behind nginx's one port.
func StartTLSRigServices(tb testing.TB, domain string, services []TLSService, opts ...func(*proxyfleet.Config)) *TLSRig {
	tb.Helper()
	return startTLSRig(tb, domain, services, opts)
}

func startTLSRig(tb testing.TB, domain string, services []TLSService, opts []func(*proxyfleet.Config)) *TLSRig {
	r := &TLSRig{Domain: domain, DNS: StartDNS(tb), CA: NewCA(tb), ALBPorts: map[string]int{}, ALBs: map[string]*ALB{}}
	var routes []proxyfleet.ConfigRoute
	ports := FreePorts(tb, "127.0.0.5", 2)
	r.Port, r.HealthPort = ports[0], ports[1]
	for _, s := range services {
		port := FreePort(tb, s.IP)
		r.ALBs[s.Name] = StartTLSALB(tb, s.Name, s.IP, port, r.CA.Issue(tb, s.Name+"."+domain))
		r.ALBPorts[s.Name] = port
		r.DNS.Set(s.Name+"-alb.test", 1, s.IP)
		routes = append(routes, proxyfleet.ConfigRoute{Name: s.Name, Host: s.Name + "." + domain, Port: r.Port,
			Upstream: s.Name + "-alb.test", UpstreamPort: port, GRPC: s.GRPC, UpstreamTLS: true})
	}
	cfg := proxyfleet.Config{HealthPort: r.HealthPort, Routes: routes, TLSPassthrough: true}
	for _, o := range opts {
		o(&cfg)
	}
	r.Nginx = Prepare(tb, cfg, "127.0.0.5", r.DNS)
	r.Nginx.Env = []string{FleetEnv}
	r.Nginx.Start(tb)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("nginx error log and resolver output:\n%s", r.Nginx.ErrorLog())
		}
	})
	return r
}

// Addr is nginx's TLS listener, ip:port.
func (r *TLSRig) Addr() string { return fmt.Sprintf("%s%d", r.Nginx.Config.Listen, r.Port) }

// URL is https://<service>.<domain>:<port><path>: the name agents use.
func (r *TLSRig) URL(service, path string) string {
	return fmt.Sprintf("https://%s.%s:%d%s", service, r.Domain, r.Port, path)
}

// dialer connects to nginx whatever address a client asks for, as an
// agent's DNS would send it to its endpoint, opening with the NLB's proxy
// protocol header when nginx expects one (vpce as in Nginx.Client).
func (r *TLSRig) dialer(vpce string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		if r.Nginx.Config.ProxyProtocol {
			return ProxyDialer(vpce)(ctx, network, r.Addr())
		}
		return (&net.Dialer{}).DialContext(ctx, network, r.Addr())
	}
}

// Client is an agent: it trusts only the test CA, verifies the server's
// name, and speaks HTTP/1.1 or, with h2, HTTP/2 (gRPC) through ALPN.
func (r *TLSRig) Client(vpce string, h2 bool) *http.Client {
	var p http.Protocols
	if h2 {
		p.SetHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	tr := &http.Transport{
		DialContext:     r.dialer(vpce),
		TLSClientConfig: &tls.Config{RootCAs: r.CA.Pool, MinVersion: tls.VersionTLS12},
		Protocols:       &p,
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}
}

// Handshake opens a TLS connection through nginx with conf (the test CA as
// roots unless conf sets them) and closes it: the handshake's error, or nil.
func (r *TLSRig) Handshake(vpce string, conf *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := r.dialer(vpce)(ctx, "tcp", "")
	if err != nil {
		return err
	}
	conf = conf.Clone()
	if conf.RootCAs == nil {
		conf.RootCAs = r.CA.Pool
	}
	tc := tls.Client(c, conf)
	defer tc.Close()
	return tc.HandshakeContext(ctx)
}
