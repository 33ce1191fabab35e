package walletsig_test

import (
	"context"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/paymeter/paymeter/internal/walletsig"
)

// contract is an EIP-1271 wallet that accepts one signature of one
// digest, and counts the questions it is asked.
type contract struct {
	wallet common.Address
	digest [32]byte
	sig    []byte
	err    error
	asked  []int64
}

func (c *contract) IsValidSignature(_ context.Context, chainID int64, wallet common.Address, digest [32]byte, sig []byte) (bool, error) {
	c.asked = append(c.asked, chainID)
	if c.err != nil {
		return false, c.err
	}
	return wallet == c.wallet && digest == c.digest && string(sig) == string(c.sig), nil
}

func sign(t *testing.T, digest [32]byte) (common.Address, []byte) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := crypto.Sign(digest[:], key)
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(key.PublicKey), sig
}

// highS turns a signature into its other valid form (s ↦ n−s, v flipped).
func highS(sig []byte) []byte {
	out := append([]byte(nil), sig...)
	s := new(big.Int).SetBytes(out[32:64])
	s.Sub(crypto.S256().Params().N, s)
	s.FillBytes(out[32:64])
	out[64] ^= 1
	return out
}

func TestRecoverRecoveryIDsAndMalleability(t *testing.T) {
	digest := walletsig.TextHash([]byte("paymeter"))
	addr, sig := sign(t, digest) // v is 0 or 1
	v27 := append(append([]byte(nil), sig[:64]...), sig[64]+27)
	v2 := append(append([]byte(nil), sig[:64]...), 2)
	v29 := append(append([]byte(nil), sig[:64]...), 29)
	cases := map[string]struct {
		sig  []byte
		want error
	}{
		"v 0/1":           {sig, nil},
		"v 27/28":         {v27, nil},
		"v 2":             {v2, walletsig.ErrRecoveryID},
		"v 29":            {v29, walletsig.ErrRecoveryID},
		"high s":          {highS(sig), walletsig.ErrNotCanonical},
		"64 bytes":        {sig[:64], walletsig.ErrLength},
		"66 bytes":        {append(append([]byte(nil), v27...), 0), walletsig.ErrLength},
		"zero r and s":    {make([]byte, 65), walletsig.ErrNotCanonical},
		"empty signature": {nil, walletsig.ErrLength},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := walletsig.Recover(digest, tc.sig)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err=%v, want %v", err, tc.want)
			}
			if tc.want == nil && got != addr {
				t.Fatalf("recovered %s, want %s", got.Hex(), addr.Hex())
			}
		})
	}
}

func TestParseHexReturnsTheWalletForm(t *testing.T) {
	digest := walletsig.TextHash([]byte("paymeter"))
	_, sig := sign(t, digest)
	for _, prefix := range []string{"0x", "0X", ""} {
		got, err := walletsig.ParseHex(prefix + hex.EncodeToString(sig))
		if err != nil {
			t.Fatalf("%q: %v", prefix, err)
		}
		if want := sig[64] + 27; got[64] != want || string(got[:64]) != string(sig[:64]) {
			t.Fatalf("%q: v=%d, want %d and r‖s unchanged", prefix, got[64], want)
		}
	}
	for s, want := range map[string]error{
		"0x" + hex.EncodeToString(sig[:64]):         walletsig.ErrLength,
		"0x" + hex.EncodeToString(sig)[:128] + "zz": walletsig.ErrNotHex,
		"0x" + hex.EncodeToString(highS(sig)):       walletsig.ErrNotCanonical,
		"0x" + hex.EncodeToString(sig)[:128] + "1d": walletsig.ErrRecoveryID,
	} {
		if _, err := walletsig.ParseHex(s); !errors.Is(err, want) {
			t.Fatalf("%s: err=%v, want %v", s, err, want)
		}
	}
}

func TestVerifyEOAAndContractFallback(t *testing.T) {
	ctx := context.Background()
	digest := walletsig.TextHash([]byte("paymeter"))
	addr, sig := sign(t, digest)
	other, _ := sign(t, digest)

	var nilVerifier *walletsig.Verifier
	if ok, err := nilVerifier.Verify(ctx, 84532, addr, digest, sig); !ok || err != nil {
		t.Fatalf("EOA without contracts: ok=%v err=%v", ok, err)
	}
	c := &contract{wallet: other, digest: digest, sig: sig}
	v := &walletsig.Verifier{Contracts: c}
	if ok, err := v.Verify(ctx, 84532, addr, digest, sig); !ok || err != nil || len(c.asked) != 0 {
		t.Fatalf("EOA: ok=%v err=%v, asked %v (want no chain asked)", ok, err, c.asked)
	}
	// The contract wallet "other" accepts addr's signature.
	if ok, err := v.Verify(ctx, 84532, other, digest, sig); !ok || err != nil || len(c.asked) != 1 || c.asked[0] != 84532 {
		t.Fatalf("contract wallet: ok=%v err=%v asked %v", ok, err, c.asked)
	}
	if ok, err := v.Verify(ctx, 0, other, digest, sig); ok || err != nil || len(c.asked) != 1 {
		t.Fatalf("chain 0 asks nobody: ok=%v err=%v asked %v", ok, err, c.asked)
	}
	// A contract is asked about the signature as sent: 66 bytes too.
	long := append(append([]byte(nil), sig...), 0xff)
	c.sig = long
	if ok, err := v.Verify(ctx, 84532, other, digest, long); !ok || err != nil {
		t.Fatalf("contract wallet, 66-byte signature: ok=%v err=%v", ok, err)
	}
	c.err = errors.New("rpc down")
	if ok, err := v.Verify(ctx, 84532, other, digest, sig); ok || err == nil {
		t.Fatalf("failing chain: ok=%v err=%v, want an error", ok, err)
	}
}

func TestVerifyAnyRecoversEveryDigestBeforeAskingAChain(t *testing.T) {
	ctx := context.Background()
	d0, d1 := walletsig.TextHash([]byte("four lines")), walletsig.TextHash([]byte("five lines"))
	addr, sig := sign(t, d1)
	c := &contract{wallet: addr, digest: d0, sig: sig} // would accept d0 if asked
	v := &walletsig.Verifier{Contracts: c}
	if i, err := v.VerifyAny(ctx, 84532, addr, sig, d0, d1); i != 1 || err != nil || len(c.asked) != 0 {
		t.Fatalf("index %d err %v asked %v: want 1 by recovery, no chain asked", i, err, c.asked)
	}
	wallet, _ := sign(t, d0)
	c.wallet, c.digest = wallet, d1
	if i, err := v.VerifyAny(ctx, 84532, wallet, sig, d0, d1); i != 1 || err != nil || len(c.asked) != 2 {
		t.Fatalf("index %d err %v asked %v: want 1 by the contract after asking about d0", i, err, c.asked)
	}
	if i, err := v.VerifyAny(ctx, 84532, common.Address{1}, sig, d0, d1); i != -1 || err != nil {
		t.Fatalf("nobody's: index %d err %v", i, err)
	}
}

func TestTypedHashIsEIP712(t *testing.T) {
	td := apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "chainId", Type: "uint256"}},
			"Mail":         {{Name: "contents", Type: "string"}},
		},
		PrimaryType: "Mail",
		Domain:      apitypes.TypedDataDomain{Name: "paymeter", ChainId: nil},
		Message:     apitypes.TypedDataMessage{"contents": "hello"},
	}
	td.Types["EIP712Domain"] = td.Types["EIP712Domain"][:1]
	want, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	domain, err := td.HashStruct("EIP712Domain", td.Domain.Map())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := td.HashStruct(td.PrimaryType, td.Message)
	if err != nil {
		t.Fatal(err)
	}
	if got := walletsig.TypedHash([32]byte(domain), [32]byte(msg)); string(got[:]) != string(want) {
		t.Fatalf("TypedHash=%x, want %x", got, want)
	}
}

// BenchmarkRecover is one secp256k1 public-key recovery, the unit the
// signed paths' extra CPU is counted in.
func BenchmarkRecover(b *testing.B) {
	digest := walletsig.TextHash([]byte("paymeter"))
	key, _ := crypto.GenerateKey()
	sig, _ := crypto.Sign(digest[:], key)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := walletsig.Recover(digest, sig); err != nil {
			b.Fatal(err)
		}
	}
}
