package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/payclient"
)

// Exit statuses of `paymeter pay` (README "paymeter pay"): 0 a 2xx
// answer, 1 any other failure, 2 usage.
const (
	exitOverMax   = 3 // the price is above --max; nothing signed
	exitRejected  = 4 // the server refused the signed payment or sign-in-with-x proof
	exitHTTPError = 5 // a non-2xx answer that is not a payment matter
	exitMalformed = 6 // a 402 that cannot be paid; nothing signed
)

// payKeyEnv holds the payer's key when --key-file is not given: never a
// flag value, which would stay in the shell's history.
const payKeyEnv = "PAYMETER_PAYER_KEY"

// headerList is a repeatable -H 'Name: value'.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// payFlags are the flags every `paymeter pay` command shares.
type payFlags struct {
	keyFile string
	max     string
	x402    int
	// scheme forces exact or upto (default auto: upto when offered);
	// assets are tokens besides USDC that upto may be paid in.
	scheme string
	assets assetList
	// insecure signs over plain http off loopback (payclient.ErrCleartext).
	insecure bool
}

func (f *payFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.keyFile, "key-file", "", "file holding the payer's private key in hex (else $"+payKeyEnv+")")
	fs.StringVar(&f.max, "max", "", "the most one payment may cost, in credits (default 1)")
	fs.IntVar(&f.x402, "x402", 0, "pay with this x402 version only: 1 or 2 (default: v2, else v1)")
	fs.StringVar(&f.scheme, "scheme", "", "pay with this x402 scheme only: exact or upto (default: upto when offered, else exact)")
	fs.Var(&f.assets, "asset", "a token besides each network's USDC that upto may be paid in, its units counted as USDC's (repeatable)")
	fs.BoolVar(&f.insecure, "insecure-http", false, "sign over plain http to a host that is not loopback (anyone on the way can take it)")
}

// client builds the payer's client; needKey refuses to go on without a key.
func (f *payFlags) client(stderr io.Writer, needKey bool) (*payclient.Client, error) {
	c := &payclient.Client{}
	if f.max != "" {
		m, err := meter.ParseAmount(f.max)
		if err != nil || m <= 0 {
			return nil, usagef("pay: --max %q is not a positive amount of credits", f.max)
		}
		c.Max = m
	}
	if f.x402 != 0 && f.x402 != 1 && f.x402 != 2 {
		return nil, usagef("pay: --x402 must be 1 or 2")
	}
	c.Version, c.InsecureHTTP = f.x402, f.insecure
	if err := f.checkScheme(c); err != nil {
		return nil, err
	}
	key, err := loadPayerKey(f.keyFile, stderr)
	if err != nil {
		return nil, err
	}
	if key == nil && needKey {
		return nil, fmt.Errorf("pay: no payer key: give --key-file FILE or set %s", payKeyEnv)
	}
	c.Key = key
	return c, nil
}

// loadPayerKey reads the key from file, else from the environment; nil
// when neither is set. No error ever quotes the key.
func loadPayerKey(file string, stderr io.Writer) (*ecdsa.PrivateKey, error) {
	var raw string
	if file != "" {
		st, err := os.Stat(file)
		if err != nil {
			return nil, fmt.Errorf("pay: --key-file: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(stderr, "warning: key file %s is readable by others (mode %04o); chmod 600 it\n", file, st.Mode().Perm())
		}
		fh, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("pay: --key-file: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(fh, 1024))
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("pay: --key-file: %w", err)
		}
		raw = string(b)
	} else if raw = os.Getenv(payKeyEnv); raw == "" {
		return nil, nil
	}
	raw = strings.TrimSpace(raw)
	raw = strings.TrimPrefix(strings.TrimPrefix(raw, "0x"), "0X")
	b, err := hex.DecodeString(raw)
	if err != nil || len(b) != 32 {
		return nil, errors.New("pay: the payer key is not 32 bytes of hex")
	}
	key, err := crypto.ToECDSA(b)
	if err != nil {
		return nil, errors.New("pay: the payer key is not a valid secp256k1 key")
	}
	return key, nil
}

// parseInterspersed parses flags before and after the positional
// arguments (Go's flag package stops at the first non-flag).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if args = fs.Args(); len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// runPay runs `paymeter pay`: a request, or topup, signin, balance.
func runPay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "topup":
			return runPayTopUp(ctx, args[1:], stdout, stderr)
		case "signin":
			return runPaySignIn(ctx, args[1:], stdout, stderr)
		case "balance":
			return runPayBalance(ctx, args[1:], stdout, stderr)
		}
	}
	return runPayRequest(ctx, args, stdout, stderr)
}

// payRequest is a parsed `paymeter pay URL` command line.
type payRequest struct {
	payFlags
	method, data         string
	headers              headerList
	stream, wallet, head bool
	// siwx signs the 402's sign-in-with-x challenge instead of paying.
	siwx bool
}

func parsePayRequest(args []string) (*payRequest, string, error) {
	p := &payRequest{}
	fs := newFlags("pay")
	p.register(fs)
	fs.StringVar(&p.method, "X", "", "HTTP method (default GET, or POST with -d)")
	fs.Var(&p.headers, "H", "a request header 'Name: value' (repeatable)")
	fs.StringVar(&p.data, "d", "", "request body, or @FILE (@- for stdin); implies POST and JSON")
	fs.BoolVar(&p.stream, "N", false, "copy the answer as it arrives (streams)")
	fs.BoolVar(&p.wallet, "wallet", false, "sign wallet headers: the wallet's balance pays, not x402")
	fs.BoolVar(&p.head, "i", false, "print the answer's status line and headers first")
	fs.BoolVar(&p.siwx, "siwx", false, "sign the 402's sign-in-with-x challenge: the wallet's balance pays, not x402")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(pos) != 1 {
		return nil, "", usagef("pay: want one URL, got %d arguments", len(pos))
	}
	if p.siwx && p.wallet {
		return nil, "", usagef("pay: --siwx and --wallet are two ways to spend the balance: give one")
	}
	if u, err := url.Parse(pos[0]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", usagef("pay: %q is not an http(s) URL", pos[0])
	}
	return p, pos[0], nil
}

// build makes the request the command line describes.
func (p *payRequest) build(ctx context.Context, target string) (*http.Request, error) {
	var body []byte
	hasBody := p.data != ""
	switch {
	case p.data == "@-":
		b, err := io.ReadAll(io.LimitReader(os.Stdin, payclient.MaxRequestBody+1))
		if err != nil {
			return nil, fmt.Errorf("pay: -d @-: %w", err)
		}
		body = b
	case strings.HasPrefix(p.data, "@"):
		f, err := os.Open(p.data[1:])
		if err != nil {
			return nil, fmt.Errorf("pay: -d: %w", err)
		}
		// Bounded, so that -d @/dev/zero is refused, not read forever.
		b, err := io.ReadAll(io.LimitReader(f, payclient.MaxRequestBody+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("pay: -d: %w", err)
		}
		body = b
	default:
		body = []byte(p.data)
	}
	if len(body) > payclient.MaxRequestBody {
		return nil, fmt.Errorf("pay: the body is longer than %d bytes", payclient.MaxRequestBody)
	}
	method := p.method
	if method == "" {
		method = map[bool]string{true: http.MethodPost, false: http.MethodGet}[hasBody]
	}
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), target, rd)
	if err != nil {
		return nil, usagef("pay: %v", err)
	}
	for _, h := range p.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usagef("pay: -H %q is not 'Name: value'", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if hasBody && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func runPayRequest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	p, target, err := parsePayRequest(args)
	if err != nil {
		return err
	}
	c, err := p.client(stderr, p.wallet || p.siwx)
	if err != nil {
		return err
	}
	req, err := p.build(ctx, target)
	if err != nil {
		return err
	}
	var res *payclient.Result
	switch {
	case p.wallet:
		res, err = c.DoWallet(ctx, req)
	case p.siwx:
		res, err = c.DoSIWX(ctx, req)
	default:
		res, err = c.Do(ctx, req)
	}
	if errors.Is(err, payclient.ErrNoKey) {
		return fmt.Errorf("pay: %w: give --key-file FILE or set %s", err, payKeyEnv)
	}
	if err != nil {
		printHint(stderr, err)
		return payExit(err)
	}
	return p.output(res, stdout, stderr)
}

// output writes the answer to stdout and the payment's lines to stderr.
func (p *payRequest) output(res *payclient.Result, stdout, stderr io.Writer) error {
	resp := res.Response
	defer resp.Body.Close()
	upto := res.Paid != nil && res.Paid.Scheme == payclient.SchemeUpto
	switch {
	case upto:
		fmt.Fprintln(stderr, paidUptoLine(res.Paid))
		fmt.Fprintln(stderr, uptoReceiptLine(res))
	case res.Paid != nil:
		fmt.Fprintln(stderr, paidLine(res.Paid))
		fmt.Fprintln(stderr, receiptLine(res))
	case res.SignedIn != nil:
		fmt.Fprintln(stderr, siwxLine(res.SignedIn))
	}
	out := bufio.NewWriter(stdout)
	if p.head {
		fmt.Fprintf(out, "%s %s\r\n", resp.Proto, resp.Status)
		resp.Header.Write(out)
		out.WriteString("\r\n")
	}
	// A failed answer's start is kept to name its error.
	var failed limitedBuffer
	var body io.Reader = resp.Body
	ok := resp.StatusCode/100 == 2
	if !ok {
		body = io.TeeReader(resp.Body, &failed)
	}
	err := copyBody(out, body, p.stream)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("pay: reading the answer: %w", err)
	}
	cost, hasCost := res.Cost()
	if hasCost {
		fmt.Fprintf(stderr, "cost: %s credits\n", cost)
	}
	if upto {
		fmt.Fprintln(stderr, chargedLine(res, cost, hasCost))
	}
	if p.wallet || res.SignedIn != nil {
		if b, err := meter.ParseAmount(resp.Header.Get("X-Paymeter-Balance")); err == nil {
			fmt.Fprintf(stderr, "balance: %s credits\n", b)
		}
	}
	if !ok {
		code, msg := payclient.ErrorFields(failed.Bytes())
		return exitCode{exitHTTPError, &payclient.HTTPError{Status: resp.StatusCode, Code: code, Message: msg}}
	}
	return nil
}

// copyBody copies the answer; streaming, each read is flushed at once.
func copyBody(out *bufio.Writer, body io.Reader, stream bool) error {
	if !stream {
		_, err := io.Copy(out, body)
		return err
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				return werr
			}
			if werr := out.Flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func paidLine(r *payclient.Requirement) string {
	return fmt.Sprintf("paid: %d USDC units (%s credits) on %s via x402 v%d %s to %s (asset %s)",
		r.Units, r.Units, r.Network, r.Version, r.Scheme, r.PayTo.Hex(), r.Asset.Hex())
}

func receiptLine(res *payclient.Result) string {
	switch rc := res.Receipt; {
	case rc == nil && res.ReceiptErr != nil:
		return "receipt: unreadable (" + res.ReceiptErr.Error() + ")"
	case rc == nil:
		return "receipt: none"
	case !rc.Success:
		return fmt.Sprintf("receipt: failed (%s) %s on %s", rc.ErrorReason, rc.Transaction, rc.Network)
	default:
		return fmt.Sprintf("receipt: %s on %s payer %s", rc.Transaction, rc.Network, rc.Payer)
	}
}

// payExit gives a payment error its exit status.
func payExit(err error) error {
	var (
		over *payclient.OverMaxError
		bad  *payclient.MalformedError
		rej  *payclient.RejectedError
		he   *payclient.HTTPError
	)
	switch {
	case errors.As(err, &over):
		return exitCode{exitOverMax, err}
	case errors.As(err, &bad):
		return exitCode{exitMalformed, err}
	case errors.As(err, &rej):
		return exitCode{exitRejected, err}
	case errors.As(err, &he):
		return exitCode{exitHTTPError, err}
	}
	return err
}
