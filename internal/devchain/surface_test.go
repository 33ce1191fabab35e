package devchain

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The chain's RPC is unauthenticated and its accounts are funded: it
// serves eth, net and web3 only (no admin, debug, personal, miner, txpool,
// dev or engine), holds no account that could sign, answers no other Host
// than its own (DNS rebinding) and no form-encoded or text POST, with no
// CORS header (a web page cannot drive it).
func TestChain_RPCSurface(t *testing.T) {
	c, err := Start(Config{RPC: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	call := func(host, ctype, method string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, c.RPCURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":[]}`))
		if host != "" {
			req.Host = host
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Origin", "http://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b)), resp.Header.Get("Access-Control-Allow-Origin")
	}
	if st, body, cors := call("", "application/json", "rpc_modules"); st != 200 || cors != "" ||
		body != `{"jsonrpc":"2.0","id":1,"result":{"eth":"1.0","net":"1.0","rpc":"1.0","web3":"1.0"}}` {
		t.Fatalf("rpc_modules: %d %s (CORS %q)", st, body, cors)
	}
	if st, body, _ := call("", "application/json", "eth_accounts"); st != 200 || body != `{"jsonrpc":"2.0","id":1,"result":[]}` {
		t.Fatalf("eth_accounts: %d %s", st, body)
	}
	for _, m := range []string{"admin_nodeInfo", "debug_setHead", "personal_listAccounts", "miner_setEtherbase", "txpool_content",
		"dev_addTransaction", "engine_exchangeCapabilities", "eth_coinbase"} {
		want := `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"the method ` + m + ` does not exist/is not available"}}`
		if st, body, _ := call("", "application/json", m); st != 200 || body != want {
			t.Errorf("%s: %d %s", m, st, body)
		}
	}
	if st, body, _ := call("evil.example", "application/json", "eth_chainId"); st != 403 || body != "invalid host specified" {
		t.Errorf("rebound host: %d %s", st, body)
	}
	if st, body, _ := call("", "text/plain", "eth_chainId"); st != 415 || body != "invalid content type, only application/json is supported" {
		t.Errorf("text/plain: %d %s", st, body)
	}
}
