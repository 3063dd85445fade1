# The README's two commands: `make demo` and `make test`. Each installs what a
# fresh machine lacks (the Go modules, ONNX Runtime 1.29.0 into .cache/).
GO      ?= go
BIN     := bin/addsr-bench
ORT_LIB := .cache/onnxruntime-1.29.0/libonnxruntime.so

.PHONY: demo test ort build vet bench fuzz clean

demo: build ort
	./$(BIN) demo

test: ort
	$(GO) vet ./...
	$(GO) test -count=1 ./...

build:
	$(GO) build -o $(BIN) ./cmd/addsr-bench

ort: $(ORT_LIB)

$(ORT_LIB): scripts/fetch-ort.sh
	scripts/fetch-ort.sh

# Metric speed: go test benchmarks (MPix/s), then the scikit-image peer.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 20x ./metrics
	bench/peer-skimage.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./internal/img

clean:
	rm -rf bin runs
