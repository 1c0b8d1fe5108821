package proxyfleet_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/nginxtest"
)

// seen is what a stand-in ALB answered and saw for one request.
type seen struct {
	Status                               int
	ALB, Host, Proto, BodyBytes, GRPC    string
	Consumer, ForwardedFor, AccessStatus string
}

// TestHAProxyPeerRoutesLikeNginx proves that make bench compares like with
// like: the same requests through obslink's nginx and through the HAProxy
// peer reach the same stand-in ALB with the same Host, protocol, body and
// headers, or are refused with the same status (421 unknown host, 413 body
// over the limit), and each leaves one JSON access line with its status.
func TestHAProxyPeerRoutesLikeNginx(t *testing.T) {
	r := nginxtest.StartRig(t, domain)
	h := nginxtest.StartHAProxy(t, r)
	body := bytes.Repeat([]byte("m"), 1<<10)

	send := func(base string, host string, grpc bool, header http.Header, log func() []string) seen {
		t.Helper()
		logged := len(log())
		req, err := http.NewRequest(http.MethodPost, base+"/api/v1/push", bytes.NewReader(body))
		require.NoError(t, err)
		req.Host = host
		for k, v := range header {
			req.Header[k] = v
		}
		client := r.Client
		if grpc {
			client = r.GRPCClient
			req.Header.Set("Content-Type", "application/grpc")
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		// Both write the access line after the answer: wait for it.
		var lines []string
		for i := 0; i < 100 && len(lines) <= logged; i++ {
			time.Sleep(10 * time.Millisecond)
			lines = log()
		}
		require.Len(t, lines, logged+1, "one access line per request")
		var line struct{ Status int }
		require.NoError(t, json.Unmarshal([]byte(lines[logged]), &line), "the access line is JSON: %s", lines[logged])
		return seen{
			Status: resp.StatusCode, ALB: resp.Header.Get("X-Alb"), Host: resp.Header.Get("X-Seen-Host"),
			Proto: resp.Header.Get("X-Seen-Proto"), BodyBytes: resp.Header.Get("X-Body-Bytes"),
			GRPC:     resp.Trailer.Get("Grpc-Status"),
			Consumer: strings.Join(resp.Header.Values("X-Seen-Consumer"), ","),
			// Several header lines are one list (RFC 9110, 5.3): nginx appends
			// to the agent's line, HAProxy adds a line.
			ForwardedFor: strings.Join(resp.Header.Values("X-Seen-Forwarded-For"), ", "),
			AccessStatus: fmt.Sprint(line.Status),
		}
	}
	nginxLog, haproxyLog := r.Nginx.AccessLog, h.AccessLog

	forged := http.Header{"X-Obslink-Consumer": {"someone-else"}, "X-Forwarded-For": {"10.9.8.7"}}
	cases := []struct {
		name        string
		host        string
		grpc        bool
		header      http.Header
		status      int
		alb, seenAs string
	}{
		{"metrics", "metrics." + domain, false, nil, 200, "metrics-a", "metrics." + domain},
		{"logs", "logs." + domain, false, nil, 200, "logs", "logs." + domain},
		{"host names are case-blind and the port is dropped", "Logs." + strings.ToUpper(domain) + ":8080", false, nil, 200, "logs", "logs." + domain},
		{"an agent's consumer header is not passed on; its X-Forwarded-For is extended", "metrics." + domain, false, forged, 200, "metrics-a", "metrics." + domain},
		{"unknown host", "unknown." + domain, false, nil, 421, "", ""},
		{"a gRPC host on the HTTP port", "traces." + domain, false, nil, 421, "", ""},
		{"gRPC", "traces." + domain, true, nil, 200, "traces", "traces." + domain},
		{"gRPC, unknown host", "metrics." + domain, true, nil, 421, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port, peerPort := r.HTTPPort, h.HTTPPort
			if c.grpc {
				port, peerPort = r.GRPCPort, h.GRPCPort
			}
			viaNginx := send(r.Nginx.URL(port), c.host, c.grpc, c.header, nginxLog)
			viaHAProxy := send(h.URL(peerPort), c.host, c.grpc, c.header, haproxyLog)
			assert.Equal(t, viaNginx, viaHAProxy, "nginx (expected) and HAProxy (actual) differ")
			assert.Equal(t, c.status, viaHAProxy.Status)
			assert.Equal(t, fmt.Sprint(c.status), viaHAProxy.AccessStatus, "the access line records the status")
			assert.Equal(t, c.alb, viaHAProxy.ALB)
			assert.Equal(t, c.seenAs, viaHAProxy.Host)
			if c.status == 200 {
				assert.Equal(t, "1024", viaHAProxy.BodyBytes)
				assert.Equal(t, "", viaHAProxy.Consumer, "no consumer header reaches the ALB")
				if c.header != nil {
					assert.Equal(t, "10.9.8.7, 127.0.0.1", viaHAProxy.ForwardedFor)
				}
				if c.grpc {
					assert.Equal(t, "HTTP/2.0", viaHAProxy.Proto)
					assert.Equal(t, "0", viaHAProxy.GRPC)
				} else {
					assert.Equal(t, "HTTP/1.1", viaHAProxy.Proto)
				}
			}
		})
	}

	t.Run("a body over the limit is refused from its Content-Length", func(t *testing.T) {
		status := func(addr string) string {
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			fmt.Fprintf(c, "POST /push HTTP/1.1\r\nHost: logs.%s\r\nContent-Length: %d\r\n\r\n", domain, 16<<20+1)
			line, err := bufio.NewReader(c).ReadString('\n')
			require.NoError(t, err)
			return strings.TrimSpace(line)
		}
		// Each writes its access line for the refusal after answering: wait
		// for it, so the next request's line count starts from it.
		settled := func(log func() []string, before int) {
			for i := 0; i < 100 && len(log()) <= before; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			require.Len(t, log(), before+1, "one access line for the refusal")
		}
		n, p := len(nginxLog()), len(haproxyLog())
		nginxStatus := status(strings.TrimPrefix(r.Nginx.URL(r.HTTPPort), "http://"))
		assert.Contains(t, nginxStatus, " 413 ")
		assert.Contains(t, status(strings.TrimPrefix(h.URL(h.HTTPPort), "http://")), " 413 ")
		settled(nginxLog, n)
		settled(haproxyLog, p)
	})

	t.Run("upstream connections are reused", func(t *testing.T) {
		before := r.Logs.Conns()
		for i := 0; i < 20; i++ {
			send(h.URL(h.HTTPPort), "logs."+domain, false, nil, haproxyLog)
		}
		assert.LessOrEqual(t, r.Logs.Conns()-before, int64(2), "20 sequential requests, at most 2 new ALB connections")
	})
}
