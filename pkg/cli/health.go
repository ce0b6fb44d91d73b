package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const healthUsage = `usage: govwatch health [-timeout 5s] URL
  exits 0 when GET URL answers 2xx (a daemon's /readyz or /healthz), 1 otherwise
`

// healthCmd is the container health check of an image without a shell or
// curl: it asks a daemon's readiness endpoint and turns the answer into an
// exit status, printing why when it is not ready.
func healthCmd(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch health", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprint(io.Stderr, healthUsage)
		return ExitUsage
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(io.Stderr, "govwatch health: %q is not an http or https URL\n", fs.Arg(0))
		return ExitUsage
	}
	if err := probe(ctx, u.String(), *timeout); err != nil {
		fmt.Fprintf(io.Stderr, "govwatch health: %s: %v\n", u.Redacted(), err)
		return ExitProblem
	}
	fmt.Fprintln(io.Stdout, "ok")
	return ExitOK
}

// probe GETs target and returns nil on a 2xx answer, or what went wrong
// with the start of the body the server sent.
func probe(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
