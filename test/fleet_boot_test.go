package test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// fiftyServices is examples/tls-passthrough.yaml with fifty services:
// passthrough and proxy protocol.
func fiftyServices(t *testing.T) *topology.Topology {
	var b strings.Builder
	b.WriteString(`name: obsfifty
interRegion: peering
tls: passthrough
controlPlane:
  account: "111111111111"
  region: eu-west-1
  vpc: {id: vpc-0a1b2c3d4e5f60718, cidr: 10.0.0.0/16, routeTableIds: [rtb-0a1b2c3d4e5f60718], albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]}
regions:
  - {region: eu-west-1, cidr: 10.100.0.0/24, availabilityZones: [eu-west-1a, eu-west-1b, eu-west-1c]}
proxy: {proxyProtocol: true}
consumers:
  - {name: web, account: "222222222222", region: eu-west-1, vpc: {cidr: 10.50.0.0/16, availabilityZones: [eu-west-1a, eu-west-1b]}}
services:
`)
	for i := 0; i < 50; i++ {
		protocol := ""
		if i%10 == 9 {
			protocol = ", protocol: grpc"
		}
		fmt.Fprintf(&b, "  - {name: svc%02d, upstream: internal-svc%02d-alb-1234567890.eu-west-1.elb.amazonaws.com, upstreamPort: 443, upstreamTls: true%s}\n", i, i, protocol)
	}
	topo, err := topology.Parse("fifty.yaml", []byte(b.String()))
	require.NoError(t, err)
	return topo
}

// TestFiftyServicesBoot: a topology of fifty services with tls:
// passthrough and proxy protocol synthesizes (cdk-nag and every gate of
// synth included), with user data under EC2's 16 KiB and the files in SSM
// parameters; the shipped user data fetches them from the provider's
// parameters, checks them and writes nginx's config for fifty services;
// that config, on real nginx in front of fifty stand-in ALBs, passes the
// bootstrap's self-check (a TLS handshake through the proxy for every
// service) and routes agents by name.
func TestFiftyServicesBoot(t *testing.T) {
	topo := fiftyServices(t)
	a := synthInto(t, topo, filepath.Join(t.TempDir(), "cdk.out"))
	name := stacks.ProviderStackName(topo, "eu-west-1")
	var tpl struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
		} `json:"Resources"`
	}
	readJSON(t, filepath.Join(a.Dir, name+".template.json"), &tpl)
	var userData string
	var params []proxyfleet.Parameter
	for _, r := range tpl.Resources {
		switch r.Type {
		case "AWS::EC2::LaunchTemplate":
			userData = r.Properties["LaunchTemplateData"].(map[string]any)["UserData"].(map[string]any)["Fn::Base64"].(string)
		case "AWS::SSM::Parameter":
			if n := r.Properties["Name"].(string); strings.HasPrefix(n, "/obslink/"+name+"/files/") {
				params = append(params, proxyfleet.Parameter{Name: n, Value: r.Properties["Value"].(string)})
			}
		}
	}
	require.NotEmpty(t, userData)
	assert.Less(t, len(userData), proxyfleet.MaxUserData)
	t.Logf("fifty services: %d bytes of user data, the files in %d parameters", len(userData), len(params))

	script, err := nginxtest.FetchFiles(t, userData, params)
	require.NoError(t, err)
	files := nginxtest.RunFiles(t, script)
	var routes []proxyfleet.ConfigRoute
	for _, r := range *stacks.Routes(topo) {
		routes = append(routes, proxyfleet.ConfigRoute{Name: *r.Name, Host: *r.Host, Port: int(*r.Port), Upstream: *r.Upstream,
			UpstreamPort: int(*r.UpstreamPort), GRPC: r.GRPC != nil && *r.GRPC, UpstreamTLS: r.UpstreamTLS != nil && *r.UpstreamTLS})
	}
	shipped := proxyfleet.Config{Routes: routes, HealthPort: proxyfleet.DefaultHealthPort, ReadyFile: proxyfleet.DefaultReadyFile,
		ProxyProtocol: true, TLSPassthrough: true}
	conf, err := shipped.Render()
	require.NoError(t, err)
	require.Equal(t, conf, files["/etc/nginx/nginx.conf"].Text, "the bootstrap writes the config of the fifty services")
	assert.Equal(t, shipped.TLSRoutes(), files["/etc/obslink/tls-routes"].Text)

	// The same fleet on real nginx: fifty services on one port, SNI routed.
	var services []nginxtest.TLSService
	for _, r := range shipped.Routes {
		services = append(services, nginxtest.TLSService{Name: r.Name, IP: "127.0.0.2", GRPC: r.GRPC})
	}
	rig := nginxtest.StartTLSRigServices(t, topo.Domain, services, func(c *proxyfleet.Config) { c.ProxyProtocol = true })
	out, ok := rig.Nginx.SelfCheck(t, filepath.Join(t.TempDir(), "ready"), "OBSLINK_HEALTH_PROXY_PROTOCOL=1")
	require.True(t, ok, "the self-check:\n%s", out)
	assert.NotContains(t, out, "warning")
	for _, svc := range []string{"svc00", "svc25", "svc48"} {
		resp, err := rig.Client("vpce-0123456789abcdef0", false).Post(rig.URL(svc, "/push"), "application/json", strings.NewReader("{}"))
		require.NoError(t, err, svc)
		resp.Body.Close()
		assert.Equal(t, svc, resp.Header.Get("X-Alb"), "%s reaches its own ALB", svc)
	}
}
