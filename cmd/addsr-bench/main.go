// Command addsr-bench benchmarks blind super-resolution models. See README.md.
package main

import (
	"os"

	"github.com/addsr-bench/addsr-bench/cmd/addsr-bench/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
