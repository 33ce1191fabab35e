package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// gptImageConfig prices demo-image as gpt-image-1 is billed: per image by
// size and quality, and the prompt's text tokens at 5.00 (1.25 cached).
func gptImageConfig(tb testing.TB, url string) *Config {
	cfg := testConfig(tb, url)
	cached := amt(tb, "1.25")
	cfg.Models["demo-image"] = ModelConfig{Input: amt(tb, "5.00"), CachedInput: &cached,
		Images: map[string]meter.Amount{"1024x1024/high": amt(tb, "0.17")}}
	return cfg
}

// "A paper meter." is 14 bytes: the hold is 2 images and 14 + 8 + 16 = 38
// input tokens at 5.00 (0.00019); the demo counts 4 prompt tokens, charged
// 0.00002, and the journal shows them.
const gptImageRequest = `{"model":"demo-image","prompt":"A paper meter.","n":2,"size":"1024x1024","quality":"high"}`

func TestImages_PromptTokensHeldAndCharged(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, gptImageConfig(t, up.URL+"/v1"))
	if worst := imageWorstCase(t, m, gptImageRequest); worst != amt(t, "0.34019") {
		t.Fatalf("hold %s, want 0.34019: 2 × 0.17 and 38 prompt tokens at 5.00", worst)
	}
	a, key := mustApp(t, m, "0.34019", meter.DefaultKeyScopes)
	resp := post(t, m, "/v1/images/generations", key, gptImageRequest)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Paymeter-Cost") != "0.34002" ||
		!strings.Contains(string(body), `"input_tokens":4,`) ||
		!strings.Contains(string(body), `"image_tokens":0},"paymeter_cost":"0.34002"}}`) {
		t.Fatalf("status=%d X-Paymeter-Cost=%q %s, want 200, 0.34002 in header and usage", resp.StatusCode, resp.Header.Get("X-Paymeter-Cost"), body)
	}
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || entries[0].Amount != -amt(t, "0.34002") || entries[0].Estimated {
		t.Fatalf("journal %+v, want one exact charge of 0.34002", entries)
	}
	if u := entries[0].Usage; u != (meter.Usage{InputTokens: 4, Images: 2}) {
		t.Errorf("journal usage %+v, want 4 input tokens and 2 images", u)
	}
	if acct := account(t, m, a.ID); acct.Balance != amt(t, "0.00017") || acct.Held != 0 {
		t.Errorf("balance=%s held=%s, want 0.00017 and 0", acct.Balance, acct.Held)
	}
	mustVerify(t, m)
}

// The capture believes the answer's usage up to the prompt's bound, and
// charges that bound when the usage reports no input tokens.
func TestImages_PromptTokensFromTheAnswer(t *testing.T) {
	var answer atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(answer.Load().(string)))
	}))
	t.Cleanup(up.Close)
	m := MustRunMain(t, gptImageConfig(t, up.URL+"/v1"))
	const two = `"data":[{"b64_json":"x"},{"b64_json":"y"}]`
	for _, tt := range []struct {
		name, body string
		want       string
		usage      meter.Usage
		estimated  bool
	}{
		{"reported", `{"created":1,` + two + `,"usage":{"input_tokens":9,"output_tokens":8320}}`, "0.340045",
			meter.Usage{InputTokens: 9, Images: 2}, false},
		{"cached split off", `{"created":1,` + two + `,"usage":{"input_tokens":9,"input_tokens_details":{"cached_tokens":4}}}`, "0.34003",
			meter.Usage{InputTokens: 5, CachedInputTokens: 4, Images: 2}, false},
		{"theirs replaced", `{"created":1,` + two + `,"usage":{"input_tokens":9,"paymeter_cost":"0.000001"},"paymeter_cost":"0"}`, "0.340045",
			meter.Usage{InputTokens: 9, Images: 2}, false},
		{"no usage: the bound", `{"created":1,` + two + `}`, "0.34019", meter.Usage{InputTokens: 38, Images: 2}, false},
		{"negative: the bound", `{"created":1,` + two + `,"usage":{"input_tokens":-9}}`, "0.34019", meter.Usage{InputTokens: 38, Images: 2}, false},
		{"past the bound: the bound", `{"created":1,` + two + `,"usage":{"input_tokens":9000000}}`, "0.34019", meter.Usage{InputTokens: 38, Images: 2}, false},
		{"one image", `{"created":1,"data":[{"b64_json":"x"}],"usage":{"input_tokens":4}}`, "0.17002", meter.Usage{InputTokens: 4, Images: 1}, false},
		{"no data: the hold", `{"created":1,"usage":{"input_tokens":4}}`, "0.34019", meter.Usage{InputTokens: 38, Images: 2}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			answer.Store(tt.body)
			a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
			resp := post(t, m, "/v1/images/generations", key, gptImageRequest)
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Paymeter-Cost") != tt.want {
				t.Fatalf("status=%d X-Paymeter-Cost=%q %s, want 200 and %s", resp.StatusCode, resp.Header.Get("X-Paymeter-Cost"), body, tt.want)
			}
			if n := strings.Count(string(body), `"paymeter_cost"`); !tt.estimated && (n != 1 || !strings.Contains(string(body), `"paymeter_cost":"`+tt.want+`"`)) {
				t.Errorf("body %s, want paymeter_cost %s once", body, tt.want)
			}
			entries := usageEntries(t, m, a.ID)
			if len(entries) != 1 || entries[0].Amount != -amt(t, tt.want) || entries[0].Estimated != tt.estimated {
				t.Fatalf("journal %+v, want one charge of %s, estimated %v", entries, tt.want, tt.estimated)
			}
			if u := entries[0].Usage; u != tt.usage {
				t.Errorf("journal usage %+v, want %+v", u, tt.usage)
			}
			if acct := account(t, m, a.ID); acct.Balance != amt(t, "1")-amt(t, tt.want) || acct.Held != 0 {
				t.Errorf("balance=%s held=%s", acct.Balance, acct.Held)
			}
		})
	}
	mustVerify(t, m)
}
