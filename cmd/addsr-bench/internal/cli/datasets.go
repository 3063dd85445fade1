package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/addsr-bench/addsr-bench/bench"
	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/datasets/degrade"
	"github.com/addsr-bench/addsr-bench/internal/img"
)

func newDatasets(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "Inspect test sets and manage their manifests",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "inspect DIR",
		Short: "Print a dataset's layout, counts, sizes, scale and problems (reads headers only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ds, err := datasets.Open(args[0])
			if err != nil {
				return err
			}
			in := ds.Inspect()
			fmt.Fprintf(stdout, "dataset:  %s\nlayout:   %s\nimages:   %d\n", args[0], in.Layout, in.Items)
			if in.Scale > 0 {
				fmt.Fprintf(stdout, "scale:    ×%d\n", in.Scale)
			} else {
				fmt.Fprintf(stdout, "scale:    unknown\n")
			}
			fmt.Fprintf(stdout, "HR sizes: %s\nLR sizes: %s\n", sizes(in.HRSizes), sizes(in.LRSizes))
			switch {
			case !datasets.HasManifest(args[0]):
				fmt.Fprintf(stdout, "manifest: none (addsr-bench datasets manifest %s writes one)\n", args[0])
			case datasets.Verify(args[0]) != nil:
				in.Problems = append(in.Problems, datasets.Verify(args[0]).Error())
				fmt.Fprintf(stdout, "manifest: DOES NOT MATCH\n")
			default:
				fmt.Fprintf(stdout, "manifest: verified\n")
			}
			if len(in.Problems) == 0 {
				fmt.Fprintln(stdout, "problems: none")
				return nil
			}
			fmt.Fprintf(stdout, "problems: %d\n", len(in.Problems))
			for _, p := range in.Problems {
				fmt.Fprintf(stdout, "  - %s\n", p)
			}
			return &exitError{ExitSkipped, ""}
		},
	})
	var rebuild bool
	manifest := &cobra.Command{
		Use:   "manifest DIR",
		Short: "Write DIR/manifest.json with every image's SHA-256, size and role",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			old, err := datasets.ReadManifest(args[0])
			if err == nil && !rebuild {
				return fmt.Errorf("%s already has a manifest; pass --rebuild to replace it", args[0])
			}
			ds, err := datasets.Open(args[0])
			if err != nil {
				return err
			}
			m, err := datasets.NewManifest(ds)
			if err != nil {
				return err
			}
			if old != nil { // keep how the set was made
				m.Recipe, m.Log = old.Recipe, old.Log
			}
			if err := m.Write(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s/%s: %d files\n", args[0], datasets.ManifestFile, len(m.Files))
			return nil
		},
	}
	manifest.Flags().BoolVar(&rebuild, "rebuild", false, "replace an existing manifest (after an intended change)")
	cmd.AddCommand(manifest)
	cmd.AddCommand(&cobra.Command{
		Use:   "verify DIR",
		Short: "Check every file against DIR/manifest.json",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if !datasets.HasManifest(args[0]) {
				return fmt.Errorf("%s has no %s", args[0], datasets.ManifestFile)
			}
			if err := datasets.Verify(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s matches its manifest\n", args[0])
			return nil
		},
	})
	return cmd
}

func sizes(m map[string]int) string {
	if len(m) == 0 {
		return "–"
	}
	var parts []string
	for s, n := range m {
		parts = append(parts, fmt.Sprintf("%s (%d)", s, n))
	}
	sort.Strings(parts)
	if len(parts) > 6 {
		parts = append(parts[:6], fmt.Sprintf("… %d sizes in all", len(m)))
	}
	return strings.Join(parts, ", ")
}

func newDegrade(stdout, stderr io.Writer) *cobra.Command {
	o := degrade.SetOptions{Options: degrade.Options{Scale: 4}}
	var maxPixels int64
	cmd := &cobra.Command{
		Use:   "degrade --preset NAME --in DIR --out DIR [--seed N]",
		Short: "Build a synthetic test set: HR crops and their degraded LR, with a manifest",
		Long: "Presets:\n" + func() string {
			var b strings.Builder
			for _, p := range degrade.Presets() {
				fmt.Fprintf(&b, "  %-26s %s\n", p, degrade.Summary(p))
			}
			return b.String()
		}(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Preset == "" || o.In == "" || o.Out == "" {
				return &exitError{ExitError, "--preset, --in and --out are required"}
			}
			files, err := datasets.ListImages(o.In)
			if err != nil {
				return err
			}
			step, done := progress(stderr, len(files), "degrade "+o.Preset)
			o.Progress, o.Tool = step, "addsr-bench "+bench.Version
			o.Decode = img.DecodeOptions{MaxPixels: maxPixels}
			res, err := degrade.BuildSet(cmd.Context(), o)
			done()
			for _, p := range res.Skipped {
				fmt.Fprintf(stderr, "skipped %s: %s\n", p.Path, p.Reason)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "built %d pairs in %s (HR/, LR/, %s)\n", res.Built, o.Out, datasets.ManifestFile)
			if len(res.Skipped) > 0 {
				return &exitError{ExitSkipped, plural(len(res.Skipped), "image") + " skipped"}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Preset, "preset", "", "degradation: "+strings.Join(degrade.Presets(), ", "))
	f.StringVar(&o.In, "in", "", "folder of HR images")
	f.StringVar(&o.Out, "out", "", "new folder for HR/, LR/ and manifest.json")
	f.Uint64Var(&o.Seed, "seed", 0, "seed; each image's randomness derives from (seed, file stem)")
	f.IntVar(&o.Workers, "workers", 0, "parallel images (0: one per CPU); outputs do not depend on it")
	f.IntVar(&o.CropSize, "crop-size", 512, "HR crop size (LR is crop-size/4)")
	f.StringVar(&o.Crop, "crop", "center", "center or random (seeded)")
	f.StringVar(&o.Small, "small", "skip", "images smaller than the crop: skip, or pad (reflect)")
	f.BoolVar(&o.USM, "usm", false, "USM-sharpen the saved HR (as SeeSR's test-set script does)")
	f.Int64Var(&maxPixels, "max-pixels", img.DefaultMaxPixels, "refuse larger inputs, read from the header")
	return cmd
}
