package x402

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// tokenKeys is topKeys by encoding/json's own tokenizer: the reference.
func tokenKeys(raw []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var keys []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, false
		}
		keys = append(keys, kt.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, false
		}
	}
	return keys, true
}

func TestTopKeys(t *testing.T) {
	for _, doc := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a" : "x,}" , "b":[1,{"c":"]"}],"d":{"e":{}} ,"f":true,"g":null}`,
		"{\n\t\"\\u0064omain\":\"x\",\"q\\\"uote\":\"\\\\\"}", `{"a":[],"b":{},"c":-1.5e3}`,
	} {
		got, err := topKeys([]byte(doc))
		want, _ := tokenKeys([]byte(doc))
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: keys %q (%v), want %q", doc, got, err, want)
		}
	}
}

func TestDecodeSIWXKeys(t *testing.T) {
	const proof = `"domain":"a","address":"0x857b06519E91e3A54538791bDbb0E22373e36b66","uri":"https://a/","version":"1",` +
		`"chainId":"eip155:1","type":"eip191","nonce":"abcdefgh","issuedAt":"2024-01-15T10:30:00Z","signature":"0x00"`
	for doc, ok := range map[string]bool{
		`{` + proof + `}`: true,
		`{` + proof + `,"future":{"domain":[1,2]}}`:   true, // below the top level: not read
		`{` + proof + `,"domain":"b"}`:                false,
		`{` + proof + `,"\u0064omain":"b"}`:           false, // the same key, escaped
		`{` + proof + `,"Domain":"b"}`:                false,
		`{` + proof + `,"ſtatement":"b"}`:             false,
		`[{` + proof + `}]`:                           false,
		`{` + proof + `}{}`:                           false,
		`{` + proof + `,"resources":["x",{"y":1}]}`:   false, // not strings
		`{` + proof + `,"signatureScheme":"other"}`:   false,
		`{` + proof + `,"signatureScheme":"eip1271"}`: true,
	} {
		_, err := DecodeSIWX(base64.StdEncoding.EncodeToString([]byte(doc)))
		if (err == nil) != ok {
			t.Fatalf("%s: err %v, want ok=%v", doc, err, ok)
		}
	}
}

// FuzzTopKeys: on any valid JSON object, topKeys finds the keys that
// encoding/json's tokenizer finds.
func FuzzTopKeys(f *testing.F) {
	f.Add(`{"a" : "x,}" , "b":[1,{"c":"]"}],"d":{"e":{}} ,"f":true,"g":null}`)
	f.Add(`{"\u0064":"\"}"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		want, isObject := tokenKeys([]byte(doc))
		got, err := topKeys([]byte(doc))
		if isObject != (err == nil) || (isObject && !slices.Equal(got, want)) {
			t.Fatalf("%q: keys %q (%v), want %q (object %v)", doc, got, err, want, isObject)
		}
	})
}

// decodeSIWXFast, where it decodes, decodes what json.Unmarshal does.
func FuzzDecodeSIWXFast(f *testing.F) {
	const proof = `"domain":"a","address":"0x857b06519E91e3A54538791bDbb0E22373e36b66","uri":"https://a/","version":"1",` +
		`"chainId":"eip155:1","type":"eip191","nonce":"abcdefgh","issuedAt":"2024-01-15T10:30:00Z","signature":"0x00"`
	for _, doc := range []string{
		`{` + proof + `}`,
		`{` + proof + `,"statement":"Sign in é","expirationTime":"x","notBefore":"y","requestId":"r","signatureScheme":"eip191"}`,
		`{` + proof + `,"resources":["https://a/1","https://a/2"],"future":{"domain":[1,2]},"n":-1.5e3,"t":true,"z":null}`,
		`{` + proof + `,"resources":[]}`, `{` + proof + `,"resources":null}`, `{` + proof + `,"statement":null}`,
		`{` + proof + `,"statement":"a\"b\u2028"}`, `{"domain":1}`, `{"domain":"\xff"}`, `{ "domain" : "a" , "uri" : "b" }`,
		`{"\u0064omain":"x"}`, `{"dom\\ain":"x"}`, `{"résumé":"x"}`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if checkSIWXKeys(raw) != nil {
			return
		}
		var fast, want SIWXPayload
		if !decodeSIWXFast(raw, &fast) {
			return
		}
		if err := json.Unmarshal(raw, &want); err != nil || !reflect.DeepEqual(fast, want) {
			t.Fatalf("%s:\nfast %+v\nwant %+v (%v)", raw, fast, want, err)
		}
	})
}

// siwxFieldOf answers what siwxExact[foldKey(key)] answers.
func FuzzSIWXFieldOf(f *testing.F) {
	for _, k := range append(slices.Clone(siwxFields), "DOMAIN", "ſtatement", "\u212aey", "Signature", "x", "", strings.Repeat("a", 30)) {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		want, wok := siwxExact[foldKey(key)]
		got, gok := siwxFieldOf(key)
		if got != want || gok != wok {
			t.Fatalf("%q: %q %v, want %q %v", key, got, gok, want, wok)
		}
	})
}
