package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// gzipZeros is one gzip member holding n zero bytes.
func gzipZeros(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zeros))
		zw.Write(zeros[:k])
		n -= k
	}
	zw.Close()
	return buf.Bytes()
}

// gzipBomb is a body under max bytes that inflates to gigabytes: gzip
// members of 64 MiB of zeros each, concatenated (a gzip reader reads them
// all as one stream).
func gzipBomb(tb testing.TB, max int) []byte {
	member := gzipZeros(tb, 64<<20)
	var bomb []byte
	for len(bomb)+len(member) <= max {
		bomb = append(bomb, member...)
	}
	return bomb
}

// vmRSS is the process's resident set, from /proc/self/status.
func vmRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0 // not Linux: the Go heap figures still apply
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// H1: a request body sent with a Content-Encoding is refused, 415
// unsupported_content_encoding, before anything reads it: a 1 MB gzip bomb
// (gigabytes inflated), or a stacked one, with garbage wallet headers, on
// every route that reads a body, is answered in well under a second and
// the process does not grow. identity passes.
func TestBodyBomb_EncodedBodiesRefusedBeforeDecoding(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	_, key := mustApp(t, m, "1", meter.AllScopes)

	max := m.Config.Limits.MaxBodyBytes - 64<<10
	bomb := gzipBomb(t, max) // ~15 members of 64 MiB: ~1 GB inflated
	// Stacked: gzip of a stream of gzip members, 16 GiB at the bottom.
	var inner []byte
	for member := gzipZeros(t, 64<<20); len(inner) < 16<<20; {
		inner = append(inner, member...)
	}
	var outer bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&outer, gzip.BestCompression)
	zw.Write(inner)
	zw.Close()
	if outer.Len() > max {
		t.Fatalf("stacked bomb is %d bytes, over the body limit", outer.Len())
	}
	inner = nil

	type attack struct {
		method, path, encoding string
		body                   []byte
		header                 map[string]string
	}
	garbageWallet := map[string]string{auth.HeaderWalletAddress: "0xnot-an-address", auth.HeaderTimestamp: "soon",
		auth.HeaderWalletSignature: "0x" + strings.Repeat("zz", 65)}
	bearer := map[string]string{"Authorization": "Bearer " + key}
	attacks := []attack{
		{"POST", "/v1/chat/completions", "gzip", bomb, garbageWallet},
		{"POST", "/v1/chat/completions", "gzip, gzip", outer.Bytes(), garbageWallet},
		{"POST", "/v1/chat/completions", "GZIP", bomb, bearer},
		{"POST", "/v1/embeddings", "deflate", bomb, bearer},
		{"POST", "/v1/completions", "br", bomb, nil},
		{"POST", "/api/v1/topup/10", "gzip", bomb, garbageWallet},
		{"POST", "/api/v1/topup/10", "identity, gzip", bomb, nil},
		{"POST", "/api/v1/api-keys", "gzip", bomb, bearer},
		{"POST", "/api/v1/auth/session-token", "gzip", bomb, bearer},
		{"POST", "/api/auth/siwe/verify", "gzip", bomb, nil},
		{"GET", "/api/v1/account", "gzip", nil, bearer},
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rssBefore := vmRSS(t)
	const bound = 64 << 20
	// grown fails the test once the process has grown by the bound: checked
	// after every request, so that the first bomb decoded stops the test.
	grown := func(what string) {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > bound {
			t.Fatalf("%s: allocated %d MB so far, want under 64 MB", what, grew>>20)
		}
		if grew := int64(after.Sys) - int64(before.Sys); grew > bound {
			t.Fatalf("%s: Go runtime grew by %d MB, want under 64 MB", what, grew>>20)
		}
		if grew := vmRSS(t) - rssBefore; grew > bound {
			t.Fatalf("%s: resident set grew by %d MB, want under 64 MB", what, grew>>20)
		}
	}
	for _, a := range attacks {
		what := a.method + " " + a.path + " (" + a.encoding + ")"
		req, _ := http.NewRequest(a.method, m.URL()+a.path, bytes.NewReader(a.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", a.encoding)
		for k, v := range a.header {
			req.Header.Set(k, v)
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		body := readAll(t, resp)
		if took := time.Since(start); took > time.Second {
			t.Fatalf("%s: answered in %s, want under 1 s", what, took)
		}
		grown(what)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		e := mustError(t, resp, http.StatusUnsupportedMediaType, meter.ECodeUnsupportedEncoding)
		if e.Error.Details["content_encoding"] != a.encoding {
			t.Fatalf("%s: details %v, want the refused encoding", what, e.Error.Details)
		}
	}

	// Two Content-Encoding headers: the second one is seen too.
	req, _ := http.NewRequest("POST", m.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Add("Content-Encoding", "identity")
	req.Header.Add("Content-Encoding", "gzip")
	mustError(t, do(t, req), http.StatusUnsupportedMediaType, meter.ECodeUnsupportedEncoding)

	// identity is no encoding: served as usual, and nothing else was.
	req, _ = http.NewRequest("POST", m.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Encoding", "identity")
	resp := do(t, req)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("identity: %d %s", resp.StatusCode, body)
	}
	if n := len(up.seen()); n != 1 {
		t.Fatalf("upstream saw %d requests, want only the identity one", n)
	}
	if got := up.seen()[0].Header.Get("Content-Encoding"); got != "" {
		t.Fatalf("upstream got Content-Encoding %q, want none", got)
	}
}
