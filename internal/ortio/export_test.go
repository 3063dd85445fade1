package ortio

// WithStaging makes a CPU session keep separate host and "device" buffers
// and copy between them, as on a GPU.
func WithStaging(o Options) Options { o.staging = true; return o }

var ParallelCopy = parallelCopy
