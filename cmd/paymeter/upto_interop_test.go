package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/contracts"
)

// uptoPayment is what testdata/interop/upto_payload.mjs prints: the x402 v2 payment payload the
// unmodified @x402/evm upto client made, and the PAYMENT-SIGNATURE header value @x402/core encodes
// from it (base64 of the payload's JSON), which @x402/fetch would send.
type uptoPayment struct {
	PaymentPayload json.RawMessage `json:"paymentPayload"`
	Header         string          `json:"header"`
	// Payload is PaymentPayload decoded.
	Payload uptoPaymentPayload `json:"-"`
}

// uptoPaymentPayload is the upto payment payload (contracts/upto.go documents it); every number
// is a decimal string.
type uptoPaymentPayload struct {
	X402Version int             `json:"x402Version"`
	Accepted    json.RawMessage `json:"accepted"`
	Resource    json.RawMessage `json:"resource"`
	Extensions  json.RawMessage `json:"extensions"`
	Payload     struct {
		Signature            string `json:"signature"`
		Permit2Authorization struct {
			From      string `json:"from"`
			Permitted struct {
				Token  string `json:"token"`
				Amount string `json:"amount"`
			} `json:"permitted"`
			Spender  string `json:"spender"`
			Nonce    string `json:"nonce"`
			Deadline string `json:"deadline"`
			Witness  struct {
				To          string `json:"to"`
				Facilitator string `json:"facilitator"`
				ValidAfter  string `json:"validAfter"`
			} `json:"witness"`
		} `json:"permit2Authorization"`
	} `json:"payload"`
}

// permit is the signed permit and its signature, as the proxy's settle takes them.
func (p *uptoPaymentPayload) permit(t *testing.T) (*contracts.UptoPermit, []byte) {
	t.Helper()
	a := p.Payload.Permit2Authorization
	num := func(name, s string) *big.Int {
		n, ok := new(big.Int).SetString(s, 10)
		if !ok || n.Sign() < 0 {
			t.Fatalf("%s=%q is not a decimal integer", name, s)
		}
		return n
	}
	sig, err := hex.DecodeString(strings.TrimPrefix(p.Payload.Signature, "0x"))
	if err != nil {
		t.Fatalf("signature %q: %v", p.Payload.Signature, err)
	}
	return &contracts.UptoPermit{Owner: common.HexToAddress(a.From), Token: common.HexToAddress(a.Permitted.Token),
		Amount: num("amount", a.Permitted.Amount), Nonce: num("nonce", a.Nonce), Deadline: num("deadline", a.Deadline),
		To: common.HexToAddress(a.Witness.To), Facilitator: common.HexToAddress(a.Witness.Facilitator),
		ValidAfter: num("validAfter", a.Witness.ValidAfter)}, sig
}

// uptoRequirement is a v2 upto requirement (eip155:84532) of asset for at most units, paying payTo,
// to be settled by facilitator: what a 402 offering upto carries.
func uptoRequirement(asset, payTo common.Address, units int64, facilitator common.Address) map[string]any {
	return map[string]any{
		"scheme": "upto", "network": "eip155:84532", "amount": strconv.FormatInt(units, 10),
		"asset": asset.Hex(), "payTo": payTo.Hex(), "maxTimeoutSeconds": 300,
		"extra": map[string]any{"name": "USDC", "version": "2", "facilitatorAddress": facilitator.Hex(),
			"assetTransferMethod": "permit2"},
	}
}

// nodeUptoPayment has the unmodified @x402/evm upto client (testdata/interop/upto_payload.mjs) sign
// with payerKey for required: a v2 PaymentRequired (as decoded from a PAYMENT-REQUIRED header) or
// one requirement, asset being allowed by its spend controls. env adds MAX_VALUE=… or NOW=…. A
// refusal by the client fails the test.
func nodeUptoPayment(t *testing.T, node string, payerKey *ecdsa.PrivateKey, asset common.Address, required any, env ...string) uptoPayment {
	t.Helper()
	out, stderr, err := runUptoPayload(t, node, payerKey, asset, required, env...)
	if err != nil {
		t.Fatalf("upto_payload.mjs: %v\n%s%s", err, out, stderr)
	}
	var p uptoPayment
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("upto_payload.mjs printed %q: %v", out, err)
	}
	if err := json.Unmarshal(p.PaymentPayload, &p.Payload); err != nil {
		t.Fatalf("payment payload %s: %v", p.PaymentPayload, err)
	}
	return p
}

// nodeUptoRefusal runs upto_payload.mjs for a requirement the client must refuse, and returns what
// it printed on stderr.
func nodeUptoRefusal(t *testing.T, node string, payerKey *ecdsa.PrivateKey, asset common.Address, required any, env ...string) string {
	t.Helper()
	out, stderr, err := runUptoPayload(t, node, payerKey, asset, required, env...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("upto_payload.mjs: %v (want exit 1)\n%s%s", err, out, stderr)
	}
	if len(out) != 0 {
		t.Fatalf("a refusal printed %q on stdout", out)
	}
	return string(stderr)
}

func runUptoPayload(t *testing.T, node string, payerKey *ecdsa.PrivateKey, asset common.Address, required any, env ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	in, err := json.Marshal(required)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "upto_payload.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), append([]string{"PAYER_KEY=0x" + hex.EncodeToString(crypto.FromECDSA(payerKey)),
		"ASSET=" + asset.Hex()}, env...)...)
	cmd.Stdin = bytes.NewReader(in)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	stdout, err = cmd.Output()
	if key := hex.EncodeToString(crypto.FromECDSA(payerKey)); strings.Contains(string(stdout)+errBuf.String(), key) {
		t.Fatal("upto_payload.mjs printed the payer's key")
	}
	return stdout, errBuf.Bytes(), err
}

// checkUptoPayload checks every field of a payload the client made for req, signed by payer.
func checkUptoPayload(t *testing.T, p uptoPayment, req map[string]any, payer common.Address) (*contracts.UptoPermit, []byte) {
	t.Helper()
	header, err := base64.StdEncoding.DecodeString(p.Header)
	if err != nil || !bytes.Equal(header, p.PaymentPayload) {
		t.Fatalf("header decodes to %q (%v), want the payload %s", header, err, p.PaymentPayload)
	}
	var accepted map[string]any
	if err := json.Unmarshal(p.Payload.Accepted, &accepted); err != nil || accepted["scheme"] != "upto" || accepted["amount"] != req["amount"] {
		t.Fatalf("accepted %s (%v), want the upto requirement", p.Payload.Accepted, err)
	}
	permit, sig := p.Payload.permit(t)
	extra := req["extra"].(map[string]any)
	a := p.Payload.Payload.Permit2Authorization
	if p.Payload.X402Version != 2 || a.From != payer.Hex() || a.Spender != contracts.UptoProxyAddress.Hex() ||
		a.Permitted.Token != req["asset"] || a.Permitted.Amount != req["amount"] || a.Witness.To != req["payTo"] ||
		a.Witness.Facilitator != extra["facilitatorAddress"] || a.Witness.ValidAfter != "0" || len(sig) != 65 {
		t.Fatalf("payload %s, want from %s, spender %s, the requirement's token, amount, payTo and facilitator, validAfter 0",
			p.PaymentPayload, payer.Hex(), contracts.UptoProxyAddress.Hex())
	}
	if now := time.Now().Unix(); permit.Deadline.Int64() < now+290 || permit.Deadline.Int64() > now+300 {
		t.Fatalf("deadline %s, want now (%d) + maxTimeoutSeconds (300)", permit.Deadline, now)
	}
	// The client signed exactly contracts.UptoPermit's EIP-712 digest, for chain id 84532.
	digest, err := permit.Digest(84532)
	if err != nil {
		t.Fatal(err)
	}
	rsv := append([]byte(nil), sig...)
	rsv[64] -= 27
	pub, err := crypto.SigToPub(digest[:], rsv)
	if err != nil || crypto.PubkeyToAddress(*pub) != payer {
		t.Fatalf("signature recovers to %v (%v), want %s", pub, err, payer)
	}
	return permit, sig
}

// uptoRevert names the custom error of Permit2 or the upto proxy in err's revert data (what
// eth_call and eth_estimateGas return, e.g. "InvalidNonce", "AmountExceedsPermitted"), else its
// Error(string) reason ("TRANSFER_FROM_FAILED": allowance or balance short), else "".
func uptoRevert(err error) string {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return ""
	}
	s, _ := de.ErrorData().(string)
	data, decodeErr := hexutil.Decode(s)
	if decodeErr != nil || len(data) < 4 {
		return ""
	}
	for _, meta := range []*bind.MetaData{contracts.TestPermit2MetaData, contracts.TestUptoProxyMetaData} {
		parsed, _ := meta.GetAbi()
		for name, e := range parsed.Errors {
			if bytes.Equal(e.ID[:4], data[:4]) {
				return name
			}
		}
	}
	reason, _ := abi.UnpackRevert(data)
	return reason
}
