package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// imageConfig prices demo-image per image by size and quality (1536x1024
// at one price whatever the quality), with a flat fee per request and no
// input price (as the DALL·E models), in front of the upstream at url.
func imageConfig(tb testing.TB, url string) *Config {
	cfg := testConfig(tb, url)
	cfg.Models["demo-image"] = ModelConfig{PerRequest: amt(tb, "0.001"), Images: map[string]meter.Amount{
		"1024x1024/low": amt(tb, "0.04"), "1024x1024/high": amt(tb, "0.17"), "1024x1024/auto": amt(tb, "0.18"),
		"1536x1024": amt(tb, "0.06"), "auto": amt(tb, "0.19"),
	}}
	return cfg
}

type imageAnswer struct {
	Data []struct {
		B64JSON string `json:"b64_json"`
	} `json:"data"`
	Usage struct {
		Cost string `json:"paymeter_cost"`
	} `json:"usage"`
}

// imageWorstCase is what paymeter holds for body: the "required" of the
// 402 an app without credit gets for it.
func imageWorstCase(t *testing.T, m *Main, body string) meter.Amount {
	t.Helper()
	_, broke := mustApp(t, m, "0", meter.DefaultKeyScopes)
	e := mustError(t, post(t, m, "/v1/images/generations", broke, body), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
	required, _ := e.Error.Details["required"].(string)
	return amt(t, required)
}

// Images are priced per image from the model's table: the hold is n × the
// price of the size and quality (plus the per-request fee), the charge
// the images returned, in the header and in the body alike.
func TestImages_HoldAndCharge(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, imageConfig(t, up.URL+"/v1"))
	for _, tt := range []struct {
		name, body string
		images     int
		want       string
	}{
		{"size and quality", `{"model":"demo-image","prompt":"An otter.","n":2,"size":"1024x1024","quality":"high"}`, 2, "0.341"},
		{"size, other quality", `{"model":"demo-image","prompt":"An otter.","n":3,"size":"1024x1024","quality":"low"}`, 3, "0.121"},
		{"size, no quality: auto", `{"model":"demo-image","prompt":"An otter.","size":"1024x1024","response_format":"url"}`, 1, "0.181"},
		{"size at any quality", `{"model":"demo-image","prompt":"An otter.","size":"1536x1024","quality":"high"}`, 1, "0.061"},
		{"no size: auto", `{"model":"demo-image","prompt":"An otter.","n":2}`, 2, "0.381"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			worst := imageWorstCase(t, m, tt.body)
			if worst != amt(t, tt.want) {
				t.Fatalf("hold %s, want %s", worst, tt.want)
			}
			// Exactly the hold is enough.
			a, key := mustApp(t, m, tt.want, meter.DefaultKeyScopes)
			resp := post(t, m, "/v1/images/generations", key, tt.body)
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status=%d body=%s, want 200", resp.StatusCode, body)
			}
			var ans imageAnswer
			if err := json.Unmarshal(body, &ans); err != nil || len(ans.Data) != tt.images {
				t.Fatalf("answer %s (%v), want %d images", body, err, tt.images)
			}
			if h := resp.Header.Get("X-Paymeter-Cost"); h != tt.want || ans.Usage.Cost != tt.want {
				t.Errorf("X-Paymeter-Cost=%q usage.paymeter_cost=%q, want both %s", h, ans.Usage.Cost, tt.want)
			}
			entries := usageEntries(t, m, a.ID)
			if len(entries) != 1 || entries[0].Amount != -amt(t, tt.want) || entries[0].Estimated || entries[0].Model != "demo-image" {
				t.Fatalf("journal %+v, want one exact charge of %s", entries, tt.want)
			}
			if u := entries[0].Usage; u != (meter.Usage{Images: int64(tt.images)}) {
				t.Errorf("journal usage %+v, want %d images and no tokens", u, tt.images)
			}
			if acct := account(t, m, a.ID); acct.Balance != 0 || acct.Held != 0 {
				t.Errorf("balance=%s held=%s, want 0 and 0", acct.Balance, acct.Held)
			}
		})
	}
	mustVerify(t, m)
}

// A size and quality the table does not price, or a model with no image
// table, is refused before anything is held or forwarded; so is a key
// without the images scope.
func TestImages_Refused(t *testing.T) {
	up := newDemoUpstream(t)
	cfg := imageConfig(t, up.URL+"/v1")
	cfg.Models["demo-image-strict"] = ModelConfig{Images: map[string]meter.Amount{"1024x1024/high": amt(t, "0.17")}}
	cfg.Models["demo-image-default"] = ModelConfig{Images: map[string]meter.Amount{"1024x1024/high": amt(t, "0.17"), "default": amt(t, "0.01")}}
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	for _, tt := range []struct {
		name, body, size, quality string
	}{
		{"size", `{"model":"demo-image","prompt":"p","size":"256x256"}`, "256x256", "auto"},
		{"unlisted quality of a size priced by quality", `{"model":"demo-image","prompt":"p","size":"1024x1024","quality":"medium"}`, "1024x1024", "medium"},
		{"default not for a size priced by quality", `{"model":"demo-image-default","prompt":"p","size":"1024x1024","quality":"auto"}`, "1024x1024", "auto"},
		{"quality", `{"model":"demo-image-strict","prompt":"p","size":"1024x1024","quality":"low"}`, "1024x1024", "low"},
		{"no size", `{"model":"demo-image-strict","prompt":"p","quality":"high"}`, "auto", "high"},
		{"no table", `{"model":"demo-small","prompt":"p","size":"1024x1024"}`, "1024x1024", "auto"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustError(t, post(t, m, "/v1/images/generations", key, tt.body), http.StatusBadRequest, meter.ECodeImageNotPriced)
			if d := e.Error.Details; d["size"] != tt.size || d["quality"] != tt.quality || !strings.Contains(e.Error.Message, tt.size) {
				t.Errorf("details %v (%s), want size %q and quality %q", d, e.Error.Message, tt.size, tt.quality)
			}
		})
	}
	e := mustError(t, post(t, m, "/v1/images/generations", key, `{"model":"demo-image","prompt":"p","SIZE":"256x256"}`),
		http.StatusBadRequest, meter.ECodeAmbiguousField)
	if e.Error.Details["field"] != "SIZE" {
		t.Errorf("details %v, want field SIZE", e.Error.Details)
	}
	mustError(t, post(t, m, "/v1/images/generations", key, `{"model":"demo-image","prompt":"p","stream":true}`),
		http.StatusBadRequest, meter.ECodeUnsupportedField)

	_, chatOnly := mustApp(t, m, "1", meter.Scopes(meter.ScopeChat))
	mustError(t, post(t, m, "/v1/images/generations", chatOnly, `{"model":"demo-image","prompt":"p"}`),
		http.StatusForbidden, meter.ECodeInsufficientScope)
	// An image model, whose token prices are 0, is never served as a
	// chat model: it would be served for nothing.
	for path, body := range map[string]string{
		"/v1/chat/completions": `{"model":"demo-image","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`,
		"/v1/responses":        `{"model":"demo-image","input":"hi","max_output_tokens":5}`,
		"/v1/embeddings":       `{"model":"demo-image","input":"hi"}`,
	} {
		e := mustError(t, post(t, m, path, key, body), http.StatusBadRequest, meter.ECodeUnsupportedAPI)
		if e.Error.Details["api"] != "images" {
			t.Errorf("%s: details %v, want api images", path, e.Error.Details)
		}
	}

	if n := up.requests.Load(); n != 0 {
		t.Errorf("upstream saw %d requests, want 0", n)
	}
	if acct := account(t, m, a.ID); acct.Balance != amt(t, "1") || acct.Held != 0 || len(usageEntries(t, m, a.ID)) != 0 {
		t.Errorf("balance=%s held=%s, want 1 and 0, nothing charged", acct.Balance, acct.Held)
	}
	mustVerify(t, m)
}

// An upstream that fails charges nothing; one that returns more images
// than asked for is charged for those asked for (the hold); one whose
// answer does not say how many it holds is charged the hold; one that
// returns none is charged the per-request fee.
func TestImages_UpstreamAnswers(t *testing.T) {
	var answer atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answer.Load().([2]string)
		if a[0] == "500" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":{"message":"boom","type":"server_error"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(a[1]))
	}))
	t.Cleanup(up.Close)
	m := MustRunMain(t, imageConfig(t, up.URL+"/v1"))
	const req = `{"model":"demo-image","prompt":"An otter.","n":2,"size":"1024x1024","quality":"low"}` // hold 0.081
	five := `{"created":1,"data":[{"url":"a"},{"url":"b"},{"url":"c"},{"url":"d"},{"url":"e"}]}`
	for _, tt := range []struct {
		name, status, body string
		want               string // "": nothing charged
		images             int64
		estimated          bool
	}{
		{"upstream error", "500", "", "", 0, false},
		{"more images than asked", "200", five, "0.081", 2, false},
		{"no data", "200", `{"created":1,"usage":{"total_tokens":9}}`, "0.081", 2, true},
		{"malformed", "200", `{"created":1,"data":[{"url":"a"}`, "0.081", 2, true},
		{"none", "200", `{"created":1,"data":[]}`, "0.001", 0, false},
		{"one, with usage", "200", `{"created":1,"data":[{"b64_json":"x"}],"usage":{"total_tokens":9}}`, "0.041", 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			answer.Store([2]string{tt.status, tt.body})
			a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
			resp := post(t, m, "/v1/images/generations", key, req)
			body := readAll(t, resp)
			entries := usageEntries(t, m, a.ID)
			acct := account(t, m, a.ID)
			if tt.want == "" {
				if resp.StatusCode != http.StatusBadGateway || len(entries) != 0 || acct.Balance != amt(t, "1") || acct.Held != 0 {
					t.Fatalf("status=%d %s, %d entries, balance %s held %s: want 502 and nothing charged",
						resp.StatusCode, body, len(entries), acct.Balance, acct.Held)
				}
				return
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Paymeter-Cost") != tt.want {
				t.Fatalf("status=%d X-Paymeter-Cost=%q %s, want 200 and %s", resp.StatusCode, resp.Header.Get("X-Paymeter-Cost"), body, tt.want)
			}
			if len(entries) != 1 || entries[0].Amount != -amt(t, tt.want) || entries[0].Estimated != tt.estimated {
				t.Fatalf("journal %+v, want one charge of %s, estimated %v", entries, tt.want, tt.estimated)
			}
			if u := entries[0].Usage; u != (meter.Usage{Images: tt.images}) {
				t.Errorf("journal usage %+v, want %d images", u, tt.images)
			}
			if acct.Balance != amt(t, "1")-amt(t, tt.want) || acct.Held != 0 {
				t.Errorf("balance=%s held=%s", acct.Balance, acct.Held)
			}
			if !tt.estimated && !strings.Contains(string(body), `"paymeter_cost":"`+tt.want+`"`) {
				t.Errorf("body %s carries no paymeter_cost %s", body, tt.want)
			}
		})
	}
	mustVerify(t, m)
}
