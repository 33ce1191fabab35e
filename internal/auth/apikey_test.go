package auth_test

import (
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

func TestGenerateKey_Format(t *testing.T) {
	seen := map[string]bool{}
	for i := range 200 {
		test := i%2 == 0
		k := auth.GenerateKey(test)
		if want := 57; len(k) != want {
			t.Fatalf("len(%s...)=%d, want %d", k[:12], len(k), want)
		}
		if prefix := map[bool]string{true: "pm_test_", false: "pm_live_"}[test]; !strings.HasPrefix(k, prefix) {
			t.Fatalf("key %s... lacks prefix %s", k[:12], prefix)
		}
		if err := auth.CheckKeyFormat(k); err != nil {
			t.Fatalf("fresh key refused: %v", err)
		}
		if seen[k] {
			t.Fatal("duplicate key generated")
		}
		seen[k] = true
	}
}

func TestCheckKeyFormat(t *testing.T) {
	good := auth.GenerateKey(false)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, tt := range []struct {
		name, key, wantMsg string
	}{
		{"empty", "", "malformed"},
		{"other prefix", "sk_live_" + good[8:], "malformed"},
		{"short", good[:40], "malformed"},
		{"long", good + "0", "malformed"},
		{"bad alphabet", good[:20] + "-" + good[21:], "malformed"},
		{"body typo", flip(good, 20), "checksum"},
		{"checksum typo", flip(good, len(good)-1), "checksum"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.CheckKeyFormat(tt.key)
			if meter.ErrorCode(err) != meter.ECodeInvalidAPIKey || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err=%v, want invalid_api_key mentioning %q", err, tt.wantMsg)
			}
			if len(tt.key) > 20 && strings.Contains(err.Error(), tt.key[12:]) {
				t.Fatal("error repeats the secret part of the key")
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	for _, tt := range []struct {
		name, authz, xkey string
		want              string
		wantOK            bool
		wantCode          string
	}{
		{"none", "", "", "", false, ""},
		{"bearer", "Bearer abc", "", "abc", true, ""},
		{"bearer lowercase scheme", "bearer abc", "", "abc", true, ""},
		{"x-api-key", "", "abc", "abc", true, ""},
		{"both same", "Bearer abc", "abc", "abc", true, ""},
		{"both differ", "Bearer abc", "xyz", "", false, meter.ECodeBadRequest},
		{"basic scheme", "Basic Zm9vOmJhcg==", "", "", false, meter.ECodeInvalidAPIKey},
		{"bearer without token", "Bearer", "", "", false, meter.ECodeInvalidAPIKey},
		{"token with space", "Bearer a b", "", "", false, meter.ECodeInvalidAPIKey},
		{"huge", "Bearer " + strings.Repeat("a", 5000), "", "", false, meter.ECodeInvalidAPIKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := auth.BearerToken(tt.authz, tt.xkey)
			if code := meter.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("err=%v, want code %q", err, tt.wantCode)
			}
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("token=%q ok=%v, want %q %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// FuzzBearerToken: no input panics; the outcome is a token, nothing, or a
// clean *meter.Error; a token never contains whitespace.
func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer "+auth.GenerateKey(false), "")
	f.Add("", auth.GenerateKey(true))
	f.Add("Basic x", "y")
	f.Add("Bearer  \t", " ")
	f.Fuzz(func(t *testing.T, authz, xkey string) {
		tok, ok, err := auth.BearerToken(authz, xkey)
		if err != nil {
			if ok || tok != "" {
				t.Fatalf("error %v with token %q ok=%v", err, tok, ok)
			}
			if c := meter.ErrorCode(err); c != meter.ECodeInvalidAPIKey && c != meter.ECodeBadRequest {
				t.Fatalf("unexpected code %q", c)
			}
			return
		}
		if ok != (tok != "") || strings.ContainsAny(tok, " \t\r\n") {
			t.Fatalf("token=%q ok=%v", tok, ok)
		}
		if ok && auth.IsKeyShaped(tok) {
			_ = auth.CheckKeyFormat(tok) // must not panic on any shape
		}
	})
}
