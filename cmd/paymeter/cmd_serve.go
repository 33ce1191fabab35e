package main

import (
	"context"
	"io"
	"os"
)

// runServe runs the proxy until ctx ends (SIGINT or SIGTERM).
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve")
	var f dbFlags
	f.register(fs)
	upstreamURL := fs.String("upstream", "", "OpenAI-compatible API root, e.g. https://api.openai.com/v1")
	listen := fs.String("listen", "", "address to listen on, e.g. :8080")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := LoadConfig(f.config, os.Environ())
	if err != nil {
		return err
	}
	if f.db != "" {
		cfg.Database = f.db
	}
	if *upstreamURL != "" {
		cfg.Upstream.URL = *upstreamURL
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	m := NewMain(cfg, newLogger(stderr, cfg.Log))
	if err := m.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}
