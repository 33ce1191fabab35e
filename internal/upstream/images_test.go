package upstream

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

func TestInspectImages(t *testing.T) {
	tests := []struct {
		name string
		body string
		want RequestInfo
	}{
		{"fixture", string(readFixture(t, "images/request.json")), RequestInfo{
			Model: "gpt-image-1", N: 2, ImageSize: "1024x1536", ImageQuality: "high", Messages: 1,
			PromptBytes: n("A cute baby sea otter floating on its back, watercolour"),
		}},
		{"minimal", `{"model":"dall-e-2","prompt":"x"}`, RequestInfo{Model: "dall-e-2", N: 1, Messages: 1, PromptBytes: 1}},
		{"nulls", `{"model":"m","prompt":"\u00e9","n":null,"size":null,"quality":null,"response_format":null,"style":null,` +
			`"user":null,"background":null,"moderation":null,"output_format":null,"output_compression":null,` +
			`"stream":null,"partial_images":null,"safety_identifier":null}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 2}},
		{"every field", `{"model":"dall-e-3","prompt":"ab","n":10,"size":"auto","quality":"hd","response_format":"b64_json",` +
			`"style":"vivid","user":"u","background":"auto","moderation":"low","output_format":"webp",` +
			`"output_compression":0,"stream":false,"partial_images":0,"safety_identifier":"s"}`,
			RequestInfo{Model: "dall-e-3", N: 10, ImageSize: "auto", ImageQuality: "hd", Messages: 1, PromptBytes: 2}},
		{"escaped size", `{"model":"m","prompt":"p","size":"1024\u0078512","response_format":"url"}`,
			RequestInfo{Model: "m", N: 1, ImageSize: "1024x512", Messages: 1, PromptBytes: 1}},
		{"aspect ratio", `{"model":"m","prompt":"p","size":"16:9","quality":"2k"}`,
			RequestInfo{Model: "m", N: 1, ImageSize: "16:9", ImageQuality: "2k", Messages: 1, PromptBytes: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InspectRequest([]byte(tt.body), APIImages)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.api = APIImages
			if got != tt.want {
				t.Errorf("got %+v,\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestInspectImagesRefusals(t *testing.T) {
	tests := []struct {
		name, body, code, field string
	}{
		{"not an object", `[]`, meter.ECodeBadRequest, ""},
		{"invalid JSON", `{"model":"m","prompt":"p",}`, meter.ECodeBadRequest, ""},
		{"trailing bytes", `{"model":"m","prompt":"p"} x`, meter.ECodeBadRequest, ""},
		{"no model", `{"prompt":"p"}`, meter.ECodeBadRequest, ""},
		{"no prompt", `{"model":"m"}`, meter.ECodeBadRequest, ""},
		{"empty prompt", `{"model":"m","prompt":""}`, meter.ECodeBadRequest, ""},
		{"prompt array", `{"model":"m","prompt":["p"]}`, meter.ECodeBadRequest, ""},
		{"n zero", `{"model":"m","prompt":"p","n":0}`, meter.ECodeBadRequest, ""},
		{"n eleven", `{"model":"m","prompt":"p","n":11}`, meter.ECodeBadRequest, ""},
		{"n huge", `{"model":"m","prompt":"p","n":99999999999999999999999}`, meter.ECodeBadRequest, ""},
		{"n negative", `{"model":"m","prompt":"p","n":-1}`, meter.ECodeBadRequest, ""},
		{"n fraction", `{"model":"m","prompt":"p","n":2.5}`, meter.ECodeBadRequest, ""},
		{"n exponent", `{"model":"m","prompt":"p","n":1e1}`, meter.ECodeBadRequest, ""},
		{"n string", `{"model":"m","prompt":"p","n":"2"}`, meter.ECodeBadRequest, ""},
		{"size upper case", `{"model":"m","prompt":"p","size":"1024X1024"}`, meter.ECodeBadRequest, ""},
		{"quality upper case", `{"model":"m","prompt":"p","quality":"HD"}`, meter.ECodeBadRequest, ""},
		{"quality space", `{"model":"m","prompt":"p","quality":"hd "}`, meter.ECodeBadRequest, ""},
		{"quality slash", `{"model":"m","prompt":"p","quality":"hd/low"}`, meter.ECodeBadRequest, ""},
		{"size empty", `{"model":"m","prompt":"p","size":""}`, meter.ECodeBadRequest, ""},
		{"size long", `{"model":"m","prompt":"p","size":"` + strings.Repeat("1", 33) + `"}`, meter.ECodeBadRequest, ""},
		{"size number", `{"model":"m","prompt":"p","size":1024}`, meter.ECodeBadRequest, ""},
		{"response_format", `{"model":"m","prompt":"p","response_format":"png"}`, meter.ECodeBadRequest, ""},
		{"style object", `{"model":"m","prompt":"p","style":{}}`, meter.ECodeBadRequest, ""},
		{"compression", `{"model":"m","prompt":"p","output_compression":101}`, meter.ECodeBadRequest, ""},
		{"stream", `{"model":"m","prompt":"p","stream":true}`, meter.ECodeUnsupportedField, "stream"},
		{"stream string", `{"model":"m","prompt":"p","stream":"true"}`, meter.ECodeBadRequest, ""},
		{"partial images", `{"model":"m","prompt":"p","partial_images":2}`, meter.ECodeUnsupportedField, "partial_images"},
		{"unknown", `{"model":"m","prompt":"p","image":"x"}`, meter.ECodeUnsupportedField, "image"},
		{"chat field", `{"model":"m","prompt":"p","max_tokens":5}`, meter.ECodeUnsupportedField, "max_tokens"},
		{"folded model", `{"model":"m","prompt":"p","MODEL":"n"}`, meter.ECodeAmbiguousField, "MODEL"},
		{"folded n", `{"model":"m","prompt":"p","N":9}`, meter.ECodeAmbiguousField, "N"},
		{"kelvin", `{"model":"m","prompt":"p","\u212a":1}`, meter.ECodeUnsupportedField, "\u212a"},
		{"long s size", `{"model":"m","prompt":"p","\u017fize":"256x256"}`, meter.ECodeAmbiguousField, "\u017fize"},
		{"escaped quality", `{"model":"m","prompt":"p","qualit\u0059":"low"}`, meter.ECodeAmbiguousField, "qualitY"},
		{"duplicate size", `{"model":"m","prompt":"p","size":"256x256","size":"1792x1024"}`, meter.ECodeAmbiguousField, "size"},
		{"duplicate n", `{"model":"m","n":1,"prompt":"p","n":10}`, meter.ECodeAmbiguousField, "n"},
		{"escaped duplicate", `{"model":"m","prompt":"p","quality":"low","qu\u0061lity":"high"}`, meter.ECodeAmbiguousField, "quality"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InspectRequest([]byte(tt.body), APIImages)
			var e *meter.Error
			if !errors.As(err, &e) {
				t.Fatalf("err=%v, want a *meter.Error %s", err, tt.code)
			}
			if e.Code != tt.code || e.Details["field"] != nil != (tt.field != "") ||
				tt.field != "" && e.Details["field"] != tt.field {
				t.Errorf("code=%s field=%v (%s), want %s field %q", e.Code, e.Details["field"], e.Message, tt.code, tt.field)
			}
		})
	}
}

func TestImagesWorstCase(t *testing.T) {
	info, err := InspectRequest([]byte(`{"model":"m","prompt":"a long prompt","n":3}`), APIImages)
	if err != nil {
		t.Fatal(err)
	}
	p := meter.Price{Input: 5, Output: 7, MaxOutputTokens: 100, PerImage: 40}
	// The prompt (13 bytes + 8 + 16) at the input rate, no output tokens.
	if got, want := info.WorstCase(p, false), (meter.Usage{InputTokens: 37, Images: 3}); got != want {
		t.Errorf("WorstCase=%+v, want %+v: images and the prompt, no output tokens", got, want)
	}
	if got, want := EstimateUsage(info, p, 1<<20), (meter.Usage{InputTokens: 37, Images: 3}); got != want {
		t.Errorf("EstimateUsage=%+v, want %+v: the hold", got, want)
	}
	if got, want := info.WorstCase(meter.Price{Output: 7, PerImage: 40}, false), (meter.Usage{Images: 3}); got != want {
		t.Errorf("WorstCase=%+v, want %+v: images only when input is free", got, want)
	}
	if got := info.OutputBound(p); got != 0 {
		t.Errorf("OutputBound=%d, want 0", got)
	}
	body := []byte(`{"model":"m","prompt":"a long prompt","n":3}`)
	if got := info.ForwardBody(body, p); string(got) != string(body) {
		t.Errorf("ForwardBody=%s, want the body unchanged (no output limit for images)", got)
	}
}

func TestParseImagesAnswer(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		images int64
		model  string
		ok     bool
		input  int64
	}{
		{"gpt-image", string(readFixture(t, "images/answer_gpt_image.json")), 2, "", true, 14},
		{"dall-e-3", string(readFixture(t, "images/answer_dalle3.json")), 1, "", true, 0},
		{"usage repeated, last wins", `{"data":[{}],"usage":{"input_tokens":9},"usage":{"input_tokens":3}}`, 1, "", true, 3},
		{"usage unusable", `{"data":[{}],"usage":{"input_tokens":9},"usage":{"input_tokens":-3}}`, 1, "", true, 0},
		{"usage not an object", `{"data":[{}],"usage":{"input_tokens":9},"usage":7}`, 1, "", true, 0},
		{"usage huge", `{"data":[{}],"usage":{"input_tokens":1e3}}`, 1, "", true, 0},
		{"output not read", `{"data":[{}],"usage":{"input_tokens":2,"output_tokens":999,"output_tokens_details":{"reasoning_tokens":9}}}`, 1, "", true, 2},
		{"none", `{"created":1,"data":[]}`, 0, "", true, 0},
		{"model", `{"model":"gpt-image-1","data":[{"url":"a"},{"url":"b"},{"url":"c"}]}`, 3, "gpt-image-1", true, 0},
		{"repeated data, last wins", `{"data":[{},{},{}],"data":[{}]}`, 1, "", true, 0},
		{"no data", `{"created":1,"usage":{"input_tokens":5}}`, 0, "", false, 0},
		{"data null", `{"data":null}`, 0, "", false, 0},
		{"data object", `{"data":{"b64_json":"x"}}`, 0, "", false, 0},
		{"malformed", `{"data":[{},{}]`, 0, "", false, 0},
		{"malformed element", `{"data":[{,}]}`, 0, "", false, 0},
		{"trailing", `{"data":[{}]}{}`, 0, "", false, 0},
		{"not an object", `[{"data":[]}]`, 0, "", false, 0},
		{"empty", ``, 0, "", false, 0},
		{"escaped key", `{"d\u0061ta":[1,2]}`, 2, "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, model, ok := ParseResponse(APIImages, []byte(tt.body))
			if ok != tt.ok || u != (meter.Usage{Images: tt.images, InputTokens: tt.input}) || string(model) != tt.model {
				t.Errorf("usage=%+v model=%q ok=%v, want %d images, model %q, ok %v", u, model, ok, tt.images, tt.model, tt.ok)
			}
		})
	}
}

func TestImagesWithCost(t *testing.T) {
	cost := meter.Amount(80_000_001)
	tests := []struct{ name, body, want string }{
		{"top level", `{"created":1,"data":[{"url":"a"}]}`, `{"created":1,"data":[{"url":"a"}],"paymeter_cost":"0.080000001"}`},
		{"whitespace", "{\"data\":[] \n}\n", "{\"data\":[],\"paymeter_cost\":\"0.080000001\" \n}\n"},
		{"empty object", `{ }`, `{"paymeter_cost":"0.080000001" }`},
		{"usage", `{"data":[],"usage":{"total_tokens":3},"size":"auto"}`, `{"data":[],"usage":{"total_tokens":3,"paymeter_cost":"0.080000001"},"size":"auto"}`},
		{"empty usage", `{"usage":{},"data":[]}`, `{"usage":{"paymeter_cost":"0.080000001"},"data":[]}`},
		{"usage null", `{"data":[],"usage":null}`, `{"data":[],"usage":null,"paymeter_cost":"0.080000001"}`},
		{"already there", `{"data":[],"paymeter_cost":"0"}`, `{"data":[],"paymeter_cost":"0.080000001"}`},
		{"already in usage", `{"data":[],"usage":{"paymeter_cost":"0"}}`, `{"data":[],"usage":{"paymeter_cost":"0.080000001"}}`},
		{"malformed", `{"data":[]`, `{"data":[]`},
		{"array", `[]`, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			got := WithCost(APIImages, in, cost)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if string(in) != tt.body {
				t.Errorf("the input was modified: %s", in)
			}
			if got := string(got); got != tt.body && !json.Valid([]byte(got)) {
				t.Errorf("%s is not valid JSON", got)
			}
		})
	}
	fixture := readFixture(t, "images/answer_gpt_image.json")
	var v struct {
		Usage struct {
			Cost string `json:"paymeter_cost"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(WithCost(APIImages, fixture, cost), &v); err != nil || v.Usage.Cost != "0.080000001" {
		t.Errorf("fixture: usage.paymeter_cost=%q (%v), want 0.080000001", v.Usage.Cost, err)
	}
}

func FuzzInspectImages(f *testing.F) {
	f.Add(readFixture(f, "images/request.json"))
	f.Add([]byte(`{"model":"m","prompt":"p","n":10,"size":"auto","quality":"hd","stream":false}`))
	f.Add([]byte(`{"model":"m","prompt":"p","MODEL":"x","\u017fize":"1","n":1e1}`))
	f.Add([]byte(`{"model":"m","prompt":"\ud83d\ude00","size":"1024\u0078512","partial_images":0}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := InspectRequest(body, APIImages)
		if err != nil {
			var e *meter.Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("err=%#v, want *meter.Error", err)
			}
			switch e.Code {
			case meter.ECodeBadRequest, meter.ECodeAmbiguousField, meter.ECodeUnsupportedField:
			default:
				t.Fatalf("code %s, want a request refusal", e.Code)
			}
			return
		}
		// What is priced is what encoding/json (the upstream's decoder
		// stand-in) reads.
		var v struct {
			Model   string  `json:"model"`
			Prompt  string  `json:"prompt"`
			N       *int64  `json:"n"`
			Size    *string `json:"size"`
			Quality *string `json:"quality"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		want := int64(1)
		if v.N != nil {
			want = *v.N
		}
		if info.Model != v.Model || info.N != want || info.N < 1 || info.N > maxImages || v.Prompt == "" ||
			info.ImageSize != deref(v.Size) || info.ImageQuality != deref(v.Quality) {
			t.Fatalf("info %+v, but encoding/json reads %+v", info, v)
		}
		p := meter.Price{Input: 1, Output: 1, MaxOutputTokens: 9}
		if u := info.WorstCase(p, false); u != (meter.Usage{InputTokens: info.InputBound(p), Images: info.N}) || u.InputTokens < int64(len(v.Prompt)) {
			t.Fatalf("WorstCase=%+v, want %d images and the prompt's %d bytes", u, info.N, len(v.Prompt))
		}
		if got := info.ForwardBody(body, meter.Price{MaxOutputTokens: 9}); string(got) != string(body) {
			t.Fatalf("ForwardBody changed an image request: %s", got)
		}
	})
}

func FuzzImagesAnswer(f *testing.F) {
	f.Add(readFixture(f, "images/answer_gpt_image.json"))
	f.Add(readFixture(f, "images/answer_dalle3.json"))
	f.Add([]byte(`{"data":[],"usage":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, _, ok := ParseResponse(APIImages, body)
		if u.Images < 0 || !ok && u != (meter.Usage{}) {
			t.Fatalf("usage %+v ok=%v", u, ok)
		}
		out := WithCost(APIImages, body, 1)
		if len(out) != len(body) && !json.Valid(out) {
			t.Fatalf("WithCost made invalid JSON: %s", out)
		}
		if len(out) != len(body) {
			if u2, _, ok2 := ParseResponse(APIImages, out); u2 != u || ok2 != ok {
				t.Fatalf("the cost changed the usage: %+v %v, was %+v %v", u2, ok2, u, ok)
			}
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
