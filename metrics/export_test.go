package metrics

// WithPortable returns cfg set to use the portable Go loops of the
// classical metrics even where the CPU has the vector kernels, for the
// external tests (metrics_test) that check both paths against references.
func WithPortable(cfg Config) Config {
	cfg.portable = true
	return cfg
}

// HasVector reports whether this CPU and build run the vector kernels.
var HasVector = hasVector
