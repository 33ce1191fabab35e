package upstream

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/paymeter/paymeter/internal/meter"
)

func TestInspectRequestErrors(t *testing.T) {
	deep := `{"model":"m","stop":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`
	const (
		bad = meter.ECodeBadRequest
		amb = meter.ECodeAmbiguousField
		uns = meter.ECodeUnsupportedField
		cnp = meter.ECodeContentNotPriced
	)
	tests := []struct {
		name string
		api  API
		body string
		code string
		want string
	}{
		{"empty", APIChat, ``, bad, "request body must be a JSON object"},
		{"array", APIChat, `[]`, bad, "request body must be a JSON object"},
		{"string", APIChat, `"model"`, bad, "request body must be a JSON object"},
		{"garbage", APIChat, `model=x`, bad, "request body must be a JSON object"},
		{"invalid utf8", APIChat, "{\"model\":\"m\xff\"}", bad, "request body is not valid UTF-8"},
		{"trailing comma", APIChat, `{"model":"m",}`, bad, "request body is not valid JSON"},
		{"unterminated", APIChat, `{"model":"m"`, bad, "request body is not valid JSON"},
		{"trailing data", APIChat, `{"model":"m"} {}`, bad, "request body is not valid JSON"},
		{"bad escape", APIChat, `{"model":"m","user":"\q"}`, bad, "request body is not valid JSON"},
		{"bad escape in key", APIChat, `{"model":"m","us\qer":1}`, bad, "request body is not valid JSON"},
		{"control char", APIChat, "{\"model\":\"m\",\"user\":\"a\tb\"}", bad, "request body is not valid JSON"},
		{"bad number", APIChat, `{"model":"m","seed":01}`, bad, "request body is not valid JSON"},
		{"too deep", APIChat, deep, bad, "request body is not valid JSON"},
		{"missing model", APIChat, `{"messages":[]}`, bad, `"model" is required`},
		{"empty model", APIChat, `{"model":""}`, bad, `"model" must be a non-empty string`},
		{"null model", APIChat, `{"model":null}`, bad, `"model" must be a non-empty string`},
		{"number model", APIChat, `{"model":4}`, bad, `"model" must be a non-empty string`},
		{"model broken value", APIChat, `{"model":tru}`, bad, "request body is not valid JSON"},
		{"negative max_tokens", APIChat, `{"model":"m","max_tokens":-1}`, bad, `"max_tokens" must be a non-negative integer`},
		{"fractional max_tokens", APIChat, `{"model":"m","max_tokens":1.5}`, bad, `"max_tokens" must be a non-negative integer`},
		{"float max_tokens", APIChat, `{"model":"m","max_tokens":100.0}`, bad, `"max_tokens" must be a non-negative integer`},
		{"exponent max_tokens", APIChat, `{"model":"m","max_tokens":1e3}`, bad, `"max_tokens" must be a non-negative integer`},
		{"string max_tokens", APIChat, `{"model":"m","max_tokens":"100"}`, bad, `"max_tokens" must be a non-negative integer`},
		{"overflowing max_tokens", APIChat, `{"model":"m","max_tokens":9223372036854775808}`, bad, `"max_tokens" must be a non-negative integer`},
		{"bad max_completion_tokens", APIChat, `{"model":"m","max_completion_tokens":[]}`, bad, `"max_completion_tokens" must be a non-negative integer`},
		{"stream string", APIChat, `{"model":"m","stream":"true"}`, bad, `"stream" must be a boolean`},
		{"stream number", APIChat, `{"model":"m","stream":1}`, bad, `"stream" must be a boolean`},
		{"n zero", APIChat, `{"model":"m","n":0}`, bad, `"n" must be an integer from 1 to 128`},
		{"n too big", APIChat, `{"model":"m","n":129}`, bad, `"n" must be an integer from 1 to 128`},
		{"best_of too big", APICompletions, `{"model":"m","best_of":1000}`, bad, `"best_of" must be an integer from 1 to 128`},
		{"stream_options array", APIChat, `{"model":"m","stream_options":[]}`, bad, `"stream_options" must be an object`},
		{"include_usage string", APIChat, `{"model":"m","stream_options":{"include_usage":"yes"}}`, bad, `"stream_options.include_usage" must be a boolean`},
		{"messages object", APIChat, `{"model":"m","messages":{}}`, bad, `"messages" must be an array of objects`},
		{"message string", APIChat, `{"model":"m","messages":["hi"]}`, bad, `"messages" must be an array of objects`},
		{"prompt object", APICompletions, `{"model":"m","prompt":{}}`, bad, `"prompt" must be a string or an array`},
		{"input number", APIEmbeddings, `{"model":"m","input":5}`, bad, `"input" must be a string or an array`},
		{"modalities object", APIChat, `{"model":"m","modalities":{}}`, bad, `"modalities" must be an array of strings`},

		// What is priced must be what the upstream serves (issue 12, H5).
		{"model case", APIChat, `{"Model":"m"}`, amb, `"Model" is not "model": field names must be spelled exactly`},
		{"folded model after exact", APIChat, `{"model":"cheap","MODEL":"dear"}`, amb, `"MODEL" is not "model": field names must be spelled exactly`},
		{"escaped upper case", APIChat, `{"model":"m","\u004dAX_TOKENS":9}`, amb, `"MAX_TOKENS" is not "max_tokens": field names must be spelled exactly`},
		{"kelvin sign", APIChat, "{\"model\":\"m\",\"max_to\u212aens\":9}", amb, "\"max_to\u212aens\" is not \"max_tokens\": field names must be spelled exactly"},
		{"escaped kelvin sign", APIChat, `{"model":"m","max_to\u212aens":9}`, amb, "\"max_to\u212aens\" is not \"max_tokens\": field names must be spelled exactly"},
		{"long s", APIChat, "{\"model\":\"m\",\"\u017ftream\":true}", amb, "\"\u017ftream\" is not \"stream\": field names must be spelled exactly"},
		{"dotless i is no fold of i", APIChat, "{\"model\":\"m\",\"stream_opt\u0131ons\":{}}", uns, "\"stream_opt\u0131ons\" is not a field this route forwards"},
		{"folded stream_options", APIChat, `{"model":"m","Stream_Options":{"include_usage":false}}`, amb, `"Stream_Options" is not "stream_options": field names must be spelled exactly`},
		{"duplicate model", APIChat, `{"model":"cheap","model":"dear"}`, amb, `"model" must appear only once`},
		{"duplicate escaped model", APIChat, `{"model":"cheap","mod\u0065l":"dear"}`, amb, `"model" must appear only once`},
		{"duplicate escaped max_tokens", APIChat, `{"model":"m","max_tokens":1,"max_tok\u0065ns":9}`, amb, `"max_tokens" must appear only once`},
		{"duplicate messages", APIChat, `{"model":"m","messages":[],"messages":[]}`, amb, `"messages" must appear only once`},
		{"duplicate shaping field", APIChat, `{"model":"m","temperature":1,"temperature":2}`, amb, `"temperature" must appear only once`},
		{"folded content", APIChat, `{"model":"m","messages":[{"Content":"x"}]}`, amb, `"Content" in messages[0] is not a field name spelled exactly`},
		{"folded audio", APIChat, `{"model":"m","messages":[{"AUDIO":{"id":"a"}}]}`, amb, `"AUDIO" in messages[0] is not a field name spelled exactly`},
		{"folded media in an input item", APIEmbeddings, `{"model":"m","input":[{"Image_Url":"x"}]}`, amb, `"Image_Url" in input[0] is not a field name spelled exactly`},
		{"folded part type", APIChat, `{"model":"m","messages":[{"content":[{"type":"text","text":"a","Type":"image_url"}]}]}`, amb,
			`"Type" in messages[0].content[0] is not a field name spelled exactly`},
		{"folded image_url", APIChat, `{"model":"m","messages":[{"content":[{"type":"text","Image_URL":{}}]}]}`, amb,
			`"Image_URL" in messages[0].content[0] is not a field name spelled exactly`},
		{"unknown field", APIChat, `{"model":"m","x":[{"a":[1,2.5e-3,true,false,null,"s"]}]}`, uns, `"x" is not a field this route forwards`},
		{"unknown field before invalid json", APIChat, `{"model":"m","options":{`, uns, `"options" is not a field this route forwards`},
		{"field of another API", APIEmbeddings, `{"model":"m","messages":[]}`, uns, `"messages" is not a field this route forwards`},
		{"stream on embeddings", APIEmbeddings, `{"model":"m","stream":true}`, uns, `"stream" is not a field this route forwards`},
		{"folded field of another API", APIEmbeddings, `{"model":"m","Prompt":"x"}`, uns, `"Prompt" is not a field this route forwards`},

		// What changes the bill is priced or refused (issue 12, H3).
		{"priority tier", APIChat, `{"model":"m","service_tier":"priority"}`, uns, `"service_tier" must be "auto" or "default": other tiers bill at other prices`},
		{"tier number", APIChat, `{"model":"m","service_tier":1}`, uns, `"service_tier" must be "auto" or "default": other tiers bill at other prices`},
		{"audio modality", APIChat, `{"model":"m","modalities":["text","audio"]}`, uns, `"modalities" may only be ["text"]: audio output is billed outside the priced tokens`},
		{"audio output", APIChat, `{"model":"m","audio":{"voice":"alloy"}}`, uns, `"audio" is not supported: audio output is billed outside the priced tokens`},
		{"prediction", APIChat, `{"model":"m","prediction":{"type":"content","content":"x"}}`, uns, `"prediction" is not supported: rejected prediction tokens are billed outside the quote`},
		{"web search", APIChat, `{"model":"m","web_search_options":{}}`, uns, `"web_search_options" is not supported: web search is billed per call, outside the priced tokens`},
		{"unknown part type", APIChat, `{"model":"m","messages":[{"content":[{"type":"input_video"}]}]}`, cnp,
			`content part messages[0].content[0] has type "input_video", which this proxy does not price`},
		{"unknown part type in input", APIEmbeddings, `{"model":"m","input":["a",{"content":[{"type":"x"}]}]}`, cnp,
			`content part input[1].content[0] has type "x", which this proxy does not price`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InspectRequest([]byte(tt.body), tt.api)
			wantError(t, err, tt.code, tt.want)
		})
	}
}

func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *meter.Error
	if !errors.As(err, &e) {
		t.Fatalf("err=%v, want *meter.Error %s %q", err, code, msg)
	}
	if e.Code != code || e.Message != msg {
		t.Fatalf("err=%s %q, want %s %q", e.Code, e.Message, code, msg)
	}
	if code == meter.ECodeAmbiguousField || code == meter.ECodeUnsupportedField {
		if f, _ := e.Details["field"].(string); f == "" {
			t.Fatalf("details=%v, want the field named", e.Details)
		}
	}
}

// The refusal of an unpriced kind names the part, the kind and the model;
// a priced kind is held at its bound.
func TestCheckPriced(t *testing.T) {
	body := `{"model":"m","messages":[{"content":"a"},{"content":[{"type":"text","text":"b"},{"type":"input_audio","input_audio":{}}]}]}`
	info, err := InspectRequest([]byte(body), APIChat)
	if err != nil {
		t.Fatal(err)
	}
	var e *meter.Error
	if err := info.CheckPriced(meter.Price{MaxImageTokens: 1}); !errors.As(err, &e) || e.Code != meter.ECodeContentNotPriced ||
		e.Details["part"] != "messages[1].content[1]" || e.Details["type"] != "input_audio" {
		t.Fatalf("err=%#v, want content_not_priced naming messages[1].content[1]", err)
	}
	if err := info.CheckPriced(meter.Price{MaxAudioTokens: 1}); err != nil {
		t.Fatalf("err=%v, want nil with an audio bound", err)
	}
	p := meter.Price{MaxAudioTokens: 300, MaxOutputTokens: 10}
	if got, want := info.WorstCase(p, false), (meter.Usage{InputTokens: 2 + 2*8 + 16 + 300, OutputTokens: 10}); got != want {
		t.Fatalf("worst case=%+v, want %+v", got, want)
	}
	// A client who leaves is charged the prompt's bound, images and all.
	if got := EstimateUsage(info, p, 9); got != (meter.Usage{InputTokens: 2 + 2*8 + 16 + 300, OutputTokens: 3}) {
		t.Fatalf("estimate=%+v, want the input bound and 3 output tokens", got)
	}
}

func TestForwardBody(t *testing.T) {
	price := meter.Price{MaxOutputTokens: 64}
	tests := []struct {
		name string
		api  API
		body string
		want string
	}{
		{"limit kept", APIChat, `{"model":"m","max_tokens":5}`, `{"model":"m","max_tokens":5}`},
		{"cap added to chat", APIChat, `{"model":"m"}`, `{"model":"m","max_completion_tokens":64}`},
		{"cap added to completions", APICompletions, `{"model":"m","prompt":"x"}`, `{"model":"m","prompt":"x","max_tokens":64}`},
		{"embeddings untouched", APIEmbeddings, `{"model":"m","input":"x"}`, `{"model":"m","input":"x"}`},
		{"cap added before whitespace", APIChat, "{ \"model\" : \"m\" }\n", "{ \"model\" : \"m\",\"max_completion_tokens\":64 }\n"},
		{"zero replaced", APIChat, `{"max_tokens":0,"model":"m"}`, `{"max_tokens":64,"model":"m"}`},
		{"null and zero replaced", APIChat, `{"max_tokens":null,"model":"m","max_completion_tokens": -0 }`,
			`{"max_tokens":64,"model":"m","max_completion_tokens": 64 }`},
		{"zero beside a limit gets the limit", APIChat, `{"model":"m","max_tokens":7,"max_completion_tokens":0}`,
			`{"model":"m","max_tokens":7,"max_completion_tokens":7}`},
		{"stream usage added", APIChat, `{"model":"m","stream":true,"max_tokens":5}`,
			`{"model":"m","stream":true,"max_tokens":5,"stream_options":{"include_usage":true}}`},
		{"stream usage and cap added", APIChat, `{"model":"m","stream":true}`,
			`{"model":"m","stream":true,"max_completion_tokens":64,"stream_options":{"include_usage":true}}`},
		{"stream_options replaced whole", APIChat,
			`{"stream_options":{"include_usage":true,"Include_Usage":false,"x":1},"model":"m","stream":true,"max_tokens":5}`,
			`{"stream_options":{"include_usage":true},"model":"m","stream":true,"max_tokens":5}`},
		{"stream_options null replaced", APIChat, `{"stream_options":null,"model":"m","stream":true,"max_tokens":0}`,
			`{"stream_options":{"include_usage":true},"model":"m","stream":true,"max_tokens":64}`},
		{"escaped key", APIChat, `{"model":"m","stream":true,"stream_\u006fptions":{"include_usage":false},"max_tokens":1}`,
			`{"model":"m","stream":true,"stream_\u006fptions":{"include_usage":true},"max_tokens":1}`},
		{"not streamed: stream_options kept", APIChat, `{"model":"m","stream_options":{"include_usage":false},"max_tokens":1}`,
			`{"model":"m","stream_options":{"include_usage":false},"max_tokens":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			info, err := InspectRequest(in, tt.api)
			if err != nil {
				t.Fatal(err)
			}
			got := info.ForwardBody(in, price)
			if string(got) != tt.want {
				t.Fatalf("body=%s, want %s", got, tt.want)
			}
			if string(in) != tt.body {
				t.Fatalf("input modified to %s", in)
			}
		})
	}
}

func TestSameModel(t *testing.T) {
	for _, tt := range []struct {
		priced, answered string
		want             bool
	}{
		{"gpt-4o", "gpt-4o", true},
		{"gpt-4o", "", true},
		{"gpt-4o", "gpt-4o-2024-08-06", true},
		{"gpt-4o", "gpt-4o-mini-2024-07-18", false},
		{"demo-small", "demo-large", false},
		{"gpt-4o", "gpt-4o-", false},
	} {
		if got := SameModel(tt.priced, []byte(tt.answered)); got != tt.want {
			t.Errorf("SameModel(%q, %q)=%v, want %v", tt.priced, tt.answered, got, tt.want)
		}
	}
}

// foldsTo agrees with encoding/json, checked against encoding/json
// itself: for every non-ASCII rune that folds, or upper-cases, to an ASCII
// letter, a key spelled with it fills the field exactly when foldsTo says.
func TestFoldsToMatchesEncodingJSON(t *testing.T) {
	folds := 0
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		letter := rune(-1)
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				letter = f
			}
		}
		if u := unicode.ToUpper(unicode.ToLower(r)); u < utf8.RuneSelf && unicode.IsLetter(u) {
			letter = u
		}
		if letter < 0 {
			continue
		}
		want, key := "x"+strings.ToLower(string(letter)), "x"+string(r)
		field := reflect.StructOf([]reflect.StructField{{Name: "V", Type: reflect.TypeFor[int](), Tag: reflect.StructTag(`json:"` + want + `"`)}})
		ptr := reflect.New(field)
		filled := json.Unmarshal([]byte(`{"`+key+`":1}`), ptr.Interface()) == nil && ptr.Elem().Field(0).Int() == 1
		if got := foldsTo([]byte(key), want); got != filled {
			t.Errorf("foldsTo(%q, %q)=%v, but encoding/json fills the field: %v", key, want, got, filled)
		}
		if filled {
			folds++
		}
	}
	if folds < 2 { // KELVIN SIGN and LONG S at least
		t.Fatalf("%d runes fold to ASCII letters, want at least K and ſ", folds)
	}
}
