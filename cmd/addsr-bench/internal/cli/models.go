package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/addsr-bench/addsr-bench/bench"
	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/models/ncnn"
	"github.com/addsr-bench/addsr-bench/runners"
	"github.com/addsr-bench/addsr-bench/runners/addsr"
)

func newModels(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "models", Short: "Import and inspect models"}
	var param, bin, out, name, license, source string
	var scale int
	var fp16, converterVersion bool
	imp := &cobra.Command{
		Use:   "import-ncnn --param M.param --bin M.bin --out M.onnx [--scale 4]",
		Short: "Convert an ncnn model (realesrgan-ncnn-vulkan, Upscayl) to ONNX, with its manifest",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if converterVersion {
				fmt.Fprintln(stdout, ncnn.ConverterVersion)
				return nil
			}
			if param == "" || bin == "" || out == "" {
				return &exitError{ExitError, "--param, --bin and --out are required"}
			}
			c, err := ncnn.ConvertFiles(param, bin, ncnn.Options{FP16: fp16})
			if err != nil {
				return err
			}
			if c.InputChannels != 3 || c.OutputChannels != 3 {
				return fmt.Errorf("%s maps %d to %d channels; an SR model maps RGB to RGB", param, c.InputChannels, c.OutputChannels)
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := c.WriteFile(out); err != nil {
				return err
			}
			_, sum, err := datasets.HashFile(out)
			if err != nil {
				return err
			}
			_, psum, err := datasets.HashFile(param)
			if err != nil {
				return err
			}
			_, bsum, err := datasets.HashFile(bin)
			if err != nil {
				return err
			}
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
			}
			if source == "" {
				source = fmt.Sprintf("ncnn %s (sha256 %s) + %s (sha256 %s)", filepath.Base(param), psum, filepath.Base(bin), bsum)
			}
			dtype := "fp32"
			if fp16 {
				dtype = "fp16"
			}
			m := models.Manifest{Name: name, Kind: "sr", Scale: scale, DType: dtype, SHA256: sum, License: license, Source: source,
				Input:  models.IO{Name: c.Input, Layout: "NCHW", Range: [2]float64{0, 1}, Colour: "RGB"},
				Output: models.IO{Name: c.Model.Outputs[0].Name, Layout: "NCHW", Range: [2]float64{0, 1}, Colour: "RGB"}}
			if err := models.WriteManifest(out, m); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s (%d ncnn layers → %d ONNX nodes, %d weight bytes) and its manifest\n", out, c.Layers, len(c.Model.Nodes), c.WeightBytes)
			return nil
		},
	}
	f := imp.Flags()
	f.StringVar(&param, "param", "", "ncnn .param file")
	f.StringVar(&bin, "bin", "", "ncnn .bin file")
	f.StringVar(&out, "out", "", "ONNX file to write (its manifest goes beside it)")
	f.StringVar(&name, "name", "", "model name (default: the output's file name)")
	f.IntVar(&scale, "scale", 4, "upscaling factor")
	f.BoolVar(&converterVersion, "converter-version", false, "print the converter's version (it changes when the graphs it writes change) and exit")
	f.BoolVar(&fp16, "fp16", false, "write a float16 graph (for GPUs; ONNX Runtime's CPU provider may not run it)")
	f.StringVar(&license, "license", "", "licence of the weights, recorded in the manifest")
	f.StringVar(&source, "source", "", "where the weights come from (default: the ncnn files and their SHA-256)")
	cmd.AddCommand(imp, newModelsVerify(stdout, stderr), newModelsProbe(stdout), newModelsTokenize(stdout))
	return cmd
}

func newSR(stdout, stderr io.Writer) *cobra.Command {
	var ort ortFlags
	var model, in, out, device string
	var tile, overlap, batch, warmup, workers, threads, inflight, steps, maxPixels int
	var epOpts, addsrOpts []string
	var ioBinding, saveSteps, overwrite bool
	cmd := &cobra.Command{
		Use:   "sr --model MODEL --in DIR --out DIR [--device cpu|cuda[:N]|auto]",
		Short: "Run one SR method over a folder of LR images and write PNGs",
		Long: `MODEL is an .onnx file with its manifest, an AddSR pipeline folder (with
pipeline.json), "bicubic", "nearest", or "folder:DIR" (precomputed outputs,
matched by stem).

AddSR runs --steps steps (default: all of the pipeline's timesteps) and writes
the last step's output; --save-steps also writes every step's output to
OUT/stepK/. --option KEY=VALUE sets its options (psr, psr_weight, prompt,
user_prompt, added_prompt, negative_prompt, guidance_scale, colour_fix,
process_size, seed) over the pipeline's defaults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if model == "" || in == "" || out == "" {
				return &exitError{ExitError, "--model, --in and --out are required"}
			}
			if inflight < 1 {
				return &exitError{ExitError, fmt.Sprintf("--inflight %d: want at least 1", inflight)}
			}
			dev, err := models.ParseDevice(device)
			if err != nil {
				return err
			}
			dev.Threads, dev.IOBinding = threads, ioBinding
			if dev.EPOptions, err = parseEPOptions(epOpts); err != nil {
				return err
			}
			if err := ort.apply(&dev); err != nil {
				return err
			}
			var r runners.Runner
			if addsr.IsPipeline(model) {
				r, err = openAddSR(model, dev, steps, saveSteps, addsrOpts, maxPixels)
			} else if len(addsrOpts) > 0 || steps > 0 || saveSteps {
				return &exitError{ExitError, "--steps, --save-steps and --option are for AddSR pipelines (a folder with pipeline.json)"}
			} else {
				r, err = openRunner(model, runners.ONNXOptions{Device: dev, Tile: tile, Overlap: overlap, Batch: batch})
			}
			if err != nil {
				return err
			}
			if c, ok := r.(interface{ Close() error }); ok {
				defer c.Close()
			}
			if a, ok := r.(*addsr.Runner); ok {
				p := a.Placement()
				fixture := ""
				if a.Manifest().TestFixture {
					fixture = " — a test fixture, not AddSR"
				}
				fmt.Fprintf(stderr, "%s on %s (%s, ONNX Runtime %s), steps %v%s\n", a.Name(), p.Device, p.EP, p.ORTVersion, a.Steps(), fixture)
			}
			if o, ok := r.(*runners.ONNX); ok {
				p := o.Placement()
				fmt.Fprintf(stderr, "%s on %s (%s, ONNX Runtime %s)\n", o.Name(), p.Device, p.EP, p.ORTVersion)
				if p.IOBinding != "" {
					fmt.Fprintf(stderr, "IO binding: %s\n", p.IOBinding)
				}
				if p.Note != "" {
					fmt.Fprintln(stderr, p.Note)
				}
			}
			files, err := datasets.ListImages(in)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("%s: no images", in)
			}
			if err := bench.PrepareOut(out, "sr", overwrite); err != nil {
				return err
			}
			// Warm-up runs on the first image, as a batch of it the size the
			// timed batches will have (not timed, not saved): the first
			// inference of a shape on a GPU includes kernel selection and
			// allocation.
			if warmup > 0 {
				if lr, err := img.Load(files[0], img.DecodeOptions{}); err == nil {
					ins := make([]runners.Input, workpool.EvenChunk(len(files), batch))
					for i := range ins {
						ins[i] = runners.Input{ID: datasets.Stem(files[0]), Dataset: filepath.Base(in), LR: lr}
					}
					for i := 0; i < warmup; i++ {
						if _, err := runners.RunBatch(cmd.Context(), r, ins); err != nil {
							return err
						}
					}
				}
			}
			step, done := progress(stderr, len(files), "sr")
			sum, err := bench.Upscale(cmd.Context(), r, files, out, bench.UpscaleOptions{
				Batch: batch, Workers: workers, Inflight: inflight, Dataset: filepath.Base(in), Step: step, SaveSteps: saveSteps,
				Skipped: func(f string, err error) { fmt.Fprintf(stderr, "skipped %s: %v\n", f, err) },
			})
			done()
			if err != nil {
				return err
			}
			mean, median := msMeanMedian(sum.Times)
			shared := ""
			if sum.Shared > 1 {
				shared = fmt.Sprintf(", up to %d images per inference", sum.Shared)
			}
			if len(sum.Stages) > 1 { // where a runner's time goes: the GPU's share, the host's
				var parts []string
				for _, st := range sum.Stages {
					_, med := msMeanMedian(st.Times)
					parts = append(parts, fmt.Sprintf("%s %.1f ms", st.Name, med))
				}
				shared += "; medians: " + strings.Join(parts, ", ")
			}
			if inflight > 1 {
				shared += fmt.Sprintf("; %d batches in flight, so these include waiting for the device", inflight)
			}
			fmt.Fprintf(stdout, "%d images → %s (runner: mean %.1f ms, median %.1f ms per image%s, %d warm-up runs before; wall %.2f s, %.1f images/s with decoding and PNG writing)\n",
				sum.Done, out, mean, median, shared, warmup,
				sum.Wall.Seconds(), float64(sum.Done)/sum.Wall.Seconds())
			if sum.Failed > 0 {
				return &exitError{ExitSkipped, plural(sum.Failed, "image") + " failed"}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "model: FILE.onnx, bicubic, nearest or folder:DIR")
	f.StringVar(&in, "in", "", "folder of LR images")
	f.StringVar(&out, "out", "", "folder for the SR PNGs")
	f.StringVar(&device, "device", "cpu", "cpu, cuda, cuda:N or auto")
	f.IntVar(&tile, "tile", 0, "tile size in LR pixels (0: whole images)")
	f.IntVar(&overlap, "overlap", 8, "tile overlap in LR pixels")
	f.IntVar(&batch, "batch", 1, "images (or tiles) per inference: same-size inputs share one call, for GPU throughput")
	f.IntVar(&threads, "threads", 0, "ONNX Runtime threads per inference on the CPU (0: one per physical core)")
	f.IntVar(&workers, "workers", 0, "goroutines decoding and writing PNGs beside the inference (0: one per CPU)")
	f.IntVar(&inflight, "inflight", 1, "batches at the runner at once: on a GPU one's packing and copies overlap another's inference (per-image times then include waiting; read images/s)")
	f.StringArrayVar(&epOpts, "ep-option", nil, "CUDA execution provider option key=value (repeatable), e.g. prefer_nhwc=1")
	f.IntVar(&warmup, "warmup", 0, "untimed runs on the first image before timing (use ≥ 3 on a GPU)")
	f.BoolVar(&ioBinding, "io-binding", false, "keep inputs and outputs in the device's memory, bound once per shape (CUDA: the plugin provider; with --ep-option enable_cuda_graph=1, a CUDA graph per shape)")
	f.IntVar(&steps, "steps", 0, "AddSR: sampling steps (0: all of the pipeline's timesteps)")
	f.BoolVar(&saveSteps, "save-steps", false, "AddSR: also write each step's output to OUT/stepK/")
	f.BoolVar(&overwrite, "overwrite", false, "write into a non-empty folder sr did not make")
	f.StringArrayVar(&addsrOpts, "option", nil, "AddSR option KEY=VALUE (repeatable): psr, psr_weight, prompt, guidance_scale, colour_fix, seed, …")
	f.IntVar(&maxPixels, "max-output-pixels", 0, "AddSR: refuse images processed at more pixels than this (0: 2048²)")
	ort.register(f)
	return cmd
}

// openAddSR opens an AddSR pipeline for sr: steps 1…K when every step is
// saved, K alone otherwise.
func openAddSR(dir string, dev models.Device, k int, saveSteps bool, opts []string, maxPixels int) (*addsr.Runner, error) {
	man, err := addsr.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	set := man.Defaults
	for _, kv := range opts {
		key, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, &exitError{ExitError, fmt.Sprintf("--option %q: want KEY=VALUE", kv)}
		}
		if err := set.Set(key, val); err != nil {
			return nil, &exitError{ExitError, "--option: " + err.Error()}
		}
	}
	if k == 0 {
		k = len(man.Scheduler.Timesteps)
	}
	steps := []int{k}
	if saveSteps {
		steps = nil
		for i := 1; i <= k; i++ {
			steps = append(steps, i)
		}
	}
	return addsr.Open(dir, addsr.Options{Device: dev, Settings: &set, Steps: steps, MaxOutputPixels: maxPixels})
}

func newModelsTokenize(stdout io.Writer) *cobra.Command {
	var dir, format, pad string
	cmd := &cobra.Command{
		Use:   "tokenize --tokenizer DIR [--format text|json] TEXT…",
		Short: "Print the token ids a prompt becomes (CLIP BPE, as Stable Diffusion's text encoder takes them)",
		Long: `DIR is a tokenizer folder (vocab.json, merges.txt and, if present,
special_tokens_map.json for the pad token, as in SD-2's tokenizer/) or an
AddSR pipeline folder. Each TEXT is printed with its ids, padded to the
context length, and its tokens.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, texts []string) error {
			if dir == "" {
				return &exitError{ExitError, "--tokenizer is required"}
			}
			if format != "text" && format != "json" {
				return &exitError{ExitError, fmt.Sprintf("--format %q: text or json", format)}
			}
			tk, err := addsr.LoadTokenizer(dir, pad)
			if err != nil {
				return err
			}
			type row struct {
				Text      string   `json:"text"`
				IDs       []int    `json:"ids"`
				Tokens    []string `json:"tokens"`
				Truncated bool     `json:"truncated"`
			}
			var rows []row
			for _, t := range texts {
				ids, trunc := tk.Encode(t)
				rows = append(rows, row{t, ids, tk.Tokens(t), trunc})
			}
			if format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			for _, r := range rows {
				fmt.Fprintf(stdout, "%q\n  ids (%d): %v\n  tokens (%d): %s\n", r.Text, len(r.IDs), r.IDs, len(r.Tokens), strings.Join(r.Tokens, " "))
				if r.Truncated {
					fmt.Fprintf(stdout, "  truncated: only the first %d tokens reach the text encoder\n", len(r.IDs)-2)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "tokenizer", "", "tokenizer folder (vocab.json, merges.txt) or AddSR pipeline folder")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().StringVar(&pad, "pad-token", "", "pad token (default: the folder's special_tokens_map.json or pipeline.json, else <|endoftext|>)")
	return cmd
}

// openRunner builds a runner from a --model value.
func openRunner(model string, o runners.ONNXOptions) (runners.Runner, error) {
	switch {
	case model == "bicubic" || model == "nearest":
		return runners.New(model, 4)
	case strings.HasPrefix(model, "folder:"):
		dir := strings.TrimPrefix(model, "folder:")
		return runners.NewFolder(filepath.Base(dir), 4, map[int]string{0: dir}, datasets.StemPattern{})
	case strings.HasSuffix(strings.ToLower(model), ".onnx"):
		return runners.NewONNX(model, o)
	}
	return nil, fmt.Errorf("--model %q: use an .onnx file with its manifest, bicubic, nearest or folder:DIR", model)
}

func newModelsVerify(stdout, stderr io.Writer) *cobra.Command {
	var pairs, device string
	cmd := &cobra.Command{
		Use:   "verify DIR [--pairs ../shared/data/pyiqa-calibration]",
		Short: "Check exported models: metrics against pyiqa's scores, AddSR pipelines against PyTorch",
		Long: `For every NAME.onnx in DIR whose manifest names a metric and carries
calibration scores (written by models/export/*.py from pyiqa itself), score
the calibration pairs (PAIRS/ref/F and PAIRS/dist/F) with addsr-bench's metric
and compare, with pyiqa's own tolerances: 1e-2 relative (3e-2 for musiq).

When DIR is an AddSR pipeline (a folder with pipeline.json), run each graph
on the check inputs the exporter stored and compare with the PyTorch
module's outputs, within the manifest's atol + rtol·|torch| per graph.
Exit 0 when every model agrees, 1 otherwise.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dev, err := models.ParseDevice(device)
			if err != nil {
				return err
			}
			if addsr.IsPipeline(args[0]) {
				return verifyPipeline(stdout, stderr, args[0], dev)
			}
			files, err := filepath.Glob(filepath.Join(args[0], "*.onnx"))
			if err != nil {
				return err
			}
			checked, bad, unusable, worst := 0, 0, 0, 0.0
			for _, f := range files {
				// The manifest alone: the metric's model is hashed as it
				// loads (models.OpenVerified), once.
				m, err := models.ReadManifest(f)
				if err != nil {
					fmt.Fprintf(stderr, "%v\n", err)
					unusable++
					continue
				}
				if m.Kind != "metric" || m.Metric == "" || len(m.Calibration) == 0 {
					continue
				}
				met, err := metrics.New(m.Metric, metrics.Config{Models: args[0], Device: dev})
				if err != nil {
					return err
				}
				if _, err := metrics.Load(met); err != nil { // a wrong hash, a graph that is not the metric's
					fmt.Fprintf(stderr, "%s: %v\n", m.Metric, err)
					unusable++
					continue
				}
				tol := 1e-2
				if strings.HasPrefix(m.Metric, "musiq") {
					tol = 3e-2
				}
				for _, file := range slices.Sorted(maps.Keys(m.Calibration)) {
					want := m.Calibration[file]
					checked++
					ref, err1 := img.Load(filepath.Join(pairs, "ref", file), img.DecodeOptions{})
					dist, err2 := img.Load(filepath.Join(pairs, "dist", file), img.DecodeOptions{})
					if err := errors.Join(err1, err2); err != nil {
						return fmt.Errorf("%w (pass --pairs with ref/ and dist/ folders)", err)
					}
					got, err := met.Score(dist, ref)
					rel := math.Abs(got-want) / math.Abs(want)
					status := "ok"
					if err != nil || math.Abs(got-want) > tol*math.Abs(want) {
						status, bad = "MISMATCH", bad+1
					}
					if err != nil {
						status += " (" + err.Error() + ")"
					} else if got != want {
						worst = max(worst, rel)
					}
					fmt.Fprintf(stdout, "%-12s %-12s pyiqa %.6g  addsr-bench %.6g  rel %.1e  %s\n", m.Metric, file, want, got, rel, status)
				}
				metrics.Close([]metrics.Metric{met}) // one model in memory at a time
			}
			if checked == 0 && unusable == 0 {
				return fmt.Errorf("%s has no metric models with calibration scores", args[0])
			}
			if bad > 0 || unusable > 0 {
				msg := fmt.Sprintf("%d of %d checks failed", bad, checked)
				if unusable > 0 {
					msg += fmt.Sprintf("; models that could not be loaded (above): %d", unusable)
				}
				return &exitError{ExitSkipped, msg}
			}
			fmt.Fprintf(stdout, "%d checks agree with pyiqa (largest relative difference %.1e)\n", checked, worst)
			return nil
		},
	}
	cmd.Flags().StringVar(&pairs, "pairs", filepath.Join("..", "shared", "data", "pyiqa-calibration"), "folder with ref/ and dist/ calibration pairs")
	cmd.Flags().StringVar(&device, "device", "cpu", "cpu, cuda, cuda:N or auto")
	return cmd
}

// parseEPOptions reads the repeatable --ep-option key=value.
func parseEPOptions(kvs []string) (map[string]string, error) {
	var opts map[string]string
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--ep-option %q: want key=value", kv)
		}
		if opts == nil {
			opts = map[string]string{}
		}
		opts[k] = v
	}
	return opts, nil
}

// verifyPipeline checks an AddSR pipeline's graphs against PyTorch.
func verifyPipeline(stdout, stderr io.Writer, dir string, dev models.Device) error {
	res, err := addsr.Verify(dir, dev)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range res {
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(stderr, "%s: %v\n", r.Graph, r.Err)
			fmt.Fprintf(stdout, "%-13s FAIL (did not run)\n", r.Graph)
		case !r.Pass:
			failed++
			fmt.Fprintf(stdout, "%-13s FAIL max |onnx−torch| %.3g, %.2f× the tolerance (%s)\n", r.Graph, r.MaxAbs, r.Worst, r.Output)
		default:
			fmt.Fprintf(stdout, "%-13s ok   max |onnx−torch| %.3g, %.2f× the tolerance\n", r.Graph, r.MaxAbs, r.Worst)
		}
	}
	if failed > 0 {
		return &exitError{ExitSkipped, fmt.Sprintf("%d of %d graphs disagree with PyTorch", failed, len(res))}
	}
	fmt.Fprintf(stdout, "%d graphs agree with PyTorch\n", len(res))
	return nil
}
