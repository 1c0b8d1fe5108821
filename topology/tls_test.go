package topology_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

// passthrough is base with tls: passthrough and every service on the
// ALB's HTTPS listener.
func passthrough(t *testing.T, patch func(m map[string]any)) []byte {
	t.Helper()
	return patched(t, func(m map[string]any) {
		m["tls"] = "passthrough"
		at(m, "services", 0)["upstreamTls"] = true
		if patch != nil {
			patch(m)
		}
	})
}

func TestTLSPassthrough(t *testing.T) {
	topo, err := topology.Parse("tls.yaml", passthrough(t, nil))
	require.NoError(t, err)
	assert.True(t, topo.TLSPassthrough())
	for _, s := range topo.Services {
		assert.Equal(t, 443, s.Port, "%s: agents speak TLS, on 443 by default", s.Name)
		assert.Equal(t, 443, s.UpstreamPort, "%s: the ALB's HTTPS listener by default", s.Name)
	}

	// http and grpc share a port: SNI tells them apart.
	topo, err = topology.Parse("tls.yaml", passthrough(t, func(m map[string]any) {
		at(m, "services", 0)["port"] = 4317
		at(m, "services", 1)["port"] = 4317
	}))
	require.NoError(t, err)
	assert.Equal(t, topo.Services[0].Port, topo.Services[1].Port)

	// With proxy protocol the consumer is still logged; the header is not passed.
	_, err = topology.Parse("tls.yaml", passthrough(t, func(m map[string]any) { m["proxy"] = map[string]any{"proxyProtocol": true} }))
	require.NoError(t, err)

	topo, err = topology.Parse("plain.yaml", patched(t, nil))
	require.NoError(t, err)
	assert.False(t, topo.TLSPassthrough())
	assert.Equal(t, 80, topo.Services[0].Port, "without tls, ports keep their defaults")
}

func TestTLSValidation(t *testing.T) {
	for _, tt := range []struct {
		name, path, want string
		data             []byte
	}{
		{"bad setting", "tls", `"terminate" is not a setting; use passthrough`, patched(t, func(m map[string]any) { m["tls"] = "terminate" })},
		{"cleartext upstream", "services[0].upstreamTls", "must end at the ALB's HTTPS listener, whose certificate for metrics.observability.internal agents verify; set upstreamTls: true",
			passthrough(t, func(m map[string]any) { delete(at(m, "services", 0), "upstreamTls") })},
		{"consumer header", "proxy.consumerHeader", "cannot add X-Obslink-Consumer",
			passthrough(t, func(m map[string]any) { m["proxy"] = map[string]any{"proxyProtocol": true, "consumerHeader": true} })},
		{"mixed port without passthrough", "services[1].port", "need different ports", patched(t, func(m map[string]any) { at(m, "services", 1)["port"] = 80 })},
	} {
		t.Run(tt.name, func(t *testing.T) { wantFieldError(t, tt.data, tt.path, tt.want) })
	}
}

func TestTLSExample(t *testing.T) {
	b, err := os.ReadFile("../examples/tls-passthrough.yaml")
	require.NoError(t, err)
	topo, err := topology.Parse("tls-passthrough.yaml", b)
	require.NoError(t, err)
	assert.True(t, topo.TLSPassthrough())
}
