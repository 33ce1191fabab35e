package loadtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestManualCeiling(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("a", 190) + `"}}],"usage":{}}`
	up := startServer(t, func(ctx *fasthttp.RequestCtx) { ctx.SetContentType("application/json"); ctx.SetBodyString(body) })
	hop := startHop(t, up)
	tg := Target{Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer x"}, Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":16}`)}
	for _, c := range []int{64, 256} {
		for _, base := range []string{up, hop} {
			tg.URL = base + "/v1/chat/completions"
			res, err := Run(context.Background(), tg, Options{Connections: c, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("conns=%d %s: %s  max %s  n=%d statuses=%v", c, map[bool]string{true: "direct", false: "barehop"}[base == up], res, res.Max, res.Requests, res.Statuses)
		}
	}
}
