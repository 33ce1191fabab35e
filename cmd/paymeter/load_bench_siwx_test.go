package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// seedWallet gives the wallet of key an account with plenty of credit in
// the database the paymeter process will serve, as a top-up would: what
// the "siwx" and "wallet" targets spend.
func seedWallet(b *testing.B, path string, key *ecdsa.PrivateKey) {
	l, err := openStore(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	a := &meter.Account{Kind: meter.AccountWallet, Address: crypto.PubkeyToAddress(key.PublicKey).Hex()}
	if err := l.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	if _, err := l.Credit(ctx, a.ID, meter.EntryGrant, amt(b, "1000000"), "load-wallet-"+a.Address); err != nil {
		b.Fatal(err)
	}
}

// siwxVariants returns n SIGN-IN-WITH-X headers for POST url, each the
// proof of a challenge of its own: a nonce is single use, and only the
// server issues them, so each is taken from a 402 of the server, as a
// client would (a few at a time, before the run).
func siwxVariants(b *testing.B, key *ecdsa.PrivateKey, url string, body []byte, n int) []map[string]string {
	out := make([]map[string]string, n)
	addr := crypto.PubkeyToAddress(key.PublicKey).Hex()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				h, err := benchSIWXProof(client, key, addr, url, body)
				if err != nil {
					errs <- err
					return
				}
				out[i] = map[string]string{x402.HeaderSIWX: h}
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return out
}

// benchSIWXProof asks url for a 402, and signs its sign-in-with-x challenge.
func benchSIWXProof(client *http.Client, key *ecdsa.PrivateKey, addr, url string, body []byte) (string, error) {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	pr, err := x402.ParseChallengeV2(resp.Header.Get(x402.HeaderRequired))
	if err != nil {
		return "", err
	}
	var d x402.SIWXDeclaration
	if err := json.Unmarshal(pr.Extensions[x402.ExtensionSIWX], &d); err != nil {
		return "", err
	}
	info := d.Info
	p := &x402.SIWXPayload{Domain: info.Domain, Address: addr, URI: info.URI, Version: info.Version,
		ChainID: d.SupportedChains[0].ChainID, Type: d.SupportedChains[0].Type, Nonce: info.Nonce,
		IssuedAt: info.IssuedAt, Resources: info.Resources}
	if info.Statement != "" {
		p.Statement = &info.Statement
	}
	if info.ExpirationTime != "" {
		p.ExpirationTime = &info.ExpirationTime
	}
	msg, err := auth.SIWXMessage(p)
	if err != nil {
		return "", err
	}
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		return "", err
	}
	sig[64] += 27
	p.Signature = "0x" + hex.EncodeToString(sig)
	j, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(j), nil
}
