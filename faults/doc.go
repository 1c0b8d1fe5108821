// Package faults is obslink's fault suite, run by make faults: the proxy's
// data path (real nginx with the shipped configuration, and the HAProxy
// peer beside it) under ALB outages, a failing resolver, a retired proxy,
// a reload storm, a full body-buffer disk, bad input and load, with real
// Prometheus and OpenTelemetry clients, counting what was sent, received
// and lost. It is a Go module of its own so that the library's users never
// get those clients' dependencies. Results: docs/reliability.md.
package faults
