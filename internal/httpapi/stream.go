package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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
	// m.body always asks the upstream to report usage in a final chunk
	// (upstream.RequestInfo.ForwardBody). If the client did not ask for
	// it, that chunk is metered but not passed on.
	body := m.body
	injected := !m.info.IncludeUsage && (m.route.api == upstream.APIChat || m.route.api == upstream.APICompletions)
	// The upstream request lives as long as the relay, not the handler,
	// and no longer than the request may run.
	ctx, cancel := context.WithCancel(context.Background())
	if !m.deadline.IsZero() {
		cancel()
		ctx, cancel = context.WithDeadline(context.Background(), m.deadline)
	}
	start := time.Now()
	resp, err := m.upstream.Stream(ctx, s.upstreamRequest(c, body))
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
		if hiddenStatus(resp.StatusCode) {
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
	s.setBalance(c, m) // with the stream's worst case held: a lower bound
	fctx := c.Context()
	// The cost is known only when the stream ends: it travels as a trailer.
	fctx.Response.Header.SetTrailer("X-Paymeter-Cost")
	// fasthttp reads the relay on the connection's own goroutine, writing
	// and flushing one chunk per Read, so each event reaches the client as
	// it arrives, with no goroutine or pipe per stream.
	r := &relay{
		s: s, m: m, fctx: fctx, injected: injected,
		events: upstream.NewEventReader(resp.Body, s.MaxEventBytes),
		body:   resp.Body, cancel: cancel, done: keepInFlight(c),
	}
	r.meter.API = m.route.api
	if !s.streams.add(r) {
		cancel()
		resp.Body.Close()
		r.done()
		s.release(m)
		return meter.Errorf(meter.ECodeUnavailable, "the server is shutting down; nothing was charged")
	}
	// From here the relay meters the request and ends it in InFlight.
	m.relayed = true
	fctx.Response.SetBodyStream(r, -1)
	return nil
}

// whole meters and relays a complete response to a streaming request.
func (s *Server) whole(c *fiber.Ctx, m *metered, resp *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWholeResponse+1))
	if err != nil || len(body) > maxWholeResponse {
		s.release(m)
		return &meter.Error{Code: meter.ECodeUpstreamError, Message: "the upstream's response could not be read", Err: err}
	}
	usage, estimated := m.usageFrom(s, body)
	cost, err := s.capture(m, usage, estimated)
	if err != nil {
		return err
	}
	if !estimated {
		body = upstream.WithCost(m.route.api, body, cost)
	}
	c.Locals(localCost, cost)
	c.Set("X-Paymeter-Cost", cost.String())
	s.setBalance(c, m)
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

	pending []byte // the part of the current event not yet handed out
	ended   bool   // the upstream is done; pending is the last of it

	// mu guards what FinishStreams shares with the connection's
	// goroutine: the meter, whether it was metered, why it broke off or
	// was stopped.
	mu          sync.Mutex
	meter       upstream.StreamMeter
	metered     bool
	upstreamErr error
	stopped     error
}

// Read hands out the next piece of the stream. When the upstream's stream
// ends it meters the request before returning io.EOF, so that the cost is
// durable before the response ends and can go out as the trailer.
func (r *relay) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.ended {
			if cost, ok := r.finish(false); ok {
				r.fctx.Response.Header.Set("X-Paymeter-Cost", cost.String())
			}
			return 0, io.EOF
		}
		if cut := r.cutOff(); cut != nil {
			// Past the request's time limit, or stopped: no more events.
			r.broke(cut)
			r.pending = streamError(cut, r.m.requestID, r.m.route.api)
			continue
		}
		ev, err := r.events.Next()
		if len(ev) > 0 {
			r.pending = r.observe(ev)
		}
		if cut := r.cutOff(); err != nil && err != io.EOF && cut != nil {
			err = cut // the upstream read was cancelled for it
		}
		switch {
		case err == io.EOF:
			r.ended = true
		case err != nil:
			// The upstream broke off: tell the client, in the API's error shape.
			r.broke(err)
			r.pending = append(r.pending[:len(r.pending):len(r.pending)], streamError(err, r.m.requestID, r.m.route.api)...)
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// broke ends the stream for err (which finish logs, maybe on another
// goroutine: FinishStreams).
func (r *relay) broke(err error) {
	r.mu.Lock()
	r.upstreamErr = err
	r.mu.Unlock()
	r.ended = true
}

// observe meters an event and returns what is passed on: nothing for the
// usage-only chunks paymeter asked for itself, the event with the cost of its
// usage written in for one that carries the usage (upstream.WithCost),
// else the event as it is.
func (r *relay) observe(ev []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.meter.Observe(ev)
	u, _ := r.meter.Usage()
	switch {
	case r.injected && r.meter.UsageOnly():
		// (A usage chunk with choices, content or a finish_reason, is
		// passed on, usage and all: dropping it would lose them.)
		return nil
	case r.meter.UsageEvent():
		return upstream.WithCost(r.m.route.api, ev, r.m.costOf(u, false))
	}
	return ev
}

// cutOff is why the stream must end now, if it must: it was stopped, or
// it ran past the request's deadline.
func (r *relay) cutOff() error {
	r.mu.Lock()
	stopped := r.stopped
	r.mu.Unlock()
	if stopped != nil {
		return stopped
	}
	if !r.m.deadline.IsZero() && !time.Now().Before(r.m.deadline) {
		return errRequestTooLong
	}
	return nil
}

// stopWith meters the stream now, for what it delivered, and ends it: the
// upstream request is cancelled, and the client, if it reads on, gets the
// error event of why.
func (r *relay) stopWith(why error) {
	r.mu.Lock()
	if r.stopped == nil {
		r.stopped = why
	}
	r.mu.Unlock()
	r.finish(false)
	r.cancel()
}

// Close ends the upstream request. If the stream did not run to its end,
// the client left: the rest is drained for the upstream's usage, and the
// request is metered by it, or else estimated from what was delivered.
func (r *relay) Close() error {
	if !r.ended {
		r.drain()
	}
	r.finish(true)
	r.s.streams.remove(r)
	r.m.end()
	r.cancel()
	defer r.done()
	return r.body.Close()
}

// drain reads, and drops, the rest of the upstream's answer once the
// client has left, until the upstream reports its usage: the upstream
// bills the whole request whether or not the client stays (a reasoning
// model's hidden tokens are all billed before its first visible one), and
// the client is charged what the upstream bills (docs/design.md §2). It
// stops at the request's deadline, at shutdown, or when the upstream ends
// or breaks off; without usage by then, the estimate counts all the
// upstream sent, drained or delivered: paymeter pays for all of it.
//
// A Responses or Messages stream's usage is final when it comes (their
// last events carry it). A chat or completions chunk's need not be: some
// upstreams report a running total in every chunk, so those are drained to
// their [DONE], the last usage winning.
func (r *relay) drain() {
	runningTotals := r.m.route.api == upstream.APIChat || r.m.route.api == upstream.APICompletions
	for r.cutOff() == nil {
		r.mu.Lock()
		_, known := r.meter.Usage()
		done := r.meter.Done()
		r.mu.Unlock()
		if done || known && !runningTotals {
			return
		}
		ev, err := r.events.Next()
		if len(ev) > 0 {
			r.observe(ev)
		}
		if err != nil {
			return
		}
	}
}

// finish meters the request once; ok is false if it was metered before
// or the capture failed. Usage reported by the upstream is charged as it
// is; without it, the delivered text is estimated (upstream.EstimateUsage):
// never the whole hold, never nothing — unless nothing at all reached the
// client because the upstream failed first. The last event handed out
// counts as delivered even if the client left while it was being written.
// It holds r.mu until the charge is durable, so that FinishStreams returns
// only once every stream's charge is booked.
func (r *relay) finish(clientGone bool) (meter.Amount, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.metered {
		return 0, false
	}
	r.metered = true
	defer r.m.end()
	usage, known := r.meter.Usage()
	delivered := r.meter.DeliveredBytes() // drained output included
	r.s.checkModel(r.m, r.meter.Model())
	if !known {
		// Nothing delivered and the upstream broke off: it failed, and
		// nothing is charged; else it is estimated (StreamMeter.Estimate).
		cut := r.stopped != nil || r.upstreamErr == errRequestTooLong
		if !meter.ChargesUnreported(delivered, clientGone, cut) {
			r.s.release(r.m)
			r.s.logStream(r.m, 0, r.upstreamErr, clientGone)
			return 0, true
		}
		usage = r.meter.Estimate(r.m.info, r.m.price)
	}
	cost, err := r.s.capture(r.m, usage, !known)
	if err != nil {
		r.s.Logger.Error("capture streamed request", "request_id", r.m.requestID, "payer", payerName(r.m.payer), "err", err)
		return 0, false
	}
	r.s.logStream(r.m, cost, r.upstreamErr, clientGone)
	return cost, true
}

// streamError is the SSE event that tells a client still listening that
// the upstream broke off, in the error shape of the rest of the API.
func streamError(cause error, requestID string, api upstream.API) []byte {
	code, msg := meter.ECodeUpstreamError, "the upstream stream broke off"
	var me *meter.Error
	switch {
	case cause == errRequestTooLong || cause == errShuttingDown:
		code, msg = cause.(*meter.Error).Code, cause.(*meter.Error).Message
	case errors.As(cause, &me) && me.Code == meter.ECodeUpstreamTimeout:
		code, msg = me.Code, "the upstream stopped sending"
	}
	if api == upstream.APIMessages {
		return messagesStreamError(code, msg, requestID)
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
