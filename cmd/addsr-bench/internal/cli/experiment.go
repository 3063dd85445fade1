package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/addsr-bench/addsr-bench/bench"
	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
)

func newRun(stdout, stderr io.Writer) *cobra.Command {
	var (
		out, shard string
		shards     int
		resume     bool
		workers    int
		maxPixels  int64
		ort        ortFlags
		overwrite  bool
	)
	cmd := &cobra.Command{
		Use:   "run EXPERIMENT.yaml [--out DIR] [--resume] [--shard i/n]",
		Short: "Run an experiment (datasets × methods × metrics) into a run folder",
		Long: `Runs every method on every image of every dataset and appends one record per
(dataset, image, method, steps) to the run folder's records.jsonl, durably. A
run killed at any moment continues with --resume, losing and duplicating
nothing. --shard i/n (or --shards n inside a Kubernetes Indexed Job or a
Slurm array) runs a stable subset of the images; addsr-bench merge joins them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := bench.LoadSpec(args[0])
			if err != nil {
				return err
			}
			ortOver, err := ort.spec() // over the spec's onnxruntime: block
			if err != nil {
				return err
			}
			var sh bench.Shard
			switch {
			case shard != "":
				if sh, err = bench.ParseShard(shard); err != nil {
					return err
				}
			default:
				s, ok, err := bench.ShardFromEnv(shards)
				if err != nil {
					return err
				}
				if ok {
					sh = s
				} else if shards > 1 {
					return fmt.Errorf("--shards %d needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, or use --shard i/n", shards)
				}
			}
			if out == "" {
				name := spec.Name
				if name == "" {
					name = strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0]))
				}
				out = filepath.Join("runs", name)
			}
			var finish func()
			sum, err := bench.Run(cmd.Context(), spec, bench.RunOptions{
				Out: out, Resume: resume, Shard: sh, Workers: workers, Decode: img.DecodeOptions{MaxPixels: maxPixels}, Overwrite: overwrite, ORT: ortOver,
				Progress: func(total int) func(string) {
					step, done := progressStages(stderr, total, "run")
					finish = done
					return step
				},
				Notes: func(who, note string) { fmt.Fprintf(stderr, "%s: %s\n", who, note) },
			})
			if finish != nil {
				finish()
			}
			if cmd.Context().Err() != nil {
				// Ctrl-C: what is recorded stays; say how to go on.
				return &exitError{ExitInterrupted, fmt.Sprintf("interrupted — resume with `addsr-bench run %s --out %s --resume`", args[0], out)}
			}
			if err != nil {
				return err
			}
			if len(sum.Added) > 0 {
				fmt.Fprintf(stdout, "%s: metrics added to the spec: %s; %d records scored with them on the kept outputs\n",
					sum.Dir, strings.Join(sum.Added, ", "), sum.Rescored)
			}
			fmt.Fprintf(stdout, "%s: %d jobs run, %d already recorded, %d failed records\nrecords: %s\n",
				sum.Dir, sum.Jobs, sum.Resumed, sum.Failed, sum.RecordsFile)
			if sh == (bench.Shard{}) {
				// The run's tables, as report prints them.
				if e, _, err := bench.LoadExperiment(sum.Dir); err == nil {
					for _, c := range e.Tables() {
						fmt.Fprintln(stdout)
						c.WriteTerminal(stdout)
					}
				}
			} else {
				fmt.Fprintf(stdout, "shard %d/%d of the run: merge the shards (addsr-bench merge) for its tables\n", sh.Index, sh.Count)
			}
			if sum.Failed > 0 {
				return &exitError{ExitSkipped, fmt.Sprintf("%s failed; see their \"error\" in %s", plural(sum.Failed, "record"), sum.RecordsFile)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "run folder (default runs/<experiment name>)")
	f.BoolVar(&resume, "resume", false, "continue a run: skip what is recorded")
	f.StringVar(&shard, "shard", "", "run shard i of n (0-based), e.g. 3/8")
	f.IntVar(&shards, "shards", 0, "number of shards, the index taken from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID")
	f.IntVar(&workers, "workers", 0, "parallel jobs (0: one per CPU)")
	f.BoolVar(&overwrite, "overwrite", false, "start the run in a non-empty folder that is not a run folder")
	ort.register(f)
	f.Int64Var(&maxPixels, "max-pixels", img.DefaultMaxPixels, "refuse larger images, read from the header")
	return cmd
}

func newMerge(stdout, stderr io.Writer) *cobra.Command {
	var out string
	var allowIncomplete, overwrite bool
	cmd := &cobra.Command{
		Use:   "merge RUN... --out DIR",
		Short: "Merge shard runs of one experiment; report missing and duplicate records",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if out == "" {
				return &exitError{ExitError, "--out is required"}
			}
			sum, err := bench.Merge(args, out, bench.MergeOptions{AllowIncomplete: allowIncomplete, Overwrite: overwrite})
			if err != nil {
				return err
			}
			for _, s := range sum.MissingShards {
				fmt.Fprintf(stderr, "missing shard: %s; rerun it with addsr-bench run SPEC --out DIR --shard %s --resume\n", s, strings.Fields(s)[0])
			}
			if sum.Written {
				fmt.Fprintf(stdout, "merged %d records into %s\n", sum.Records, filepath.Join(out, "records.jsonl"))
			} else {
				fmt.Fprintf(stdout, "incomplete: nothing written to %s (--allow-incomplete writes it, marked incomplete)\n", out)
			}
			for _, k := range sum.Duplicates {
				fmt.Fprintf(stderr, "duplicate: %s (kept the first)\n", k)
			}
			for i, k := range sum.Missing {
				if i == 20 {
					fmt.Fprintf(stderr, "… %d missing in all\n", len(sum.Missing))
					break
				}
				fmt.Fprintf(stderr, "missing: %s\n", k)
			}
			if len(sum.Missing)+len(sum.Duplicates) > 0 {
				return &exitError{ExitSkipped, fmt.Sprintf("%d missing, %d duplicate records", len(sum.Missing), len(sum.Duplicates))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the merged run")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "write into a non-empty folder merge did not make")
	cmd.Flags().BoolVar(&allowIncomplete, "allow-incomplete", false, "write the merged run even when records or shards are missing (marked incomplete: check refuses it)")
	return cmd
}

func newReport(stdout io.Writer) *cobra.Command {
	var overwrite bool
	var out, pd string
	cmd := &cobra.Command{
		Use:   "report RUN [--out DIR]",
		Short: "Tables (Markdown, LaTeX, CSV, JSON), plots (PNG, SVG) and an HTML report of a run",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if out == "" {
				out = filepath.Join(args[0], "report")
			}
			axes, err := bench.ParseAxesFlag(pd)
			if err != nil {
				return err
			}
			rf, tables, err := bench.WriteReportTo(args[0], out, bench.ReportOptions{Overwrite: overwrite, PD: axes})
			if err != nil {
				return err
			}
			for _, t := range tables {
				if err := t.WriteTerminal(stdout); err != nil {
					return err
				}
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "report in %s: %s\n", rf.Dir, strings.Join(rf.Files, ", "))
			if metas, err := bench.LoadRunMeta(args[0]); err == nil {
				n := 0
				for _, m := range metas {
					n += m.IncompleteRecords
				}
				if n > 0 {
					fmt.Fprintf(stdout, "WARNING: %s is an incomplete merge: %d records are missing, so its means are over fewer images than the run has\n", args[0], n)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "report folder (default RUN/report)")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "write into a non-empty folder report did not make")
	cmd.Flags().StringVar(&pd, "pd", "", "perception–distortion axes, x=METRIC,y=METRIC (over the spec's report: pd; default from the metrics present)")
	return cmd
}

func newCheck(stdout io.Writer) *cobra.Command {
	var baseline, run, tols string
	var perImage, allowMissing bool
	cmd := &cobra.Command{
		Use:   "check --baseline RUN|summary.json --run RUN [--tol psnr=0.05,lpips=2%]",
		Short: "CI gate: compare a run with a baseline; exit 1 on a regression",
		Long: `Compares each dataset × method × metric mean (and each image with --per-image)
with the baseline in the metric's direction: a drop in PSNR or a rise in
LPIPS/NIQE beyond the tolerance is a regression, and so is a missing value,
and so is a mean over other images than the baseline's (lost or corrupt
images, one shard of a run): the images are named; --allow-missing lets
those pass. Metrics configured differently (convention, crop border,
weights, device) are not compared at all: exit 2, saying what changed.
Tolerances are absolute, or relative with %; "*" sets the default (1e-9);
a tolerance for a metric the baseline lacks is an error.
Exit 0: pass, 1: regression, 2: error. Prints a Markdown summary.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if baseline == "" || run == "" {
				return &exitError{ExitError, "--baseline and --run are required"}
			}
			tol, err := bench.ParseTolerances(tols)
			if err != nil {
				return err
			}
			base, baseRecs, err := bench.LoadSummary(baseline)
			if err != nil {
				return err
			}
			if unknown, known := bench.UnknownTolerances(base, tol); len(unknown) > 0 {
				return &exitError{ExitError, fmt.Sprintf("--tol: %s: not a metric of %s (its metrics: %s)",
					strings.Join(unknown, ", "), baseline, strings.Join(known, ", "))}
			}
			cur, curRecs, err := bench.LoadSummary(run)
			if err != nil {
				return err
			}
			if perImage && (baseRecs == nil || curRecs == nil) {
				return &exitError{ExitError, "--per-image needs run folders, not summary.json files"}
			}
			res := bench.Check(base, cur, baseRecs, curRecs, tol, bench.CheckOptions{PerImage: perImage, AllowMissing: allowMissing})
			if err := res.WriteMarkdown(stdout); err != nil {
				return err
			}
			if len(res.Incompatible) > 0 {
				return &exitError{ExitError, fmt.Sprintf("not comparable: %s", strings.Join(res.Incompatible, "; "))}
			}
			if res.Regressions > 0 {
				return &exitError{ExitSkipped, fmt.Sprintf("%d regressions against %s", res.Regressions, baseline)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&baseline, "baseline", "", "baseline run folder or summary.json")
	f.StringVar(&run, "run", "", "run folder to check (or its summary.json)")
	f.StringVar(&tols, "tol", "", "tolerances: metric=abs or metric=rel%, comma-separated; * for the default")
	f.BoolVar(&perImage, "per-image", false, "also compare every image")
	f.BoolVar(&allowMissing, "allow-missing", false, "let means over fewer or other images than the baseline's pass")
	return cmd
}

func newImport(stdout io.Writer) *cobra.Command {
	var o bench.ImportOptions
	var pattern string
	cmd := &cobra.Command{
		Use:   "import RUN SCORES --metric NAME --dataset D --method M [--steps K]",
		Short: "Add scores computed elsewhere (pyiqa's output) to a run, labelled imported",
		Long: `import adds one metric's per-image scores, computed by another tool, to one
column of a run (a method at a step count on a dataset): for metrics whose
weights cannot be exported to ONNX. SCORES is pyiqa's inference_iqa.py
--save_file output (image<TAB>score per line), a CSV (image,score, or a
header naming the metric's column) or JSON {"image": score}. The scores
are kept in RUN/imports.json with the file's hash and --source; report and
check show the metric labelled [imported].`,
		Example: `  addsr-bench import runs/t1 musiq.txt --metric musiq --dataset realsr --method AddSR --steps 4 \
      --source "pyiqa 0.1.13 musiq (koniq), CUDA" --dist-pattern "{stem}_out"`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			var err error
			if o.Pattern, err = datasets.ParseStemPattern(pattern); err != nil {
				return fmt.Errorf("--dist-pattern: %w", err)
			}
			im, err := bench.ImportScores(args[0], args[1], o)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "imported %d %s scores (%s is better) for %s at steps %d on %s into %s\n",
				len(im.Values), im.Metric, im.Direction, im.Method, im.Steps, im.Dataset, filepath.Join(args[0], bench.ImportsFile))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Metric, "metric", "", "the metric's name (one of addsr-bench's, or any with --direction)")
	f.StringVar(&o.Direction, "direction", "", "higher or lower is better (needed for a metric addsr-bench does not know)")
	f.StringVar(&o.Dataset, "dataset", "", "dataset of the run")
	f.StringVar(&o.Method, "method", "", "method of the run")
	f.IntVar(&o.Steps, "steps", 0, "step count of the method (0: a single-output method)")
	f.StringVar(&o.Source, "source", "", "what computed the scores (tool, version, weights, device), kept with them")
	f.StringVar(&pattern, "dist-pattern", "", "how image names in the file map to the run's stems, {stem} once")
	f.BoolVar(&o.Replace, "replace", false, "take the place of an earlier import of the same metric and column")
	f.BoolVar(&o.AllowMissing, "allow-missing", false, "import even when some scored images have no score")
	return cmd
}
