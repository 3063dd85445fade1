# addsr-bench with ONNX Runtime 1.29.0 (CPU), for clusters (see
# docs/k8s-indexed-job.yaml). The binary links glibc through cgo: build and
# run stages are both Debian bookworm.
#   docker build -t registry.example/addsr-bench:$(git rev-parse --short HEAD) .
# Pin the image by digest where you deploy it (docker inspect --format
# '{{index .RepoDigests 0}}').
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make build ort

FROM debian:bookworm-slim
COPY --from=build /src/bin/addsr-bench /usr/local/bin/addsr-bench
COPY --from=build /src/.cache/onnxruntime-1.29.0/ /opt/onnxruntime/
ENV ONNXRUNTIME_SHARED_LIBRARY_PATH=/opt/onnxruntime/libonnxruntime.so
# A shell stays (sh): the merge Job's command uses it.
CMD ["addsr-bench", "--help"]
