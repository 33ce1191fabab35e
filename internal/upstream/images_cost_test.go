package upstream

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// gpt-image models bill the prompt's text tokens ($5/M for gpt-image-1;
// prompts up to 32 000 characters) beside the image: the hold covers the
// prompt's bound, the capture the input tokens the answer's usage reports.
func TestImages_PromptTokensCharged(t *testing.T) {
	prompt := strings.Repeat("猫", 32_000)
	info, err := InspectRequest([]byte(`{"model":"gpt-image-1","prompt":"`+prompt+`","quality":"low"}`), APIImages)
	if err != nil {
		t.Fatal(err)
	}
	p := meter.Price{Input: 5000, PerImage: 11_000_000} // $5/M input, $0.011 an image
	if w := p.Cost(info.WorstCase(p, false)); w == p.PerImage {
		t.Errorf("worst case %s: the prompt is not held", w)
	}
	u, _, _ := ParseResponse(APIImages, []byte(`{"created":1,"data":[{"b64_json":"x"}],"usage":{"input_tokens":40000,"input_tokens_details":{"text_tokens":40000,"image_tokens":0},"output_tokens":272,"total_tokens":40272}}`))
	if c := p.Cost(u); c == p.PerImage {
		t.Errorf("charged %s for an answer reporting 40000 input tokens ($0.20 upstream)", c)
	}
	// Exactly: 96 000 bytes of prompt + 8 + 16 held; 40 000 charged.
	if got, want := info.WorstCase(p, false), (meter.Usage{InputTokens: 96_024, Images: 1}); got != want {
		t.Errorf("WorstCase=%+v, want %+v", got, want)
	}
	if got, want := u, (meter.Usage{InputTokens: 40_000, Images: 1}); got != want {
		t.Errorf("ParseResponse=%+v, want %+v", got, want)
	}
	if got, want := info.ImagesCharged(p, u), (meter.Usage{InputTokens: 40_000, Images: 1}); got != want {
		t.Errorf("ImagesCharged=%+v, want %+v", got, want)
	}
}

// What an image generation is charged for, by the price's input rates and
// what the answer reports.
func TestImagesCharged(t *testing.T) {
	info, err := InspectRequest([]byte(`{"model":"m","prompt":"An otter.","n":2}`), APIImages) // bound 9 + 8 + 16
	if err != nil {
		t.Fatal(err)
	}
	gpt := meter.Price{Input: 5000, CachedInput: 1250, PerImage: 40}
	cacheDear := meter.Price{Input: 5000, CacheWrite: 6250, PerImage: 40}
	dalle := meter.Price{PerImage: 40}
	for _, tt := range []struct {
		name  string
		p     meter.Price
		in    meter.Usage
		want  meter.Usage
		worst meter.Usage
	}{
		{"reported", gpt, meter.Usage{InputTokens: 3, Images: 2}, meter.Usage{InputTokens: 3, Images: 2}, meter.Usage{InputTokens: 33, Images: 2}},
		{"cached split", gpt, meter.Usage{InputTokens: 1, CachedInputTokens: 2, Images: 1}, meter.Usage{InputTokens: 1, CachedInputTokens: 2, Images: 1}, meter.Usage{InputTokens: 33, Images: 2}},
		{"more images than asked", gpt, meter.Usage{InputTokens: 3, Images: 5}, meter.Usage{InputTokens: 3, Images: 2}, meter.Usage{InputTokens: 33, Images: 2}},
		{"no usage: the bound", gpt, meter.Usage{Images: 1}, meter.Usage{InputTokens: 33, Images: 1}, meter.Usage{InputTokens: 33, Images: 2}},
		{"past the bound", gpt, meter.Usage{InputTokens: 1 << 40, CachedInputTokens: 9, Images: 1}, meter.Usage{InputTokens: 33, Images: 1}, meter.Usage{InputTokens: 33, Images: 2}},
		{"cached past the bound", gpt, meter.Usage{InputTokens: 30, CachedInputTokens: 9, Images: 1}, meter.Usage{InputTokens: 30, CachedInputTokens: 3, Images: 1}, meter.Usage{InputTokens: 33, Images: 2}},
		{"dearest rate a cache write", cacheDear, meter.Usage{}, meter.Usage{CacheWriteTokens: 33}, meter.Usage{CacheWriteTokens: 33, Images: 2}},
		{"no input price", dalle, meter.Usage{InputTokens: 3, Images: 1}, meter.Usage{Images: 1}, meter.Usage{Images: 2}},
		{"no input price, no usage", dalle, meter.Usage{Images: 2}, meter.Usage{Images: 2}, meter.Usage{Images: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := info.ImagesCharged(tt.p, tt.in); got != tt.want {
				t.Errorf("ImagesCharged=%+v, want %+v", got, tt.want)
			}
			if got := info.WorstCase(tt.p, false); got != tt.worst {
				t.Errorf("WorstCase=%+v, want %+v", got, tt.worst)
			}
			if got := EstimateUsage(info, tt.p, 1<<20); got != tt.worst {
				t.Errorf("EstimateUsage=%+v, want the worst case %+v", got, tt.worst)
			}
			if c, w := tt.p.Cost(info.ImagesCharged(tt.p, tt.in)), tt.p.Cost(tt.worst); c > w {
				t.Errorf("charged %s past the hold %s", c, w)
			}
		})
	}
}

// An image answer whose usage already has a paymeter_cost (a chained
// paymeter upstream) carries this proxy's instead.
func TestImages_WithCostReplacesUpstreamCost(t *testing.T) {
	in := []byte(`{"created":1,"data":[{"b64_json":"x"}],"usage":{"input_tokens":1,"paymeter_cost":"0.000001"}}`)
	out := WithCost(APIImages, in, 5_000_000_000)
	if !strings.Contains(string(out), `"paymeter_cost":"5"`) {
		t.Fatalf("cost not this proxy's: %s", out)
	}
	if want := `{"created":1,"data":[{"b64_json":"x"}],"usage":{"input_tokens":1,"paymeter_cost":"5"}}`; string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

// imageCostMembers counts the paymeter_cost members where a client reads one
// (the top level and its usage objects), by their decoded names.
func imageCostMembers(t *testing.T, doc []byte) int {
	t.Helper()
	n := 0
	for _, m := range jsonMembers(t, doc) {
		switch m.key {
		case costField:
			n++
		case "usage":
			for _, u := range jsonMembers(t, m.value) {
				if u.key == costField {
					n++
				}
			}
		}
	}
	return n
}

type jsonMember struct {
	key   string
	value json.RawMessage
}

// jsonMembers returns the members of the JSON object obj in order, repeated
// keys included; none when obj is another value.
func jsonMembers(t *testing.T, obj []byte) []jsonMember {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []jsonMember
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("%v in %q", err, obj)
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%v in %q", err, obj)
		}
		out = append(out, jsonMember{tok.(string), v})
	}
	return out
}

// Every paymeter_cost already there is dropped, wherever a client reads
// one; the cost goes into the last usage object, else at the top level.
func TestImagesWithCostDropsTheirs(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"top level", `{"data":[],"paymeter_cost":"0"}`, `{"data":[],"paymeter_cost":"5"}`},
		{"top level first", `{"paymeter_cost":"0", "data":[]}`, `{"data":[],"paymeter_cost":"5"}`},
		{"top level only", `{"paymeter_cost":"0"}`, `{"paymeter_cost":"5"}`},
		{"in usage", `{"data":[],"usage":{"paymeter_cost":"0"}}`, `{"data":[],"usage":{"paymeter_cost":"5"}}`},
		{"top level and usage", `{"paymeter_cost":"1","usage":{"input_tokens":2,"paymeter_cost":"0"},"data":[]}`,
			`{"usage":{"input_tokens":2,"paymeter_cost":"5"},"data":[]}`},
		{"escaped", `{"paymeter_cost":"1","usage":{"paymeter_cost":"0","input_tokens":2}}`,
			`{"usage":{"input_tokens":2,"paymeter_cost":"5"}}`},
		{"twice in usage", `{"usage":{"paymeter_cost":"0","a":1,"paymeter_cost":"0"}}`, `{"usage":{"a":1,"paymeter_cost":"5"}}`},
		{"usage repeated", `{"usage":{"paymeter_cost":"0","a":1},"data":[],"usage":{"b":2}}`,
			`{"usage":{"a":1},"data":[],"usage":{"b":2,"paymeter_cost":"5"}}`},
		{"last usage null", `{"usage":{"paymeter_cost":"0"},"usage":null,"paymeter_cost":"1"}`,
			`{"usage":{},"usage":null,"paymeter_cost":"5"}`},
		{"nested elsewhere kept", `{"data":[{"paymeter_cost":"x"}]}`, `{"data":[{"paymeter_cost":"x"}],"paymeter_cost":"5"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			got := WithCost(APIImages, in, 5_000_000_000)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if string(in) != tt.body {
				t.Errorf("the input was modified: %s", in)
			}
			if !json.Valid(got) || imageCostMembers(t, got) != 1 {
				t.Errorf("%s: not valid JSON with one paymeter_cost", got)
			}
		})
	}
}

// clientCost is the paymeter_cost a client reads from doc, with keys
// matched exactly: that of the last usage member when it is an object,
// else the top level's.
func clientCost(t *testing.T, doc []byte) string {
	var usage []byte
	var cost json.RawMessage
	for _, m := range jsonMembers(t, doc) {
		switch m.key {
		case "usage":
			usage = m.value
		case costField:
			cost = m.value
		}
	}
	if len(usage) > 0 && usage[0] == '{' {
		cost = nil
		for _, m := range jsonMembers(t, usage) {
			if m.key == costField {
				cost = m.value
			}
		}
	}
	return string(cost)
}

// WithCost on an image answer gives valid JSON exactly when it is given
// valid JSON, with exactly one paymeter_cost where a client reads it, and
// the usage as it was.
func FuzzImagesWithCost(f *testing.F) {
	f.Add([]byte(`{"created":1,"data":[{"url":"u"}]}`))
	f.Add([]byte(`{"created":1,"data":[{"b64_json":"x"}],"usage":{"input_tokens":1}}`))
	f.Add([]byte(`{ }`))
	f.Add([]byte(`{"paymeter_cost":1,"usage":{"paymeter_cost":"0","paymeter_cost":2},"usage":{"paymeter_cost":3}}`))
	f.Add([]byte(`{"usage":{"paymeter_cost":"0"},"usage":null, "paymeter_cost" : 1 }`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := WithCost(APIImages, in, 12345)
		if string(out) == string(in) {
			if json.Valid(in) && bytes.TrimLeft(in, " \t\r\n")[0] == '{' {
				t.Fatalf("valid object unchanged: %q", in)
			}
			return
		}
		if !json.Valid(in) || !json.Valid(out) {
			t.Fatalf("in valid=%v out valid=%v\n%q\n%q", json.Valid(in), json.Valid(out), in, out)
		}
		if n := imageCostMembers(t, out); n != 1 {
			t.Fatalf("%d paymeter_cost members:\n%q\n%q", n, in, out)
		}
		if got := clientCost(t, out); got != `"0.000012345"` {
			t.Fatalf("the client reads cost %s: %q", got, out)
		}
		u, _, ok := ParseResponse(APIImages, in)
		if u2, _, ok2 := ParseResponse(APIImages, out); u2 != u || ok2 != ok {
			t.Fatalf("the cost changed the usage: %+v %v, was %+v %v", u2, ok2, u, ok)
		}
	})
}
