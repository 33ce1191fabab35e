package devchain

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// newRPCServer is the chain's JSON-RPC server: the eth, net and web3
// namespaces of the methods in rpc_eth.go and rpc_blocks.go, and nothing
// else (no admin, debug, personal, miner, txpool or engine), with
// go-ethereum's node's batch limits.
func newRPCServer(c *Chain) *rpc.Server {
	srv := rpc.NewServer()
	srv.SetBatchLimits(1000, 25*1000*1000)
	for name, svc := range map[string]any{"eth": &ethAPI{c}, "net": &netAPI{c}, "web3": web3API{}} {
		if err := srv.RegisterName(name, svc); err != nil {
			panic(err) // a method signature the server does not take: a bug
		}
	}
	return srv
}

// serveHTTP serves JSON-RPC over HTTP on host:port (loopback).
func (c *Chain) serveHTTP(host string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("devchain: RPC: %w", err)
	}
	c.http = &http.Server{Handler: localHostOnly(c.rpc), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	c.RPCURL = "http://" + ln.Addr().String()
	go c.http.Serve(ln)
	return nil
}

// localHostOnly refuses a request whose Host is a name other than
// localhost, as go-ethereum's node does by default: a web page on a name
// its attacker rebinds to 127.0.0.1 (DNS rebinding) would otherwise be
// same-origin with the chain and could drive it. An IP address is let
// through, since a page that names one is cross-origin anyway, and its
// browser sends no CORS header to let it read the answer. The rpc server
// itself refuses a POST that is not application/json, which a page can
// send without a CORS preflight.
func localHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if host != "" && host != "localhost" && net.ParseIP(host) == nil {
			http.Error(w, "invalid host specified", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
