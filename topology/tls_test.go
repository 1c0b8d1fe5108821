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
		{"bad service setting", "services[1].tls", `"terminate" is not a setting; use passthrough`, patched(t, func(m map[string]any) { at(m, "services", 1)["tls"] = "terminate" })},
		{"a passthrough service without upstream TLS", "services[0].upstreamTls", "or set this service's tls: none", patched(t, func(m map[string]any) {
			at(m, "services", 0)["tls"] = "passthrough"
		})},
		{"TLS and HTTP on one port", "services[1].port", "443 is also the port of services[0], whose agents speak TLS passed through, while this service's speak HTTP", patched(t, func(m map[string]any) {
			at(m, "services", 0)["tls"], at(m, "services", 0)["upstreamTls"] = "passthrough", true
			at(m, "services", 1)["port"] = 443
		})},
		{"HTTP and TLS on one port", "services[1].port", "80 is also the port of services[0], whose agents speak HTTP, while this service's speak TLS passed through", passthrough(t, func(m map[string]any) {
			at(m, "services", 0)["tls"], at(m, "services", 0)["port"] = "none", 80
			at(m, "services", 1)["port"] = 80
		})},
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

// TestTLSPerService: services[].tls overrides the topology's, so plain-HTTP
// and passthrough services share the providers, each with its own default
// port, and the consumer header still reaches the HTTP services' ALBs.
func TestTLSPerService(t *testing.T) {
	topo, err := topology.Load("../examples/tls-mixed.yaml")
	require.NoError(t, err)
	assert.False(t, topo.TLSPassthrough(), "not every service passes through")
	ports := map[string]int{}
	for _, s := range topo.Services {
		ports[s.Name] = s.Port
		assert.Equal(t, s.Name == "traces", topo.Passthrough(s), s.Name)
	}
	assert.Equal(t, map[string]int{"metrics": 80, "profiles": 4040, "traces": 443}, ports)
	assert.True(t, topo.Proxy.Header())

	// The other way round: passthrough for all but one.
	topo, err = topology.Parse("tls.yaml", passthrough(t, func(m map[string]any) {
		at(m, "services", 0)["tls"], at(m, "services", 0)["upstreamTls"] = "none", false
		m["proxy"] = map[string]any{"proxyProtocol": true, "consumerHeader": true}
	}))
	require.NoError(t, err, "the header goes to the HTTP service's ALB")
	assert.Equal(t, 80, topo.Services[0].Port)
	assert.Equal(t, 443, topo.Services[1].Port)
	assert.False(t, topo.Passthrough(topo.Services[0]))
	assert.True(t, topo.Passthrough(topo.Services[1]))
}
