package faults

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/agent"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tick is how often each agent produces; per tick every agent makes
// perTick samples, log records and spans (20 of each per second).
const (
	tick    = 250 * time.Millisecond
	perTick = 5
)

// agents are one proxy's clients: a Prometheus agent (Prometheus's own
// agent-mode WAL and remote-write queue: tsdb/agent and storage/remote, as
// `prometheus --agent` runs them, fed by appends instead of scrapes), and an
// OpenTelemetry SDK program exporting logs over OTLP/HTTP and spans over
// OTLP/gRPC with the SDK's batch processors and the exporters' own retries.
// Each item carries the proxy's name (via) and a sequence number.
type agents struct {
	via string
	// Prometheus
	reg   *prometheus.Registry
	rs    *remote.Storage
	db    *agent.DB
	promN int64
	// OpenTelemetry
	lp      *sdklog.LoggerProvider
	logger  otellog.Logger
	tp      *sdktrace.TracerProvider
	tracer  trace.Tracer
	logExp  *ackExporter
	spanExp *ackExporter
	logN    int64
	spanN   int64
	logBody string

	stop chan struct{}
	done sync.WaitGroup
}

// ackExporter wraps an OpenTelemetry exporter and records which items it
// delivered (the exporter returned no error, after its own retries: the
// receiver answered 2xx) and which it gave up on.
type ackExporter struct {
	mu             sync.Mutex
	acked, dropped map[int64]bool
	logs           sdklog.Exporter
	spans          sdktrace.SpanExporter
}

func (e *ackExporter) record(seqs []int64, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range seqs {
		if err == nil {
			e.acked[s] = true
		} else {
			e.dropped[s] = true
		}
	}
}

// Export is sdklog.Exporter's.
func (e *ackExporter) Export(ctx context.Context, records []sdklog.Record) error {
	seqs := make([]int64, 0, len(records))
	for i := range records {
		records[i].WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == "seq" {
				seqs = append(seqs, kv.Value.AsInt64())
			}
			return true
		})
	}
	err := e.logs.Export(ctx, records)
	e.record(seqs, err)
	return err
}

// ExportSpans is sdktrace.SpanExporter's.
func (e *ackExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	seqs := make([]int64, 0, len(spans))
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if kv.Key == "seq" {
				seqs = append(seqs, kv.Value.AsInt64())
			}
		}
	}
	err := e.spans.ExportSpans(ctx, spans)
	e.record(seqs, err)
	return err
}

// Shutdown and ForceFlush are both interfaces'.
func (e *ackExporter) Shutdown(ctx context.Context) error {
	if e.logs != nil {
		return e.logs.Shutdown(ctx)
	}
	return e.spans.Shutdown(ctx)
}

func (e *ackExporter) ForceFlush(ctx context.Context) error {
	if e.logs != nil {
		return e.logs.ForceFlush(ctx)
	}
	return nil
}

func (e *ackExporter) counts() (acked, dropped map[int64]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.acked, e.dropped
}

// startAgents starts via's clients, sending to the NLB's httpPort and
// grpcPort under the services' names, and their producer.
func startAgents(t *testing.T, via string, httpPort, grpcPort int, logBody int) *agents {
	t.Helper()
	ctx := context.Background()
	a := &agents{via: via, stop: make(chan struct{}), logBody: strings.Repeat("l", logBody)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Prometheus in agent mode, as cmd/prometheus wires it.
	dir := t.TempDir()
	a.reg = prometheus.NewRegistry()
	a.rs = remote.NewStorage(quiet, a.reg, func() (int64, error) { return 0, nil }, dir, time.Minute, nil, false)
	db, err := agent.Open(quiet, a.reg, a.rs, dir, agent.DefaultOptions())
	if err != nil {
		t.Fatalf("prometheus agent: %v", err)
	}
	db.SetWriteNotified(a.rs)
	a.db = db
	// As cmd/prometheus: the configuration is applied once the WAL is open.
	rw := config.DefaultRemoteWriteConfig
	u, _ := url.Parse(fmt.Sprintf("http://metrics.%s:%d/api/v1/write", domain, httpPort))
	rw.URL = &config_util.URL{URL: u}
	rw.Name = via
	rw.QueueConfig.BatchSendDeadline = model.Duration(time.Second)
	rw.MetadataConfig.Send = false
	conf := &config.Config{GlobalConfig: config.DefaultGlobalConfig, RemoteWriteConfigs: []*config.RemoteWriteConfig{&rw}}
	if err := a.rs.ApplyConfig(conf); err != nil {
		t.Fatalf("prometheus remote write: %v", err)
	}

	// OpenTelemetry SDK: logs over OTLP/HTTP, spans over OTLP/gRPC.
	res := resource.NewSchemaless(attribute.String("via", via))
	le, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(fmt.Sprintf("http://logs.%s:%d/v1/logs", domain, httpPort)))
	if err != nil {
		t.Fatal(err)
	}
	a.logExp = &ackExporter{logs: le, acked: map[int64]bool{}, dropped: map[int64]bool{}}
	a.lp = sdklog.NewLoggerProvider(sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(a.logExp, sdklog.WithExportInterval(time.Second))))
	a.logger = a.lp.Logger("obslink-faults")
	se, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(fmt.Sprintf("traces.%s:%d", domain, grpcPort)), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	a.spanExp = &ackExporter{spans: se, acked: map[int64]bool{}, dropped: map[int64]bool{}}
	a.tp = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(a.spanExp, sdktrace.WithBatchTimeout(time.Second)))
	a.tracer = a.tp.Tracer("obslink-faults")

	a.done.Add(1)
	go a.produce()
	t.Cleanup(func() { a.stopProducing(); a.close() })
	return a
}

func (a *agents) produce() {
	defer a.done.Done()
	ctx := context.Background()
	lbls := make([]labels.Labels, perTick)
	for i := range lbls {
		lbls[i] = labels.FromStrings("__name__", "obslink_fault_sample", "via", a.via, "signal", metrics, "series", fmt.Sprint(i))
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		app := a.db.Appender(ctx)
		for i := 0; i < perTick; i++ {
			a.promN++
			if _, err := app.Append(0, lbls[i], now.UnixMilli(), float64(a.promN)); err != nil {
				panic(err) // the agent refused a sample: a bug in the suite
			}
		}
		if err := app.Commit(); err != nil {
			panic(err)
		}
		for i := 0; i < perTick; i++ {
			a.logN++
			var r otellog.Record
			r.SetTimestamp(now)
			r.SetBody(attribute.StringValue(a.logBody))
			r.AddAttributes(attribute.Int64("seq", a.logN))
			a.logger.Emit(ctx, r)
			a.spanN++
			_, span := a.tracer.Start(ctx, "push", trace.WithAttributes(attribute.Int64("seq", a.spanN)))
			span.End()
		}
	}
}

// stopProducing ends the producer; what it made is still being sent.
func (a *agents) stopProducing() {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	a.done.Wait()
}

// flush waits until the clients have delivered or given up on everything
// (Prometheus: every sample received or counted failed by the agent;
// OpenTelemetry: the providers' shutdown, which exports what is queued),
// or until timeout.
func (a *agents) flush(got *tally, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && int64(got.received(a.via, metrics))+a.promGaveUp() < a.promN {
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	_ = a.lp.Shutdown(ctx)
	_ = a.tp.Shutdown(ctx)
}

func (a *agents) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.lp.Shutdown(ctx)
	_ = a.tp.Shutdown(ctx)
	_ = a.db.Close()
	_ = a.rs.Close()
}

// promMetric sums the Prometheus agent's own metric name (its remote-write
// queue's counters and gauges).
func (a *agents) promMetric(name string) float64 {
	mfs, _ := a.reg.Gather()
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// promGaveUp is how many samples the Prometheus agent gave up on: failed
// (a non-recoverable answer, such as a 4xx) or dropped (too old).
func (a *agents) promGaveUp() int64 {
	return int64(a.promMetric("prometheus_remote_storage_samples_failed_total") +
		a.promMetric("prometheus_remote_storage_samples_dropped_total"))
}

// promQueued is how many samples the Prometheus agent holds in its queue,
// still to be sent.
func (a *agents) promQueued() int64 {
	return int64(a.promMetric("prometheus_remote_storage_samples_pending"))
}
