package payclient

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// The upto scheme, payer's side (docs/design.md §5): a Permit2
// PermitWitnessTransferFrom of up to the quoted amount, spender the x402
// upto proxy, witness {to: payTo, facilitator: extra.facilitatorAddress,
// validAfter: 0}, deadline now + maxTimeoutSeconds, a random 256-bit
// nonce: what @x402/evm 2.27's upto client signs, field for field.
//
// Permit2's EIP-712 domain names Permit2, not the token: unlike exact,
// whose signature is only good for a token named USDC, a permit signed
// for a 402 that lies about its asset is good for that asset. So upto is
// paid in a network's canonical USDC only (usdcAssets), or in a token the
// payer names (Client.Assets), never in one the server names.

// usdcAssets are the canonical USDC contracts by chain id: the USDC
// entries (6 decimals) of @x402/evm 2.27's DEFAULT_ASSETS, which its
// client pays by default.
var usdcAssets = map[int64]common.Address{
	1:        common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), // Ethereum
	50:       common.HexToAddress("0xfA2958CB79b0491CC627c1557F441eF849Ca8eb1"), // XDC
	51:       common.HexToAddress("0xb5AB69F7bBada22B28e79C8FFAECe55eF1c771D4"), // XDC Apothem
	137:      common.HexToAddress("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359"), // Polygon
	143:      common.HexToAddress("0x754704Bc059F8C67012fEd69BC8A327a5aafb603"), // Monad
	1328:     common.HexToAddress("0x4fCF1784B31630811181f670Aea7A7bEF803eaED"), // Sei testnet
	1329:     common.HexToAddress("0xe15fC38F6D8c56aF07bbCBe3BAf5708A2Bf42392"), // Sei
	8453:     common.HexToAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"), // Base
	38833:    common.HexToAddress("0xA5b8BF902b2844dA17d4506cc827F7F1681735E7"),
	42161:    common.HexToAddress("0xaf88d065e77c8cC2239327C5EDb3A432268e5831"), // Arbitrum
	42220:    common.HexToAddress("0xcebA9300f2b948710d2653dD7B07f33A8B32118C"), // Celo
	43114:    common.HexToAddress("0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E"), // Avalanche
	84532:    common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"), // Base Sepolia
	421614:   common.HexToAddress("0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d"), // Arbitrum Sepolia
	11142220: common.HexToAddress("0x01C5C0122039549AD1493B8220cABEdD739BC44E"), // Celo Sepolia
}

// checkUpto validates a v2 upto requirement and sets it on r. extra is
// its extra object as sent, for the fields x402.TokenDomain drops.
func (r *Requirement) checkUpto(a *x402.Requirement, extra map[string]json.RawMessage) error {
	units, err := parseUnits(a.Amount)
	if err != nil {
		return err
	}
	var ok bool
	if r.Asset, ok = parseAddress(a.Asset); !ok {
		return errors.New("asset is not an address")
	}
	if r.PayTo, ok = parseAddress(a.PayTo); !ok {
		return errors.New("payTo is not an address")
	}
	if a.Extra == nil || a.Extra.FacilitatorAddress == "" {
		return errors.New("upto: extra lacks facilitatorAddress, the one address the permit would let settle it")
	}
	if r.Facilitator, ok = parseAddress(a.Extra.FacilitatorAddress); !ok {
		return fmt.Errorf("upto: extra.facilitatorAddress %q is not an address", printable(a.Extra.FacilitatorAddress, 64))
	}
	if m := a.Extra.AssetTransferMethod; m != "" && m != x402.AssetTransferPermit2 {
		return fmt.Errorf("upto: extra.assetTransferMethod %q is not %q", printable(m, 32), x402.AssetTransferPermit2)
	}
	if err := checkSpender(extra); err != nil {
		return err
	}
	if t := a.MaxTimeoutSeconds; t < int(x402.MinValidity.Seconds())+4 || t > 24*3600 {
		return fmt.Errorf("maxTimeoutSeconds %d is outside 10 … 86400", t)
	}
	r.Scheme, r.Units, r.MaxTimeoutSeconds = x402.SchemeUpto, units, a.MaxTimeoutSeconds
	r.TokenName, r.TokenVersion = printable(a.Extra.Name, 64), printable(a.Extra.Version, 16)
	return nil
}

// checkSpender refuses an extra that names a spender other than the x402
// upto proxy: this client signs for the canonical proxy only, which pays
// witness.to and nothing else; a server asking for another spender asks
// for a permit that contract could spend as it likes.
func checkSpender(extra map[string]json.RawMessage) error {
	for k, v := range extra {
		if !strings.EqualFold(k, "spender") {
			continue
		}
		var s string
		a, ok := common.Address{}, json.Unmarshal(v, &s) == nil
		if ok {
			a, ok = parseAddress(s)
		}
		if !ok || a != x402.UptoProxyAddress {
			return fmt.Errorf("upto: extra.%s names %s, not the x402 upto proxy %s", printable(k, 16), printable(string(v), 64), x402.UptoProxyAddress.Hex())
		}
	}
	return nil
}

// rawExtras returns the extra object of each entry of a PAYMENT-REQUIRED
// header's accepts, as sent (nil where it has none), index for index.
func rawExtras(header string) []map[string]json.RawMessage {
	out := make([]map[string]json.RawMessage, maxAccepts)
	raw, err := decodeBase64(header)
	if err != nil {
		return out
	}
	var pr struct {
		Accepts []struct {
			Extra map[string]json.RawMessage `json:"extra"`
		} `json:"accepts"`
	}
	if json.Unmarshal(raw, &pr) != nil {
		return out
	}
	for i := range pr.Accepts[:min(len(pr.Accepts), maxAccepts)] {
		out[i] = pr.Accepts[i].Extra
	}
	return out
}

// decodeBase64 reads base64 in any of the alphabets x402 servers use.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// uptoAsset refuses an upto requirement whose asset is neither its
// network's canonical USDC nor one of Client.Assets.
func (c *Client) uptoAsset(r *Requirement) error {
	if usdcAssets[r.ChainID] == r.Asset {
		return nil
	}
	for _, a := range c.Assets {
		if a == r.Asset {
			return nil
		}
	}
	return fmt.Errorf("v2 upto on %s: asset %s is not USDC there (a Permit2 permit is good for whatever token it names; pay upto in another token with --asset %s)",
		r.Network, r.Asset.Hex(), r.Asset.Hex())
}

// maxUint256 bounds Permit2's nonces.
var maxUint256 = new(big.Int).Lsh(big.NewInt(1), 256)

// uptoPayment signs r's permit once and returns the PAYMENT-SIGNATURE
// value that carries it.
func (c *Client) uptoPayment(r *Requirement) (string, error) {
	src := c.Rand
	if src == nil {
		src = rand.Reader
	}
	nonce, err := rand.Int(src, maxUint256)
	if err != nil {
		return "", fmt.Errorf("draw a Permit2 nonce: %w", err)
	}
	// now + maxTimeoutSeconds, as @x402/evm: the server needs the permit
	// valid for the longest request and its settlement after it.
	deadline := c.now().Unix() + int64(r.MaxTimeoutSeconds)
	a := &x402.Permit2Authorization{
		From: c.Address(), Token: r.Asset, Amount: big.NewInt(int64(r.Units)), Spender: x402.UptoProxyAddress,
		Nonce: nonce, Deadline: big.NewInt(deadline), To: r.PayTo, Facilitator: r.Facilitator, ValidAfter: new(big.Int),
	}
	sig, err := x402.SignUpto(c.Key, r.ChainID, a)
	if err != nil {
		return "", fmt.Errorf("sign the permit: %w", err)
	}
	return x402.EncodeUpto(*r.v2, r.resource, a, sig), nil
}

// uptoCharged reads the amount an upto receipt says is settled, in USDC
// units; false when it names none (a stream's receipt is sent before the
// cost is known: X-Paymeter-Cost, its trailer, says it then).
func uptoCharged(header string) (meter.USDC, bool) {
	raw, err := decodeBase64(header)
	if err != nil {
		return 0, false
	}
	var v struct {
		Amount string `json:"amount"`
	}
	if json.Unmarshal(raw, &v) != nil || v.Amount == "" {
		return 0, false
	}
	if v.Amount == "0" {
		return 0, true
	}
	u, err := parseUnits(v.Amount)
	return u, err == nil
}
