package x402

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Review (i15-perf2): inputs chosen to split decodeSIWXFast from
// json.Unmarshal. Wherever checkSIWXKeys passes and the fast path decodes,
// it must decode what json.Unmarshal does; DecodeSIWX must answer the same
// as json.Unmarshal alone would.
func TestDecodeSIWXFastReview_Adversarial(t *testing.T) {
	const base = `"domain":"a","address":"0x857b06519E91e3A54538791bDbb0E22373e36b66","uri":"https://a/","version":"1",` +
		`"chainId":"eip155:1","type":"eip191","nonce":"abcdefgh","issuedAt":"2024-01-15T10:30:00.000Z","signature":"0x00"`
	docs := []string{
		`{` + base + `}`,
		`{` + base + `,"Domain":"evil"}`, `{"Domain":"evil",` + base + `}`,
		`{` + base + `,"DOMAIN":"evil"}`, `{` + base + `,"ſignature":"0x11"}`, `{` + base + `,"\u0064omain":"evil"}`,
		`{` + base + `,"domain":"evil"}`, `{"domain":"evil",` + base + `}`,
		`{` + base + `,"domai\u006e":"evil"}`, `{` + base + `,"domain\u0000":"evil"}`,
		`{` + base + `,"resources":["a","b"],"resources":["c"]}`,
		`{` + base + `,"resources":[]}`, `{` + base + `,"resources":null}`, `{` + base + `,"resources":["a",null]}`,
		`{` + base + `,"resources":[ "a" , "b" ]}`, `{` + base + `,"resources":"a"}`, `{` + base + `,"resources":[["a"]]}`,
		`{` + base + `,"statement":null}`, `{` + base + `,"statement":""}`, `{` + base + `,"statement":"\u00e9"}`,
		`{` + base + `,"statement":"é"}`, `{` + base + `,"statement":"a\nb"}`, `{` + base + `,"statement":"\ud800"}`,
		`{` + base + `,"statement":"` + "\xff" + `"}`, `{` + base + `,"statement":"` + "\xed\xa0\x80" + `"}`,
		`{` + base + `,"statement":1}`, `{` + base + `,"statement":{"a":"b"}}`,
		`{` + base + `,"expirationTime":"x","notBefore":"y","requestId":"r","signatureScheme":"eip191"}`,
		`{` + base + `,"x":{"domain":"evil","y":["}",{"z":"]"}]},"w":"\"}"}`,
		`{` + base + `,"k\u00e9y":"v"}`, `{` + base + `,"` + "\xff" + `":"v"}`, `{` + base + `,"":"v"}`,
		`{` + base + `,"unknown":[1,2,{"a":[3]}],"n":-0.0e+1,"t":true,"f":false,"z":null}`,
		" \t\r\n{ \"domain\" : \"a\" ,\n\"uri\":\"b\" } \n",
		`{}`, `{"domain":"a"}`, `{"domain":null}`, `{"domain":true}`,
		`{` + base + `,"signature":"0x00","x":1}`,
		`{` + strings.Repeat(`"u":1,`, 0) + base + `,"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":1}`,
		`{` + base + `,"SIGNATURESCHEME_______x":1}`, `{` + base + `,"signatureschemE":"eip191"}`,
		`[` + base + `]`, `"x"`, `{` + base + `}{}`, `{` + base + `,}`,
	}
	for _, doc := range docs {
		raw := []byte(doc)
		keysErr := checkSIWXKeys(raw)
		var fast SIWXPayload
		fastOK := keysErr == nil && decodeSIWXFast(raw, &fast)
		var want SIWXPayload
		werr := json.Unmarshal(raw, &want)
		if fastOK && (werr != nil || !reflect.DeepEqual(fast, want)) {
			t.Errorf("%q: fast %+v, json %+v (%v)", doc, fast, want, werr)
		}
		// The strict path as a whole: what it accepts, json reads the same.
		p, err := DecodeSIWX(base64.StdEncoding.EncodeToString(raw))
		if err == nil && (werr != nil || !reflect.DeepEqual(*p, want)) {
			t.Errorf("%q: DecodeSIWX %+v, json %+v (%v)", doc, *p, want, werr)
		}
	}
}
