package payclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/x402"
)

// interopDir holds the npm clients (testdata/interop).
const interopDir = "../../testdata/interop"

// needNode returns node, with the interop clients installed, or skips
// (fails on CI).
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(interopDir, "node_modules", "@x402", "evm"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("interop clients not installed (npm ci --prefix testdata/interop): %v", err)
		}
		t.Skipf("interop clients not installed (npm ci --prefix testdata/interop): %v", err)
	}
	return node
}

// The unmodified @x402/evm 2.27 upto client (testdata/interop/
// upto_payload.mjs) and this client, given the same 402, key, clock and
// nonce, send the same payment: every field, the EIP-712 digest and the
// signature itself (both sign deterministically, RFC 6979).
func TestDo_UptoSameAsNPMClient(t *testing.T) {
	node := needNode(t)
	ch := uptoChallenge(3000, 123_456)
	pr := map[string]any{"x402Version": 2, "resource": ch.Resource, "accepts": []x402.Requirement{ch.UptoRequirement(ch.Networks[0])}}
	in, _ := json.Marshal(pr)
	key, _ := crypto.GenerateKey()
	now := time.Now().Truncate(time.Second).Add(-time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "upto_payload.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "PAYER_KEY=0x"+hex.EncodeToString(crypto.FromECDSA(key)), "NOW="+strconv.FormatInt(now.Unix(), 10))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("upto_payload.mjs: %v\n%s%s", err, out, stderr.String())
	}
	var npm struct {
		PaymentPayload json.RawMessage `json:"paymentPayload"`
		Header         string          `json:"header"`
	}
	if err := json.Unmarshal(out, &npm); err != nil {
		t.Fatalf("upto_payload.mjs printed %s: %v", out, err)
	}
	theirs, err := x402.DecodeUpto(npm.Header)
	if err != nil {
		t.Fatalf("the npm payment does not decode: %v", err)
	}

	// This client, with the npm client's nonce and the same clock.
	s := newServer(t, acceptAll(b64(string(mustJSON(t, pr))), ""))
	c := &Client{Key: key, Now: func() time.Time { return now }, Rand: bytes.NewReader(theirs.Permit.Nonce.FillBytes(make([]byte, 32)))}
	if _, err := post(t, c, s.URL); err != nil {
		t.Fatal(err)
	}
	ours, err := x402.DecodeUpto(s.payments[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decodedJSON(t, s.payments[0]), decodedJSON(t, npm.Header); !reflect.DeepEqual(got, want) {
		t.Fatalf("payments differ:\nours %v\nnpm  %v", got, want)
	}
	dOurs, err1 := x402.UptoDigest(84532, &ours.Permit)
	dTheirs, err2 := x402.UptoDigest(84532, &theirs.Permit)
	if err1 != nil || err2 != nil || dOurs != dTheirs || !bytes.Equal(ours.Signature, theirs.Signature) {
		t.Fatalf("digest %s / %s, signatures %x / %x", dOurs, dTheirs, ours.Signature, theirs.Signature)
	}
	if a := theirs.Permit; a.Deadline.Int64() != now.Unix()+300 || a.Amount.Cmp(big.NewInt(123_456)) != 0 || a.Facilitator != facilitator {
		t.Fatalf("npm permit %+v", a)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodedJSON is a base64 JSON header as generic JSON, key order aside.
func decodedJSON(t *testing.T, header string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
