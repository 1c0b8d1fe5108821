package topology

// WithoutWarnings returns a copy of t without its warnings, for tests that
// compare topologies parsed from different texts: a warning names its file
// and line.
func WithoutWarnings(t *Topology) *Topology {
	c := *t
	c.warnings = nil
	return &c
}
