package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
	"github.com/valyala/fasthttp"
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
	start := time.Now()
	resp, err := s.Upstream.Stream(ctx, s.upstreamRequest(c, body))
	var status int
	if err == nil {
		status = resp.StatusCode
	}
	s.Metrics.observeUpstream(m.route.path, time.Since(start), upstreamErr(err, status))
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
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// The upstream answered a streaming request with a whole response
		// (some ignore "stream", embeddings never stream): meter it as one.
		defer cancel()
		defer resp.Body.Close()
		return s.whole(c, m, resp)
	}

	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	fctx := c.Context()
	// The cost is known only when the stream ends: it travels as a trailer.
	fctx.Response.Header.SetTrailer("X-Paymeter-Cost")
	// fasthttp reads the relay on the connection's own goroutine, writing
	// and flushing one chunk per Read, so each event reaches the client as
	// it arrives, with no goroutine or pipe per stream.
	fctx.Response.SetBodyStream(&relay{
		s: s, m: m, fctx: fctx, injected: injected,
		events: upstream.NewEventReader(resp.Body, s.MaxEventBytes),
		body:   resp.Body, cancel: cancel, done: keepInFlight(c),
	}, -1)
	return nil
}

// whole meters and relays a complete response to a streaming request.
func (s *Server) whole(c *fiber.Ctx, m *metered, resp *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWholeResponse+1))
	if err != nil || len(body) > maxWholeResponse {
		s.release(m)
		return &meter.Error{Code: meter.ECodeUpstreamError, Message: "the upstream's response could not be read", Err: err}
	}
	usage, estimated := m.usageFrom(body)
	cost, err := s.capture(m, usage, estimated)
	if err != nil {
		return err
	}
	c.Locals(localCost, cost)
	c.Set("X-Paymeter-Cost", cost.String())
	c.Set(fiber.HeaderContentType, resp.Header.Get("Content-Type"))
	return c.Status(resp.StatusCode).Send(body)
}

// maxWholeResponse caps a whole response read on the streaming path.
const maxWholeResponse = 32 << 20

// relay is the body of a streamed response: an io.ReadCloser that hands
// fasthttp the upstream's events one at a time and meters the request when
// the stream ends. fasthttp calls Read until io.EOF, writing and flushing
// each chunk; it calls Close when the response is done or the client left.
type relay struct {
	s        *Server
	m        *metered
	fctx     *fasthttp.RequestCtx
	injected bool // paymeter asked for usage, so the usage chunk is not passed on
	events   *upstream.EventReader
	body     io.Closer
	cancel   context.CancelFunc
	done     func() // frees the request's upstream slot (keepInFlight)

	meter       upstream.StreamMeter
	pending     []byte // the part of the current event not yet handed out
	ended       bool   // the upstream is done; pending is the last of it
	metered     bool
	upstreamErr error
}

// Read hands out the next piece of the stream. When the upstream's stream
// ends it meters the request before returning io.EOF, so that the cost is
// durable before the response ends and can go out as the trailer.
func (r *relay) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.ended {
			if !r.metered {
				if cost, ok := r.finish(false); ok {
					r.fctx.Response.Header.Set("X-Paymeter-Cost", cost.String())
				}
			}
			return 0, io.EOF
		}
		ev, err := r.events.Next()
		if len(ev) > 0 {
			_, hadUsage := r.meter.Usage()
			r.meter.Observe(ev)
			if _, hasUsage := r.meter.Usage(); !(r.injected && hasUsage && !hadUsage) {
				r.pending = ev
			}
		}
		switch {
		case err == io.EOF:
			r.ended = true
		case err != nil:
			// The upstream broke off: tell the client, in the API's error shape.
			r.ended, r.upstreamErr = true, err
			r.pending = append(r.pending[:len(r.pending):len(r.pending)], streamError(err, r.m.requestID)...)
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// Close ends the upstream request. If the stream did not run to its end,
// the client left: the request is metered for what was delivered.
func (r *relay) Close() error {
	if !r.metered {
		r.finish(true)
	}
	r.cancel()
	defer r.done()
	return r.body.Close()
}

// finish meters the request once. Usage reported by the upstream is
// charged as it is; without it, the delivered text is estimated
// (upstream.EstimateUsage): never the whole hold, never nothing — unless
// nothing at all reached the client because the upstream failed first.
// The last event handed out counts as delivered even if the client left
// while it was being written.
func (r *relay) finish(clientGone bool) (meter.Amount, bool) {
	r.metered = true
	usage, known := r.meter.Usage()
	delivered := r.meter.DeliveredBytes()
	if !known {
		if delivered == 0 && !clientGone {
			r.s.release(r.m)
			r.s.logStream(r.m, 0, r.upstreamErr, clientGone)
			return 0, true
		}
		usage = upstream.EstimateUsage(r.m.info, delivered)
	}
	cost, err := r.s.capture(r.m, usage, !known)
	if err != nil {
		r.s.Logger.Error("capture streamed request", "request_id", r.m.requestID, "hold", r.m.hold.ID, "err", err)
		return 0, false
	}
	r.s.logStream(r.m, cost, r.upstreamErr, clientGone)
	return cost, true
}

// streamError is the SSE event that tells a client still listening that
// the upstream broke off, in the error shape of the rest of the API.
func streamError(cause error, requestID string) []byte {
	code, msg := meter.ECodeUpstreamError, "the upstream stream broke off"
	var me *meter.Error
	if errors.As(cause, &me) && me.Code == meter.ECodeUpstreamTimeout {
		code, msg = me.Code, "the upstream stopped sending"
	}
	body, _ := json.Marshal(errorBody{Error: errorFields{Code: code, Message: msg, Type: "api_error", RequestID: requestID}})
	return append(append([]byte("data: "), body...), "\n\n"...)
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
