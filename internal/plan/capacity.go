package plan

// Capacity is the CPU nginx, as obslink configures it, spends per unit of
// load. Plan sizes fleets with it; tests of the sizing build their own.
type Capacity struct {
	// HTTPPer1000 is CPU seconds per 1,000 HTTP requests with 1 KiB bodies.
	HTTPPer1000 float64
	// GRPCPer1000 is CPU seconds per 1,000 gRPC requests with 1 KiB messages.
	GRPCPer1000 float64
	// PerGiB is CPU seconds per GiB of request bodies, measured with 1 MiB
	// HTTP bodies (log batches).
	PerGiB float64
	// Source says where the figures come from.
	Source string
}

// MeasuredCapacity is obslink's measured capacity: the one place to update
// when `make bench` is re-run (docs/benchmarks.md, "The proxy's data path").
//
// From the run of 2026-11-28 at commit 25fb44b (the tables in
// docs/benchmarks.md; medians of three rounds): 23.8 ms of CPU per 1,000
// 1 KiB HTTP requests; 41.4 ms per 1,000 1 KiB gRPC calls (both gRPC
// shapes: one connection with 8 calls, and 8 connections); 0.290 s per GiB
// of 1 MiB HTTP bodies (283.2 ms per 1,000 such requests). They come from
// the loopback benchmark on this kind of machine (x86, 2 shared cores,
// nginx 1.22 with the fleet's malloc tunables): CPU time of nginx's master
// and workers only (not the load generator or the stand-in ALBs).
//
// How they carry to an instance (the assumption plan makes): one vCPU of
// the proxy's instance type does the work of one core here. A t4g vCPU
// (Graviton2) is a whole core, a t3/t3a vCPU is one hyperthread of a core;
// the CPU headroom (CPUHeadroom) leaves twice the measured need, which also
// covers that difference. Re-measure on the instance type when a plan's
// fleet is sized by CPU rather than by minCapacity.
func MeasuredCapacity() Capacity {
	return Capacity{
		HTTPPer1000: 0.0238,
		GRPCPer1000: 0.0414,
		PerGiB:      0.290,
		Source:      "docs/benchmarks.md, run of 2026-11-28 at 25fb44b: loopback, x86, 2 shared cores",
	}
}
