package main

import (
	"fmt"
	"io"
	"os"
)

// runConfig implements `paymeter config check`: load, validate, and say
// what was found, so that an operator learns about a bad field before a
// restart does.
func runConfig(args []string, stdout io.Writer) error {
	_, rest, err := subcommand("config", args, "check")
	if err != nil {
		return err
	}
	fs := newFlags("config check")
	path := fs.String("config", "", "config file (YAML)")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	cfg, err := LoadConfig(*path, os.Environ())
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	fmt.Fprintf(stdout, "config ok: listen %s, upstream %s, database %s, %d priced models\n",
		cfg.Listen, cfg.Upstream.URL, cfg.Database, len(cfg.Models))
	return nil
}
