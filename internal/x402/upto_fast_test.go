package x402

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
)

// uptoSeeds are the viem vector's payment and variants of it that the
// fast path must leave to the general decoder.
func uptoSeeds(f testing.TB) []string {
	raw, err := os.ReadFile("testdata/upto_viem.json")
	if err != nil {
		f.Fatal(err)
	}
	var vec struct {
		Requirement json.RawMessage `json:"requirement"`
		Payload     struct {
			Payload json.RawMessage `json:"payload"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		f.Fatal(err)
	}
	var seeds []string
	doc := `{"x402Version":2,"resource":{"url":"http://a.test/v1/x","description":"d","mimeType":"application/json"},"accepted":` +
		string(vec.Requirement) + `,"payload":` + string(vec.Payload.Payload) + `}`
	for _, d := range []string{doc, doc + " ", doc + "}", " " + doc, `{"x402Version":2,"accepted":` + string(vec.Requirement) +
		`,"payload":` + string(vec.Payload.Payload) + `,"extensions":{"a":1}}`, `{"x402Version":2,"accepted":{},"payload":{}}`} {
		seeds = append(seeds, d)
	}
	return seeds
}

// The one-pass fast path and the general decoder agree on whatever the
// fast path accepts: the same payment, to the bytes stored; and the fast
// path never changes a refusal (DecodeUptoJSON falls back to the general
// decoder for anything it does not take).
func FuzzDecodeUptoFastEqualsSlow(f *testing.F) {
	for _, s := range uptoSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { sameAsSlow(t, raw) })
}

func sameAsSlow(t *testing.T, raw []byte) {
	t.Helper()
	// The header read once answers as IsUpto and DecodeUpto do.
	header := base64.StdEncoding.EncodeToString(raw)
	h, ok := ParseUptoHeader(header)
	if ok != IsUpto(header) {
		t.Fatalf("%s: ParseUptoHeader says upto %v, IsUpto %v", raw, ok, !ok)
	}
	if ok {
		p, err := DecodeUpto(header)
		if (err == nil) != (h.err == nil) || (err != nil && err.Error() != h.err.Error()) || !reflect.DeepEqual(p, h.payment) {
			t.Fatalf("%s: ParseUptoHeader %+v, %v; DecodeUpto %+v, %v", raw, h.payment, h.err, p, err)
		}
	}
	got, gerr := DecodeUptoJSON(raw)
	want, werr := decodeUptoSlow(raw)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("%s: decoded %v, general decoder %v", raw, gerr, werr)
	}
	if gerr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decoded\n%+v\n%s\ngeneral decoder\n%+v\n%s", raw, got, got.JSON, want, want.JSON)
	}
}

// The same, deterministically in every run, over mutations of the seeds
// aimed at what the fast path must not take: case-folded and duplicated
// keys, escapes, HTML characters, numbers of other spellings, nulls,
// trailing data, cut documents.
func TestDecodeUptoFastEqualsSlowOnMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pieces := []string{`\u0070`, `\"`, "<", "&", ">", "null", "1e0", "2.0", "-1", "ſ", "K", "\u212a", "\x00", "\n", " ", "}", "{", "]",
		",", ":", `""`, `"x"`, "0", "00", `"0x"`, "é", "\xff"}
	var accepted int
	for _, seed := range uptoSeeds(t) {
		for range 4000 {
			b := mutate(r, seed, pieces)
			sameAsSlow(t, b)
			if _, err := DecodeUptoJSON(b); err == nil {
				accepted++
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no mutation decoded: the test compares refusals only")
	}
}

// The plain payment every client sends takes the fast path.
func TestDecodeUptoPlainPaymentTakesTheFastPath(t *testing.T) {
	raw, err := os.ReadFile("testdata/upto_viem.json")
	if err != nil {
		t.Fatal(err)
	}
	var vec struct {
		Requirement json.RawMessage `json:"requirement"`
		Payload     struct {
			Payload json.RawMessage `json:"payload"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	var v canonicalUpto
	if !fastUpto([]byte(`{"x402Version":2,"accepted":`+string(vec.Requirement)+`,"payload":`+string(vec.Payload.Payload)+`}`), &v) {
		t.Fatal("the viem payment did not take the fast path")
	}
}
