package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// A client that hangs up on a reasoning model as soon as the first visible
// token arrives has already made the upstream do (and bill) all of its
// hidden reasoning. paymeter reads the rest of the answer, dropped, for the
// upstream's own usage and charges that, not an estimate from the few
// bytes the client was sent (an estimate ~280 times too low here).
func TestStream_ClientGoneChargedWhatTheUpstreamBills(t *testing.T) {
	const hidden = 3999 // reasoning tokens: billed as output, never streamed
	const words = 200
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		chunk := func(content string) {
			fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","model":"demo-small","choices":[{"index":0,"delta":{"content":%q}}]}`+"\n\n", content)
			fl.Flush()
		}
		chunk("")
		time.Sleep(100 * time.Millisecond) // thinking, unseen
		chunk("Hi")
		for range words {
			time.Sleep(time.Millisecond)
			chunk(" word")
		}
		fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","model":"demo-small","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":%d}}`+"\n\ndata: [DONE]\n\n", hidden+1+words)
		fl.Flush()
	}))
	t.Cleanup(up.Close)
	m := MustRunMain(t, testConfig(t, up.URL+"/v1"))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	hangUpAt(t, m, key, `{"model":"demo-small","stream":true,"messages":[{"role":"user","content":"Think."}]}`, `"Hi"`)

	acct := waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 {
		t.Fatalf("usage entries %+v, want 1", entries)
	}
	e := entries[0]
	want := meter.Usage{InputTokens: 5, OutputTokens: hidden + 1 + words}
	if e.Estimated || e.Usage.InputTokens != want.InputTokens || e.Usage.OutputTokens != want.OutputTokens {
		t.Fatalf("charged for %+v (estimated %v), want the upstream's own %+v", e.Usage, e.Estimated, want)
	}
	if cost := m.Config.Prices()["demo-small"].Cost(want); -e.Amount != cost || acct.Balance != amt(t, "1")-cost {
		t.Fatalf("charged %s, balance %s; want the upstream's bill %s", -e.Amount, acct.Balance, cost)
	}
	mustVerify(t, m)
}

// The same with an upstream that never reports usage: what paymeter
// drained after the client left was generated, and is paid for, all the
// same; the estimate counts it, not only what reached the client.
func TestStream_ClientGoneWithoutUsageChargedAllTheUpstreamSent(t *testing.T) {
	const words = 2000 // " word": 5 bytes, so 2500 tokens at 4 bytes a token
	finished := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		chunk := func(content string) error {
			_, err := fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","model":"demo-small","choices":[{"index":0,"delta":{"content":%q}}]}`+"\n\n", content)
			fl.Flush()
			return err
		}
		chunk("Hi")
		time.Sleep(50 * time.Millisecond)
		for range words {
			if chunk(" word") != nil {
				return
			}
		}
		fmt.Fprint(w, "data: [DONE]\n\n") // no usage: this upstream ignores stream_options
		fl.Flush()
		close(finished)
	}))
	t.Cleanup(up.Close)
	m := MustRunMain(t, testConfig(t, up.URL+"/v1"))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	hangUpAt(t, m, key, `{"model":"demo-small","stream":true,"max_tokens":4000,"messages":[{"role":"user","content":"Write."}]}`, `"Hi"`)
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream was not read to its end")
	}
	waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || !entries[0].Estimated {
		t.Fatalf("usage entries %+v, want one estimated", entries)
	}
	if out := entries[0].Usage.OutputTokens; out < words*5/4 {
		t.Fatalf("charged %d output tokens, want at least the %d the upstream sent", out, words*5/4)
	}
	mustVerify(t, m)
}

// hangUpAt streams body with key over a raw connection and closes it as
// soon as a line holding marker arrives.
func hangUpAt(t *testing.T, m *Main, key, body, marker string) {
	t.Helper()
	hangUpOn(t, m, "/v1/chat/completions", "Authorization: Bearer "+key, body, marker)
}

// hangUpOn posts body to path with one credential header line over a raw
// connection, reads the streamed answer and closes the connection as soon
// as a line holding marker arrives.
func hangUpOn(t *testing.T, m *Main, path, credential, body, marker string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, credential, len(body), body)
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, marker) {
			return
		}
	}
}
