package payclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// SignedIn is the sign-in-with-x proof a request carried.
type SignedIn struct {
	Address common.Address
	ChainID string // CAIP-2, "eip155:84532"
	Domain  string
}

// DoSIWX sends req; on a 402 that declares the sign-in-with-x extension
// (x402's, docs/design.md §3) it signs the challenge, an EIP-4361 message
// (EIP-191), and sends req once more with SIGN-IN-WITH-X: the wallet's
// balance pays, not x402. It signs one proof at most and never pays.
// Errors: *MalformedError (no usable challenge: nothing signed),
// *RejectedError with SIWX set (the proof refused: a 401, or a 402 as the
// balance is too low).
func (c *Client) DoSIWX(ctx context.Context, req *http.Request) (*Result, error) {
	if c.Key == nil {
		return nil, errors.New("signing in with x needs the payer key")
	}
	body, err := bufferBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, req, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusPaymentRequired {
		return &Result{Response: resp}, nil
	}
	readBounded(resp.Body, maxErrorBody)
	resp.Body.Close()
	header, signed, err := c.siwxProof(resp.Header.Get(x402.HeaderRequired), req.URL)
	if err != nil {
		return nil, err
	}
	retry := req.Clone(ctx)
	retry.Header.Del(x402.HeaderPaymentV1)
	retry.Header.Del(x402.HeaderPaymentV2)
	retry.Header.Set(x402.HeaderSIWX, header)
	if resp, err = c.send(ctx, retry, body); err != nil {
		return nil, fmt.Errorf("the signed-in request failed: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusPaymentRequired {
		b, _ := readBounded(resp.Body, maxErrorBody)
		resp.Body.Close()
		code, msg := ErrorFields(b)
		return nil, &RejectedError{Status: resp.StatusCode, Code: code, Message: msg, Reason: errorReason(b), SIWX: true}
	}
	return &Result{Response: resp, SignedIn: signed}, nil
}

// siwxDeclaration is extensions["sign-in-with-x"] as a client reads it:
// the info's fields are a proof's (x402.SIWXPayload), less what the
// client adds (address, chain, type, signature).
type siwxDeclaration struct {
	Info            x402.SIWXPayload `json:"info"`
	SupportedChains []x402.SIWXChain `json:"supportedChains"`
}

// siwxProof signs the challenge of a PAYMENT-REQUIRED value for a request
// to u and returns the SIGN-IN-WITH-X value. The challenge must be bound
// to u's origin (a 402 asking to sign in to another site is a phished
// sign-in) and make one EIP-4361 message, read back field for field.
func (c *Client) siwxProof(required string, u *url.URL) (string, *SignedIn, error) {
	bad := func(format string, args ...any) error {
		return &MalformedError{Reason: "sign-in-with-x: " + fmt.Sprintf(format, args...)}
	}
	if required == "" || len(required) > maxRequiredHeader {
		return "", nil, bad("the 402 carries no %s header of at most %d bytes", x402.HeaderRequired, maxRequiredHeader)
	}
	pr, err := x402.ParseChallengeV2(required)
	if err != nil {
		return "", nil, bad("%s is not base64 JSON", x402.HeaderRequired)
	}
	raw, ok := pr.Extensions[x402.ExtensionSIWX]
	var d siwxDeclaration
	if !ok || json.Unmarshal(raw, &d) != nil {
		return "", nil, bad("the 402 does not declare the %s extension", x402.ExtensionSIWX)
	}
	var chain *x402.SIWXChain
	for i := range d.SupportedChains {
		if ch := &d.SupportedChains[i]; ch.Type == x402.SIWXTypeEIP191 && strings.HasPrefix(ch.ChainID, "eip155:") {
			chain = ch
			break
		}
	}
	if chain == nil {
		return "", nil, bad("it offers no eip155 chain signed with %s", x402.SIWXTypeEIP191)
	}
	p := d.Info
	if err := boundTo(u, p.Domain, p.URI); err != nil {
		return "", nil, bad("%v", err)
	}
	if err := c.checkTransport(u); err != nil {
		return "", nil, err
	}
	p.Address, p.ChainID, p.Type, p.Signature = c.Address().Hex(), chain.ChainID, chain.Type, ""
	msg, err := auth.SIWXMessage(&p)
	if err != nil {
		return "", nil, bad("its challenge makes no valid EIP-4361 message: %s", printable(messageOf(err), 200))
	}
	if p.Signature, err = c.personalSign(msg); err != nil {
		return "", nil, fmt.Errorf("sign the sign-in-with-x message: %w", err)
	}
	return x402.EncodeSIWX(&p), &SignedIn{Address: c.Address(), ChainID: printable(p.ChainID, 32), Domain: printable(p.Domain, 100)}, nil
}

// boundTo checks that a challenge's domain is u's host and its URI on u's
// origin, as @x402/extensions' client does: URL.host (no default port).
func boundTo(u *url.URL, domain, uri string) error {
	host := originHost(u)
	if domain != host {
		return fmt.Errorf("the server asks to sign in to %q, not to %s", printable(domain, 100), host)
	}
	v, err := url.Parse(uri)
	if err != nil || v.Scheme != u.Scheme || originHost(v) != host {
		return fmt.Errorf("the server asks to sign in for %q, not on %s://%s", printable(uri, 200), u.Scheme, host)
	}
	return nil
}

// originHost is u's host as a browser's URL.host writes it: lower case,
// without the scheme's default port.
func originHost(u *url.URL) string {
	host := strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return host
}

// messageOf is an error's client message: a *meter.Error's Message.
func messageOf(err error) string {
	var me *meter.Error
	if errors.As(err, &me) {
		return me.Message
	}
	return err.Error()
}
