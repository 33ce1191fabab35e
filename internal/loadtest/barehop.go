package loadtest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/proxy"
	"github.com/valyala/fasthttp"
)

// bareHopConns lifts fasthttp's default cap of 512 connections per upstream
// host, so that at high connection counts the reference hop is bounded by CPU,
// as paymeter is, and not by a pool limit that would fail requests instead.
const bareHopConns = 4096

// NewBareHop returns a fiber app that forwards every request, whatever its
// method and path, to upstream (a base URL such as http://127.0.0.1:1234) with
// fiber's own proxy.Do and does nothing else: no auth, no ledger. It is the
// "bare fiber proxy hop" that docs/design.md §8 measures paymeter against. A failed
// forward answers 502. The caller serves the app (app.Listener) and shuts it
// down; upstream must be a loopback http URL.
func NewBareHop(upstream string) (*fiber.App, error) {
	if _, err := loopbackAddr(upstream); err != nil {
		return nil, fmt.Errorf("bare hop upstream: %w", err)
	}
	base := strings.TrimSuffix(upstream, "/")
	// The client has the settings of proxy's package-level default, but is
	// the app's own, so that no global state is changed.
	client := &fasthttp.Client{
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
		MaxConnsPerHost:          bareHopConns,
	}
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			code := fiber.StatusBadGateway
			if fe := (*fiber.Error)(nil); errors.As(err, &fe) {
				code = fe.Code // fiber's own, e.g. 413 for an oversized body
			}
			return c.Status(code).SendString(err.Error())
		},
	})
	app.Use(func(c *fiber.Ctx) error {
		return proxy.Do(c, base+c.OriginalURL(), client)
	})
	return app, nil
}
