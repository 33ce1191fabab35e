package demo

import (
	"strings"
	"testing"
)

// details are the usage parts the cache and the reasoning model add.
type details struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func chatWith(model, system, user string) string {
	return `{"model":"` + model + `","messages":[{"role":"system","content":"` + system + `"},{"role":"user","content":"` + user + `"}]}`
}

func cachedOf(t *testing.T, url, body string) (prompt, cached int) {
	t.Helper()
	_, _, b := do(t, "POST", url+"/v1/chat/completions", body)
	r := decode[struct{ Usage details }](t, b)
	if r.Usage.PromptTokensDetails != nil {
		cached = r.Usage.PromptTokensDetails.CachedTokens
	}
	return r.Usage.PromptTokens, cached
}

func TestPromptCache(t *testing.T) {
	url := start(t, &Server{})
	system := strings.Repeat("You are a careful assistant. ", 40) // 1160 bytes: 290 tokens, 293 with its message
	if p, c := cachedOf(t, url, chatWith("demo-small", system, "Say hello.")); p != 293+6+3 || c != 0 {
		t.Fatalf("first: prompt=%d cached=%d, want 302 and 0", p, c)
	}
	// The same system prompt: its 293 tokens are cached, in whole blocks of 64.
	if p, c := cachedOf(t, url, chatWith("demo-small", system, "Say goodbye.")); p != 293+6+3 || c != 256 {
		t.Errorf("same prefix: prompt=%d cached=%d, want 302 and 256", p, c)
	}
	// The whole first prompt again: 299 tokens of it are a seen prefix.
	if _, c := cachedOf(t, url, chatWith("demo-small", system, "Say hello.")); c != 256 {
		t.Errorf("same prompt: cached=%d, want 256", c)
	}
	// Another model has its own cache; another system prompt misses.
	if _, c := cachedOf(t, url, chatWith("demo-large", system, "Say hello.")); c != 0 {
		t.Errorf("other model: cached=%d, want 0", c)
	}
	if _, c := cachedOf(t, url, chatWith("demo-small", system+"!", "Say hello.")); c != 0 {
		t.Errorf("other system prompt: cached=%d, want 0", c)
	}
	// Prompts under cacheMinTokens are never cached: the determinism of
	// short prompts does not depend on what came before.
	short := chatWith("demo-small", "Be brief.", "Say hello.")
	for range 2 {
		if _, c := cachedOf(t, url, short); c != 0 {
			t.Errorf("short prompt: cached=%d, want 0", c)
		}
	}
}

func TestPromptCacheIsDeterministic(t *testing.T) {
	system := strings.Repeat("abcd", 600)
	run := func() (out []int) {
		url := start(t, &Server{})
		for _, user := range []string{"one", "two", "one", strings.Repeat("x", 400)} {
			_, c := cachedOf(t, url, chatWith("demo-small", system, user))
			out = append(out, c)
		}
		return out
	}
	a, b := run(), run()
	if len(a) != len(b) || a[0] != 0 || a[1] != 576 || a[2] != 576 {
		t.Fatalf("cached tokens %v, want [0 576 576 …]", a)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("two fresh servers cached %v and %v", a, b)
		}
	}
}

func TestPromptCacheForgets(t *testing.T) {
	var s Server
	p := newPromptPrefixes("m")
	p.add("system", []byte("x"), cacheMinTokens)
	if read, written := s.cachedTokens(&p); read != 0 || written != cacheMinTokens {
		t.Fatalf("read=%d written=%d, want 0 and %d", read, written, cacheMinTokens)
	}
	if read, written := s.cachedTokens(&p); read != cacheMinTokens || written != 0 {
		t.Fatalf("again: read=%d written=%d, want %d and 0", read, written, cacheMinTokens)
	}
	for i := range cacheMaxPrefixes {
		q := newPromptPrefixes("m")
		q.add("user", []byte{byte(i), byte(i >> 8), byte(i >> 16)}, cacheMinTokens)
		s.cachedTokens(&q)
	}
	if n := len(s.promptCache().seen); n > cacheMaxPrefixes {
		t.Fatalf("the cache holds %d prefixes, want at most %d", n, cacheMaxPrefixes)
	}
}

func TestReasoningModel(t *testing.T) {
	url := start(t, &Server{})
	_, _, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"demo-reasoner","messages":[{"role":"user","content":"Why?"}],"max_completion_tokens":9}`)
	r := decode[struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage details
	}](t, b)
	if r.Usage.CompletionTokens != 9 || r.Usage.CompletionTokensDetails == nil || r.Usage.CompletionTokensDetails.ReasoningTokens != 4 {
		t.Fatalf("usage %+v, want 9 completion tokens of which 4 reasoning", r.Usage)
	}
	if words := len(strings.Fields(r.Choices[0].Message.Content)); words != 5 || r.Choices[0].FinishReason != "length" {
		t.Errorf("answer %q (%s), want 5 words cut at the length", r.Choices[0].Message.Content, r.Choices[0].FinishReason)
	}
	// Streamed: as many word chunks as visible words, the same usage.
	_, _, body := do(t, "POST", url+"/v1/chat/completions", `{"model":"demo-reasoner","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Why?"}]}`)
	if !strings.Contains(string(body), `"usage":{"prompt_tokens":7,"completion_tokens":16,"total_tokens":23,"completion_tokens_details":{"reasoning_tokens":8}}`) {
		t.Errorf("stream has no usage with 8 reasoning tokens of 16:\n%s", body)
	}
	if n := strings.Count(string(body), `"delta":{"content":"`); n != 8 {
		t.Errorf("%d word chunks, want 8", n)
	}
	// Other models report no reasoning.
	_, _, b = do(t, "POST", url+"/v1/chat/completions", `{"model":"demo-small","messages":[{"role":"user","content":"Why?"}]}`)
	if strings.Contains(string(b), "reasoning_tokens") {
		t.Errorf("demo-small reports reasoning: %s", b)
	}
}
