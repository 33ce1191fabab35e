package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

// stream serves a streaming request: the upstream's events are relayed one
// by one, each flushed as it arrives, and the request is metered when the
// stream ends, however it ends.
func (s *Server) stream(c *fiber.Ctx, m *metered) error {
	body := c.Body()
	// Ask the upstream to report usage in a final chunk. If the client did
	// not ask for it, that chunk is metered but not passed on.
	injected := !m.info.IncludeUsage && !m.route.embeddings
	if injected {
		var err error
		if body, err = upstream.WithStreamUsage(body); err != nil {
			s.release(m)
			return err
		}
	}
	// The upstream request lives as long as the relay, not the handler.
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := s.Upstream.Stream(ctx, s.upstreamRequest(c, body))
	if err != nil {
		cancel()
		s.release(m)
		return err
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		s.release(m)
		if resp.StatusCode >= 500 {
			return upstreamFailed(resp.StatusCode)
		}
		refusal, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		c.Set(fiber.HeaderContentType, resp.Header.Get("Content-Type"))
		return c.Status(resp.StatusCode).Send(refusal)
	}

	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	// The cost is known only when the stream ends: it travels as a trailer.
	fctx := c.Context()
	fctx.Response.Header.SetTrailer("X-Paymeter-Cost")
	fctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		defer resp.Body.Close()
		cost, ok := s.relay(w, resp.Body, m, injected)
		if ok {
			fctx.Response.Header.Set("X-Paymeter-Cost", cost.String())
		}
	})
	return nil
}

// relay copies events from the upstream to the client until either side
// ends, then meters the request. It returns the amount charged.
func (s *Server) relay(w *bufio.Writer, from io.Reader, m *metered, injected bool) (meter.Amount, bool) {
	events := upstream.NewEventReader(from, s.MaxEventBytes)
	var sm upstream.StreamMeter
	var delivered int64 // text bytes the client received
	var clientGone bool
	var upstreamErr error
	for {
		ev, err := events.Next()
		if len(ev) > 0 {
			_, hadUsage := sm.Usage()
			sm.Observe(ev)
			_, hasUsage := sm.Usage()
			if !(injected && hasUsage && !hadUsage) {
				if _, werr := w.Write(ev); werr != nil || w.Flush() != nil {
					clientGone = true
					break
				}
			}
			delivered = sm.DeliveredBytes()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			upstreamErr = err
			break
		}
	}
	if upstreamErr != nil && !clientGone {
		writeStreamError(w, upstreamErr, m.requestID)
	}

	usage, known := sm.Usage()
	switch {
	case known:
	case delivered == 0 && !clientGone:
		// The upstream produced nothing before it failed or ended: no charge.
		s.release(m)
		s.logStream(m, 0, upstreamErr, clientGone)
		return 0, true
	default:
		// Charge what was delivered (DESIGN.md §2): never the whole hold,
		// never nothing. See upstream.EstimateUsage for the estimate.
		usage = upstream.EstimateUsage(m.info, delivered)
	}
	cost, err := s.capture(m, usage, !known)
	if err != nil {
		s.Logger.Error("capture streamed request", "request_id", m.requestID, "hold", m.hold.ID, "err", err)
		return 0, false
	}
	s.logStream(m, cost, upstreamErr, clientGone)
	return cost, true
}

// writeStreamError tells a client still listening that the upstream broke
// off, as an SSE event in the error shape of the rest of the API.
func writeStreamError(w *bufio.Writer, cause error, requestID string) {
	code, msg := meter.ECodeUpstreamError, "the upstream stream broke off"
	var me *meter.Error
	if errors.As(cause, &me) && me.Code == meter.ECodeUpstreamTimeout {
		code, msg = me.Code, "the upstream stopped sending"
	}
	body, _ := json.Marshal(errorBody{Error: errorFields{Code: code, Message: msg, Type: "api_error", RequestID: requestID}})
	w.WriteString("data: ")
	w.Write(body)
	w.WriteString("\n\n")
	w.Flush()
}

func (s *Server) logStream(m *metered, cost meter.Amount, upstreamErr error, clientGone bool) {
	attrs := []slog.Attr{
		slog.String("request_id", m.requestID),
		slog.String("principal", m.principal.Label),
		slog.String("cost", cost.String()),
		slog.Bool("client_gone", clientGone),
	}
	if upstreamErr != nil {
		attrs = append(attrs, slog.Any("upstream_err", upstreamErr))
	}
	s.Logger.LogAttrs(context.Background(), slog.LevelInfo, "stream ended", attrs...)
}
