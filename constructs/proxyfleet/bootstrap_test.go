package proxyfleet_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

// TestBootstrapFetchesAndChecksItsFiles: the user data gets the files script
// from its parameters whatever order they come in, and fails (so that the
// bootstrap signals a failure) when a chunk is missing, altered, or the
// parameters cannot be read.
func TestBootstrapFetchesAndChecksItsFiles(t *testing.T) {
	cfg := proxyfleet.Config{Routes: []proxyfleet.ConfigRoute{{Name: "metrics", Host: "metrics.x", Port: 80, Upstream: "m.test", UpstreamPort: 80}}}
	// Enough services that the files take several parameters.
	for i := 0; i < 30; i++ {
		cfg.Routes = append(cfg.Routes, proxyfleet.ConfigRoute{Name: fmt.Sprintf("svc%02d", i), Host: fmt.Sprintf("svc%02d.x", i), Port: 80,
			Upstream: fmt.Sprintf("internal-svc%02d-alb-1234567890.eu-west-1.elb.amazonaws.com", i), UpstreamPort: 80})
	}
	b, err := cfg.Bootstrap(proxyfleet.UserDataInput{SignalRegion: "eu-west-1", FilesPath: "/obslink/p/files"})
	require.NoError(t, err)
	require.Greater(t, len(b.Parameters), 1, "the files take more than one parameter")
	assert.Contains(t, b.UserData, "--region 'eu-west-1' --path '/obslink/p/files/"+b.Hash[:16]+"'")
	for _, p := range b.Parameters {
		assert.LessOrEqual(t, len(p.Value), proxyfleet.MaxParameterChars)
		assert.True(t, strings.HasPrefix(p.Name, "/obslink/p/files/"+b.Hash[:16]+"/"), p.Name)
	}

	got, err := nginxtest.FetchFiles(t, b.UserData, b.Parameters)
	require.NoError(t, err)
	assert.Equal(t, b.Files, got)

	altered := append([]proxyfleet.Parameter(nil), b.Parameters...)
	v := []byte(altered[1].Value)
	v[10] ^= 'A' ^ 'B' // still base64, another content
	altered[1].Value = string(v)
	var moved []proxyfleet.Parameter // the user data must name its parameters' path
	for _, p := range b.Parameters {
		moved = append(moved, proxyfleet.Parameter{Name: strings.Replace(p.Name, "/files/", "/other/", 1), Value: p.Value})
	}
	tests := []struct {
		name   string
		params []proxyfleet.Parameter
		want   string
	}{
		{"a chunk altered", altered, "FAILED"},
		{"a chunk missing", b.Parameters[1:], ""},
		{"parameters unreadable", nil, "Could not connect"},
		{"parameters gone, an empty answer", []proxyfleet.Parameter{}, "FAILED"},
		{"parameters under another path", moved, "FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := nginxtest.FetchFiles(t, b.UserData, tt.params)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestBootstrapWritesTheTestedFiles fetches the files script from the
// parameters and runs it (paths moved into a directory of the test's):
// it writes the files the nginx tests run, scripts executable.
func TestBootstrapWritesTheTestedFiles(t *testing.T) {
	cfg := proxyfleet.Config{Routes: []proxyfleet.ConfigRoute{
		{Name: "metrics", Host: "metrics.observability.internal", Port: 80, Upstream: "m.test", UpstreamPort: 80},
		{Name: "traces", Host: "traces.observability.internal", Port: 4317, Upstream: "t.test", UpstreamPort: 4317, GRPC: true},
	}}
	b, err := cfg.Bootstrap(proxyfleet.UserDataInput{AccessLogGroup: "/obslink/p/proxies/access", ErrorLogGroup: "/obslink/p/proxies/error"})
	require.NoError(t, err)
	script, err := nginxtest.FetchFiles(t, b.UserData, b.Parameters)
	require.NoError(t, err)
	conf, err := cfg.Render()
	require.NoError(t, err)
	want := map[string]string{
		"/etc/nginx/nginx.conf":                             conf,
		"/usr/local/bin/obslink-resolve":                    proxyfleet.ResolveScript(),
		"/etc/obslink/upstreams":                            cfg.Upstreams(),
		"/etc/logrotate.d/nginx":                            proxyfleet.Logrotate(),
		"/usr/local/bin/obslink-selfcheck":                  cfg.SelfCheckScript(),
		"/opt/aws/amazon-cloudwatch-agent/etc/obslink.json": cfg.AgentConfig("/obslink/p/proxies/access", "/obslink/p/proxies/error"),
	}
	files := nginxtest.RunFiles(t, script)
	for path, text := range want {
		assert.Equal(t, text, files[path].Text, path)
	}
	for _, exe := range []string{"/usr/local/bin/obslink-resolve", "/usr/local/bin/obslink-selfcheck"} {
		assert.Equal(t, fs.FileMode(0o755), files[exe].Mode, exe)
	}
	assert.Contains(t, files["/etc/obslink/resolve.env"].Text, "OBSLINK_RESOLVER=169.254.169.253\n", "the VPC resolver by default")
	assert.Contains(t, files, "/etc/systemd/system/obslink-resolve.service")
	assert.Contains(t, b.UserData, "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s")
	assert.Contains(t, b.UserData, "dnf install -y nginx bind-utils logrotate diffutils amazon-cloudwatch-agent")
}

// TestBootstrapFitsWithManyServices: fifty services, with passthrough and
// proxy protocol, the agent's configuration, the signal and the consumer
// map: the user data stays far under EC2's 16 KiB whatever the number of
// services (the files travel in parameters of at most 4,096 characters).
func TestBootstrapFitsWithManyServices(t *testing.T) {
	var routes []proxyfleet.ConfigRoute
	for i := 0; i < 50; i++ {
		routes = append(routes, proxyfleet.ConfigRoute{Name: fmt.Sprintf("svc%02d", i), Host: fmt.Sprintf("svc%02d.observability.internal", i),
			Port: 443, Upstream: fmt.Sprintf("internal-svc%02d-alb-1234567890.eu-west-1.elb.amazonaws.com", i), UpstreamPort: 443, UpstreamTLS: true})
	}
	b, err := proxyfleet.Config{Routes: routes, ProxyProtocol: true, TLSPassthrough: true, ReadyFile: proxyfleet.DefaultReadyFile}.Bootstrap(proxyfleet.UserDataInput{
		AccessLogGroup: "/obslink/obslink-provider-ap-southeast-1/proxies/access", ErrorLogGroup: "/obslink/obslink-provider-ap-southeast-1/proxies/error",
		SignalStack: "obslink-provider-ap-southeast-1", SignalResource: "ProviderFleetGroupASGB53CD929", SignalRegion: "ap-southeast-1",
		ConsumerParameters: "/obslink/obslink-provider-ap-southeast-1/consumers", FilesPath: "/obslink/obslink-provider-ap-southeast-1/files"})
	require.NoError(t, err)
	assert.Contains(t, b.UserData, "amazon-cloudwatch-agent-ctl", "with the agent's configuration")
	assert.Contains(t, b.UserData, "obslink-consumers.timer", "with the consumer map")
	assert.Contains(t, b.UserData, "cfn-signal", "with the signal")
	assert.Less(t, len(b.UserData), proxyfleet.MaxUserData/2)
	for _, p := range b.Parameters {
		assert.LessOrEqual(t, len(p.Value), proxyfleet.MaxParameterChars)
	}
	t.Logf("50 services with passthrough and proxy protocol, the agent, the signal and the consumer map: %d bytes of user data, a files script of %d bytes in %d parameters",
		len(b.UserData), len(b.Files), len(b.Parameters))
}
