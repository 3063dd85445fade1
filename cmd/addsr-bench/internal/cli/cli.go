// Package cli is the addsr-bench command line. Main is the testable entry
// point: it takes arguments and writers and returns the exit status.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/addsr-bench/addsr-bench/bench"
	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/reports"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitSkipped = 1 // some images were skipped; the rest were scored
	ExitError   = 2
	// ExitInterrupted is a run stopped by Ctrl-C (128 + SIGINT, as shells say).
	ExitInterrupted = 130
)

// exitError carries an exit status through cobra.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Main runs the command line with args (without the program name).
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "addsr-bench:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "addsr-bench:", err)
	return ExitError
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "addsr-bench",
		Short: "Benchmark blind super-resolution models the way the AddSR paper does",
		Long: `addsr-bench scores super-resolution outputs with the field's metrics, computed
exactly as IQA-PyTorch (pyiqa) or BasicSR compute them, and runs SR methods on
test sets to produce paper-style tables, per-image records and plots.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       bench.Version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newScore(stdout, stderr), newDemo(stdout, stderr), newMetrics(stdout),
		newDatasets(stdout, stderr), newDegrade(stdout, stderr),
		newRun(stdout, stderr), newMerge(stdout, stderr), newReport(stdout), newImport(stdout), newCheck(stdout),
		newModels(stdout, stderr), newSR(stdout, stderr))
	refuseUnknown(root)
	return root
}

// refuseUnknown makes every command that only groups others (models,
// datasets) fail on an unknown subcommand, which cobra answers with help
// and exit 0: exit 2 with "unknown command", and help without arguments.
func refuseUnknown(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknown(sub)
	}
	if !c.HasSubCommands() || c.Run != nil || c.RunE != nil {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return &exitError{ExitError, fmt.Sprintf("unknown command %q for %q (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())}
	}
}

func newScore(stdout, stderr io.Writer) *cobra.Command {
	var ort ortFlags
	var (
		ref, dist, list, format string
		distPattern             string
		crop, workers, threads  int
		batch, warmup           int
		maxPixels               int64
		noVerify, timings       bool
		ioBinding               bool
		modelsDir, device       string
		maxMemory               string
		netPixels               int64
		epOpts                  []string
	)
	cmd := &cobra.Command{
		Use:   "score --dist PATH [--ref PATH] [-m LIST]",
		Short: "Score images (files or folders paired by file stem) with metrics",
		Example: `  addsr-bench score --ref hr.png --dist sr.png -m psnr,ssim --format jsonl
  addsr-bench score --ref HR/ --dist results/ -m psnr,ssim,niqe --crop-border 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dist == "" {
				return &exitError{ExitError, "--dist is required: the image or folder to score"}
			}
			if !contains(reports.Formats, format) {
				return &exitError{ExitError, fmt.Sprintf("--format %q: use one of %s", format, strings.Join(reports.Formats, ", "))}
			}
			dev, err := models.ParseDevice(device)
			if err != nil {
				return err
			}
			dev.Threads, dev.IOBinding = threads, ioBinding
			if threads == 0 {
				dev.Threads = bench.CPUThreads(dev, workers)
			}
			if err := ort.apply(&dev); err != nil {
				return err
			}
			if dev.EPOptions, err = parseEPOptions(epOpts); err != nil {
				return err
			}
			mem, err := metrics.ParseBytes(maxMemory)
			if err != nil {
				return fmt.Errorf("--metric-max-memory: %w", err)
			}
			ms, err := metrics.NewList(list, metrics.Config{CropBorder: crop, Models: modelsDir, Device: dev, MaxPixels: netPixels,
				MaxMemory: mem, Concurrency: workpool.Workers(workers)})
			if err != nil {
				return err
			}
			defer metrics.Close(ms)
			if ref == "" {
				for _, m := range ms {
					if m.NeedsReference() {
						return &exitError{ExitError, fmt.Sprintf("%s is a full-reference metric: pass --ref, or choose no-reference metrics such as niqe", m.Name())}
					}
				}
			}
			if err := verifyManifest(ref, noVerify); err != nil {
				return err
			}
			pat, err := datasets.ParseStemPattern(distPattern)
			if err != nil {
				return fmt.Errorf("--dist-pattern: %w", err)
			}
			pairs, problems, err := datasets.PairPathsPattern(dist, ref, pat)
			if err != nil {
				return err
			}
			// Sessions are opened before the clock starts: a timed run times
			// the scoring, not the model loading.
			loadStart := time.Now()
			loaded := metrics.LoadAll(ms)
			var loadErrs []error // every metric's, not only the first
			for i, m := range ms {
				if err := loaded[i].Err; err != nil {
					loadErrs = append(loadErrs, fmt.Errorf("%s: %w", m.Name(), err))
				}
				if note := loaded[i].Note; note != "" {
					fmt.Fprintf(stderr, "metric %s: %s\n", m.Name(), note)
				}
			}
			if len(loadErrs) > 0 {
				return errors.Join(loadErrs...)
			}
			for _, m := range ms {
				if strings.Contains(m.Fingerprint(), models.FixtureMark) {
					fmt.Fprintf(stderr, "metric %s: its model is a random-weight test fixture, not %s's network: these scores test the plumbing and mean nothing\n", m.Name(), m.Name())
				}
			}
			if timings {
				writeLoadTimings(stderr, ms, loaded, time.Since(loadStart))
			}
			opts := bench.ScoreOptions{Workers: workers, Decode: img.DecodeOptions{MaxPixels: maxPixels}, Timings: timings, Batch: batch}
			if warmup > 0 && len(pairs) > 0 {
				t0 := time.Now()
				if err := bench.Warmup(cmd.Context(), pairs[0], len(pairs), ms, warmup, opts); err != nil {
					return err
				}
				if timings {
					fmt.Fprintf(stderr, "warm-up: %s over %s in %.2f s, metrics at once\n", passes(warmup), pairs[0].ID, time.Since(t0).Seconds())
				}
			}
			step, done := progress(stderr, len(pairs), "scoring")
			opts.Progress = step
			t0 := time.Now()
			recs, err := bench.ScorePairs(cmd.Context(), pairs, ms, opts)
			wall := time.Since(t0)
			done()
			if err != nil {
				return err
			}
			if timings {
				writeScoreTimings(stderr, recs, ms, wall, workpool.Workers(workers), warmup)
			}
			for _, p := range problems {
				recs = append(recs, reports.Record{Image: p.ID, Error: p.Error()})
			}
			sort.SliceStable(recs, func(i, j int) bool { return recs[i].Image < recs[j].Image })
			var names []string
			for _, m := range ms {
				names = append(names, m.Name())
			}
			if err := reports.WriteScores(stdout, format, recs, names); err != nil {
				return err
			}
			skipped := 0
			for _, r := range recs {
				if r.Skipped() {
					skipped++
					fmt.Fprintf(stderr, "skipped %s: %s\n", r.Image, r.Error)
				}
			}
			if skipped > 0 {
				return &exitError{ExitSkipped, fmt.Sprintf("%d of %d images skipped", skipped, len(recs))}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ref, "ref", "", "reference image or folder (omit for no-reference metrics)")
	f.StringVar(&dist, "dist", "", "image or folder to score")
	f.StringVar(&distPattern, "dist-pattern", "", "how --dist file names map to the reference stems, {stem} once: {stem}_out reads 0801_out.png as 0801 (default: the file stem)")
	f.StringVarP(&list, "metrics", "m", "psnr,ssim", "comma-separated metrics (see `addsr-bench metrics`)")
	f.IntVar(&crop, "crop-border", 0, "pixels removed from each edge before scoring")
	f.StringVar(&format, "format", "table", "output: "+strings.Join(reports.Formats, ", "))
	f.IntVar(&workers, "workers", 0, "parallel images (0: one per CPU)")
	f.IntVar(&threads, "threads", 0, "ONNX Runtime threads per learned-metric inference on the CPU (0: cores ÷ workers)")
	f.IntVar(&batch, "batch", 1, "images per worker scored together: learned metrics stack same-size images into one inference (for GPUs)")
	f.Int64Var(&maxPixels, "max-pixels", img.DefaultMaxPixels, "refuse images larger than this, read from the header (negative: no limit)")
	f.BoolVar(&timings, "timings", false, "time each metric per image and print the means, medians and images/s on stderr")
	f.IntVar(&warmup, "warmup", 0, "untimed passes over the first image (as a batch of it with --batch) before scoring; use ≥ 1 on a GPU when timing")
	f.BoolVar(&noVerify, "no-verify", false, "do not check the reference set against its manifest.json")
	f.StringVar(&modelsDir, "models", "", "folder of learned metrics' ONNX models (default: .cache/models)")
	f.StringVar(&device, "device", "cpu", "device for learned metrics: cpu, cuda, cuda:N or auto")
	ort.register(f)
	f.StringArrayVar(&epOpts, "ep-option", nil, "CUDA execution provider option for learned metrics, key=value (repeatable), e.g. cudnn_conv_algo_search=HEURISTIC")
	f.BoolVar(&ioBinding, "io-binding", false, "learned metrics: inputs and outputs in the device's memory, a session per input shape with its dimensions pinned (CUDA: the plugin provider; with --ep-option enable_cuda_graph=1, a CUDA graph per shape)")
	f.Int64Var(&netPixels, "metric-max-pixels", 25_000_000, "largest image the full-resolution networks (lpips, musiq, clipiqa) accept")
	f.StringVar(&maxMemory, "metric-max-memory", "0", "memory one learned-metric inference may plan for, e.g. 16GiB, or off (0: on the CPU 80% of the available memory shared by the workers; on a GPU no check)")
	return cmd
}

// writeLoadTimings prints how long each learned metric's model took to
// load (read, hash, rewrite, and its session where it is made up front),
// all loading at once.
func writeLoadTimings(w io.Writer, ms []metrics.Metric, loaded []metrics.LoadResult, wall time.Duration) {
	var each []string
	for i, m := range ms {
		if _, ok := m.(interface{ Ready() error }); ok {
			each = append(each, fmt.Sprintf("%s %.2f s", m.Name(), loaded[i].Took.Seconds()))
		}
	}
	if len(each) > 0 {
		fmt.Fprintf(w, "models loaded in %.2f s, at once: %s\n", wall.Seconds(), strings.Join(each, ", "))
	}
}

// passes is "1 pass" or "N passes".
func passes(n int) string {
	if n == 1 {
		return "1 pass"
	}
	return fmt.Sprintf("%d passes", n)
}

// writeScoreTimings prints each metric's mean and median time per image and
// the run's throughput.
func writeScoreTimings(w io.Writer, recs []reports.Record, ms []metrics.Metric, wall time.Duration, workers, warmup int) {
	warm := ""
	if warmup > 0 {
		warm = ", " + strings.Replace(passes(warmup), " ", " warm-up ", 1)
	}
	n := 0
	for _, r := range recs {
		if !r.Skipped() {
			n++
		}
	}
	fmt.Fprintf(w, "timings: %d images in %.2f s (%.1f images/s, %d workers; sessions opened before%s)\n", n, wall.Seconds(), float64(n)/wall.Seconds(), workers, warm)
	names := []string{"decode"}
	for _, m := range ms {
		names = append(names, m.Name())
	}
	for _, name := range names {
		var v []float64
		for _, r := range recs {
			if t, ok := r.TimingsMS[name]; ok {
				v = append(v, t)
			}
		}
		if len(v) == 0 {
			continue
		}
		mean, median := meanMedian(v)
		fmt.Fprintf(w, "  %-14s mean %8.2f ms  median %8.2f ms per image\n", name, mean, median)
	}
}

// meanMedian is the mean and the upper median of v (sorted in place); 0, 0
// for none.
func meanMedian(v []float64) (mean, median float64) {
	if len(v) == 0 {
		return 0, 0
	}
	return reports.MeanOf(v), reports.Quantile(v, 0.5)
}

// msMeanMedian is meanMedian of durations, in milliseconds.
func msMeanMedian(ds []time.Duration) (mean, median float64) {
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d.Microseconds()) / 1000
	}
	return meanMedian(ms)
}

// verifyManifest checks the dataset a --ref folder belongs to (the folder
// itself or its parent, for HR/ inside a built set) against its manifest.
func verifyManifest(ref string, skip bool) error {
	if ref == "" || skip {
		return nil
	}
	for _, dir := range []string{ref, filepath.Dir(ref)} {
		if datasets.HasManifest(dir) {
			return datasets.Verify(dir)
		}
	}
	return nil
}

func newDemo(stdout, stderr io.Writer) *cobra.Command {
	var out string
	var workers int
	var noModels bool
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "Run the main job on the embedded sample photos and write a table, records and a plot",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				out = filepath.Join("runs", "demo-"+time.Now().Format("20060102-150405"))
			}
			t0 := time.Now()
			var finish func()
			var extra []string
			if noModels {
				fmt.Fprintln(stderr, "demo: without ONNX models (--no-models)")
			} else if p, ok := models.CachedFile("models/realesrgan-x4plus.onnx"); ok {
				extra = append(extra, p)
			} else {
				fmt.Fprintln(stderr, "demo: Real-ESRGAN x4plus is not installed (make models); running the built-in runners only")
			}
			res, err := bench.Demo(cmd.Context(), bench.DemoOptions{
				OutDir: out, Workers: workers, Models: extra,
				Progress: func(total int) func() {
					step, done := progress(stderr, total, "demo")
					finish = done
					return step
				},
			})
			if finish != nil {
				finish()
			}
			if err != nil {
				return err
			}
			if err := res.Summary.WriteMarkdown(stdout); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\nDemo finished in %.1f s.\n  table:   %s\n  records: %s\n  plot:    %s\n  report:  %s\n  run:     %s (addsr-bench report/check work on it)\n",
				time.Since(t0).Seconds(), res.Table, res.Records, res.Plot, res.Report, filepath.Join(res.OutDir, "run"))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output folder, which must not exist (default: runs/demo-TIMESTAMP)")
	cmd.Flags().IntVar(&workers, "workers", 0, "parallel jobs (0: one per CPU)")
	cmd.Flags().BoolVar(&noModels, "no-models", false, "leave out the ONNX models even when they are installed")
	return cmd
}

func newMetrics(stdout io.Writer) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "metrics [--models DIR]",
		Short: "List the metrics, their direction and convention, and which learned metrics have models installed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range metrics.Names() {
				m, err := metrics.New(n, metrics.Config{Models: dir})
				if err != nil {
					return err
				}
				ref := "no-ref"
				if m.NeedsReference() {
					ref = "full-ref"
				}
				fmt.Fprintf(stdout, "%-18s %s %-8s %s\n", n, m.Direction().Arrow(), ref, metrics.Summary(n))
				if s, ok := m.(interface{ ModelStem() string }); ok {
					if p, err := metrics.ModelPath(metrics.Config{Models: dir}, s.ModelStem()); err == nil {
						fmt.Fprintf(stdout, "%-18s   model: %s\n", "", p)
					} else {
						fmt.Fprintf(stdout, "%-18s   model: not installed (%s.onnx; export it with %s)\n", "", s.ModelStem(), exporterFor(s.ModelStem()))
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "models", "", "folder of learned metrics' models (default: .cache/models)")
	return cmd
}

// exporterFor is the command that exports a learned metric's graph.
func exporterFor(stem string) string {
	name, variant, _ := strings.Cut(stem, "-")
	switch name {
	case "lpips":
		return "python3 models/export/lpips.py --net " + variant + " --out .cache/models"
	case "maniqa":
		return "python3 models/export/maniqa.py --weights " + variant + " --out .cache/models"
	}
	return "python3 models/export/" + name + ".py --out .cache/models"
}

// progress returns a step function and a finisher for a bar on stderr. The
// bar is drawn only when stderr is a terminal, so logs and pipes stay clean.
// plural is "1 image", "2 images".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func progress(stderr io.Writer, total int, desc string) (step func(), done func()) {
	staged, done := progressStages(stderr, total, desc)
	return func() { staged("") }, done
}

// progressStages is progress whose step names the stage just finished
// ("dataset/method"), shown beside the bar with its ETA.
func progressStages(stderr io.Writer, total int, desc string) (step func(stage string), done func()) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || total == 0 {
		return func(string) {}, func() {}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	var mu sync.Mutex
	return func(stage string) {
			mu.Lock()
			if stage != "" {
				bar.Describe(desc + " " + stage)
			}
			bar.Add(1)
			mu.Unlock()
		}, func() {
			bar.Finish()
		}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
