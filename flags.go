package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/telemetry"
)

// errUsage reports a command line the gateway does not understand; the
// flag package has already said why.
var errUsage = errors.New("usage: gateway [-h | -version]; every setting is an environment variable")

// commandLine handles the command-line flags, which only ever ask for
// information: -h, -help or --help print every setting with its default,
// and -version prints the version. It reports whether the gateway should
// stop there. Settings themselves are environment variables only, so that
// a deployment has one place to look.
func commandLine(args []string, getenv func(string) string, out io.Writer) (done bool, err error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(out)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { usage(out, getenv) }
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return true, nil
	case err != nil:
		return true, errUsage
	case fs.NArg() > 0:
		fmt.Fprintf(out, "gateway: unexpected argument %q\n", fs.Arg(0))
		return true, errUsage
	}
	if *showVersion {
		b := telemetry.ReadBuildInfo(version)
		fmt.Fprintf(out, "gateway %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
		return true, nil
	}
	return false, nil
}

// usage prints how to run the gateway and every setting config.Load reads,
// with its default.
func usage(out io.Writer, getenv func(string) string) {
	fmt.Fprint(out, `Usage: gateway [-h | -version]

The gateway serves Covage's reference data as one GraphQL API. It is
configured by environment variables only; with no COVAGE_API_URL it serves
built-in demo data. README.md explains each setting, and OpenTelemetry's
OTEL_* variables (README.md, "Tracing").

Settings and their defaults (an empty default means unset: off or none;
GATEWAY_ENV=production changes some, run with it set to see them):
`)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range config.Settings(getenv) {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Default)
	}
	_ = tw.Flush()
	fmt.Fprint(out, `
Flags:
  -h, -help, --help  print this help and exit
  -version           print the version and exit
`)
}
