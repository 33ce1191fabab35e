// Package demo is paymeter's built-in OpenAI-compatible upstream. `paymeter
// demo` runs it so the proxy can be tried without a real inference provider,
// the load benchmark uses it as the upstream, and the fixtures under
// testdata/upstream are captured from it.
//
// Replies are deterministic: the answer is drawn from a fixed word list
// seeded by a hash of the request's last message (or last prompt item), one
// word is one completion token, and "created" is a fixed timestamp, so the
// same request always gets the same bytes back.
//
// Prompt tokens are counted as ceil(bytes/4) per text, plus 3 per chat
// message and 3 per chat request; completions and embeddings count at least
// 1. The count therefore never exceeds the prompt's text bytes plus 8 per
// message plus 16, the bound paymeter's worst-case reservation relies on.
//
// The answer would be Server.DefaultMaxTokens words long, finishing with
// "stop", as a model ends when it has said its piece; max_tokens (the
// smaller of max_tokens and max_completion_tokens when both are sent) caps
// it, and an answer cut short finishes with "length". paymeter writes its
// held output cap into every request that names no limit, so the limit is a
// cap, not a length, as with real models.
// A limit below 1 or above 16384 (the demo models' output limit) is a 400.
// Every reply has exactly one choice: n and multi-prompt arrays never
// multiply the completion tokens beyond the max_tokens a proxy reserved.
//
// A prompt whose leading messages a Server has seen before reports them
// as cached_tokens, in blocks of 64 tokens from 128 up (cache.go); short
// prompts are never cached, so they answer alike whatever came before.
// demo-reasoner spends half its completion tokens reasoning
// (completion_tokens_details.reasoning_tokens). demo-image generates tiny
// PNGs on /v1/images/generations, with a GPT image usage object whose
// input_tokens count the prompt (images.go).
package demo
