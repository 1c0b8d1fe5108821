package faults

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// The signals the agents send, and which proxy carried an item ("via").
const (
	metrics = "metrics" // Prometheus remote write
	logs    = "logs"    // OTLP/HTTP
	traces  = "traces"  // OTLP/gRPC
	load    = "load"    // remote write from many connections (the load fault)
)

var signals = []string{metrics, logs, traces}

type key struct{ via, signal string }

// tally is what the receivers got: each item's sequence number, per proxy
// and signal (an item sent twice, after a retry, counts once), and when
// each request that brought items arrived.
type tally struct {
	mu    sync.Mutex
	items map[key]map[int64]bool
	times map[key][]time.Time
}

func newTally() *tally {
	return &tally{items: map[key]map[int64]bool{}, times: map[key][]time.Time{}}
}

func (t *tally) add(via, signal string, seqs []int64) {
	if len(seqs) == 0 {
		return
	}
	k := key{via, signal}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.items[k] == nil {
		t.items[k] = map[int64]bool{}
	}
	for _, s := range seqs {
		t.items[k][s] = true
	}
	t.times[k] = append(t.times[k], now)
}

// received is how many distinct items of signal came through via.
func (t *tally) received(via, signal string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.items[key{via, signal}])
}

// has reports whether the receivers got item seq.
func (t *tally) has(via, signal string, seq int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.items[key{via, signal}][seq]
}

// firstAfter is the arrival of the first request of signal through via
// after since, if one came.
func (t *tally) firstAfter(via, signal string, since time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := t.times[key{via, signal}]
	i := sort.Search(len(ts), func(i int) bool { return ts[i].After(since) })
	if i == len(ts) {
		return time.Time{}, false
	}
	return ts[i], true
}

// receiver is the cluster's side: a Prometheus remote-write endpoint and an
// OTLP/HTTP logs endpoint (one HTTP handler, as a collector behind the
// ALB's listener), and an OTLP/gRPC trace service. They decode what they
// get with the official protobuf definitions and count it. A decoding error
// is a 400, as a real receiver answers.
type receiver struct {
	tally *tally
	// probeDelay holds the answer to the retire fault's probes (via
	// "probe-...") this long: a receiver slow to answer them.
	probeDelay atomic.Int64
	coltrace.UnimplementedTraceServiceServer
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case "/api/v1/write":
		raw, err := snappy.Decode(nil, body)
		var req prompb.WriteRequest
		if err == nil {
			err = req.Unmarshal(raw)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got := map[key][]int64{}
		for _, ts := range req.Timeseries {
			k := key{signal: metrics}
			for _, l := range ts.Labels {
				switch l.Name {
				case "via":
					k.via = l.Value
				case "signal":
					k.signal = l.Value
				}
			}
			for _, s := range ts.Samples {
				got[k] = append(got[k], int64(s.Value))
			}
		}
		for k := range got {
			if strings.HasPrefix(k.via, "probe-") {
				time.Sleep(time.Duration(rc.probeDelay.Load()))
				break
			}
		}
		for k, seqs := range got {
			rc.tally.add(k.via, k.signal, seqs)
		}
		w.WriteHeader(http.StatusNoContent)
	case "/v1/logs":
		var req collogs.ExportLogsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got := map[string][]int64{}
		for _, rl := range req.ResourceLogs {
			via := attr(rl.GetResource().GetAttributes(), "via").GetStringValue()
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					got[via] = append(got[via], attr(lr.Attributes, "seq").GetIntValue())
				}
			}
		}
		for via, seqs := range got {
			rc.tally.add(via, logs, seqs)
		}
		resp, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	default:
		http.NotFound(w, r)
	}
}

// Export is the OTLP/gRPC trace service.
func (rc *receiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	got := map[string][]int64{}
	for _, rs := range req.ResourceSpans {
		via := attr(rs.GetResource().GetAttributes(), "via").GetStringValue()
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				got[via] = append(got[via], attr(s.Attributes, "seq").GetIntValue())
			}
		}
	}
	for via, seqs := range got {
		rc.tally.add(via, traces, seqs)
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

func attr(kvs []*commonpb.KeyValue, name string) *commonpb.AnyValue {
	for _, kv := range kvs {
		if kv.Key == name {
			return kv.Value
		}
	}
	return nil
}

// alb is a stand-in for one address of an ALB with the receiver behind
// it. It can reset every connection as soon as a request's first bytes
// arrive (resets mid-request); refusing and dropping packets are the
// packet filter's work (firewall).
type alb struct {
	Addr  string
	reset atomic.Bool
}

// startALB serves rc on addr until t ends: HTTP/1.1 (remote write, OTLP/HTTP)
// or, with grpcServer, OTLP/gRPC over cleartext HTTP/2.
func startALB(t *testing.T, addr string, rc *receiver, grpcServer bool) *alb {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("alb %s: %v", addr, err)
	}
	a := &alb{Addr: addr}
	fl := &faultListener{Listener: l, alb: a}
	if grpcServer {
		s := grpc.NewServer()
		coltrace.RegisterTraceServiceServer(s, rc)
		go func() { _ = s.Serve(fl) }()
		t.Cleanup(s.Stop)
		return a
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, ErrorLog: discardLog}
	go func() { _ = srv.Serve(fl) }()
	t.Cleanup(func() { _ = srv.Close() })
	return a
}

type faultListener struct {
	net.Listener
	alb *alb
}

func (l *faultListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &faultConn{TCPConn: c.(*net.TCPConn), alb: l.alb}, nil
}

type faultConn struct {
	*net.TCPConn
	alb *alb
}

var errReset = errors.New("reset by the fault suite")

func (c *faultConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if n > 0 && c.alb.reset.Load() {
		_ = c.SetLinger(0) // close with RST
		_ = c.Close()
		return 0, errReset
	}
	return n, err
}

// resetAll makes the ALB addresses reset connections mid-request (true) or serve (false).
func resetAll(albs []*alb, on bool) {
	for _, a := range albs {
		a.reset.Store(on)
	}
}
