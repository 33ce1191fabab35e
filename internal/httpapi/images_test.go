package httpapi

import (
	"errors"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

func amountOf(t *testing.T, s string) meter.Amount {
	t.Helper()
	a, err := meter.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// shippedImages is the demo-image table of cmd/paymeter/defaults.yaml:
// every size lists its qualities, "auto" included.
var shippedImages = map[string]string{
	"1024x1024/low": "0.01", "1024x1024/medium": "0.04", "1024x1024/high": "0.17", "1024x1024/auto": "0.17",
	"1024x1536/low": "0.02", "1024x1536/medium": "0.06", "1024x1536/high": "0.25", "1024x1536/auto": "0.25",
	"1536x1024/low": "0.02", "1536x1024/medium": "0.06", "1536x1024/high": "0.25", "1536x1024/auto": "0.25",
	"auto": "0.25",
}

func table(t *testing.T, entries map[string]string) meter.Price {
	p := meter.Price{Images: map[string]meter.Amount{}}
	for k, v := range entries {
		p.Images[k] = amountOf(t, v)
	}
	return p
}

// A quality the table does not list is never priced at the plain SIZE
// entry of a size priced by quality, an absent one ("auto", which the
// upstream may draw high) included: a 1536x1024 high-quality image
// (gpt-image-1 bills $0.25) and a 1024x1024 image that names no quality
// cost at least the 0.17 of a high-quality square one.
func TestImagePrice_QualityNeverFallsBackToSizePrice(t *testing.T) {
	amt := func(s string) meter.Amount { return amountOf(t, s) }
	p := table(t, shippedImages)
	for _, tc := range []struct{ body, min string }{
		{`{"model":"m","prompt":"p","size":"1536x1024","quality":"high"}`, "0.17"},
		{`{"model":"m","prompt":"p","size":"1024x1024"}`, "0.17"},
	} {
		info, err := upstream.InspectRequest([]byte(tc.body), upstream.APIImages)
		if err != nil {
			t.Fatal(err)
		}
		got, err := imagePrice(info, p)
		if err != nil {
			t.Fatal(err)
		}
		if got.PerImage < amt(tc.min) {
			t.Errorf("%s priced %s per image", tc.body, got.PerImage)
		}
	}
}

// The lookup: "SIZE/QUALITY"; the plain "SIZE" only for a size with no
// "SIZE/…" entry; "default" only for a size with no entry at all; else
// image_not_priced, naming the size and quality priced.
func TestImagePrice_Lookup(t *testing.T) {
	// The table the shipped demo had: 1024x1024 priced by quality (high
	// only), the other sizes whatever the quality.
	old := map[string]string{"1024x1024": "0.04", "1024x1024/high": "0.17", "1024x1536": "0.06", "1536x1024": "0.06", "auto": "0.17"}
	withDefault := map[string]string{"1024x1024/high": "0.17", "1024x1024": "0.04", "512x512": "0.02", "default": "0.30"}
	for _, tt := range []struct {
		name    string
		table   map[string]string
		body    string
		want    string // "": refused
		size    string
		quality string
	}{
		{"exact", shippedImages, `{"size":"1024x1024","quality":"medium"}`, "0.04", "", ""},
		{"exact auto", shippedImages, `{"size":"1024x1024","quality":"auto"}`, "0.17", "", ""},
		{"absent quality is auto", shippedImages, `{"size":"1536x1024"}`, "0.25", "", ""},
		{"absent size is auto, plain", shippedImages, `{"quality":"low"}`, "0.25", "", ""},
		{"nothing named", shippedImages, `{}`, "0.25", "", ""},
		{"unlisted quality", shippedImages, `{"size":"1024x1024","quality":"hd"}`, "", "1024x1024", "hd"},
		{"unlisted size", shippedImages, `{"size":"256x256","quality":"low"}`, "", "256x256", "low"},
		{"old: unlisted quality of a size priced by quality", old, `{"size":"1024x1024","quality":"low"}`, "", "1024x1024", "low"},
		{"old: absent quality of a size priced by quality", old, `{"size":"1024x1024"}`, "", "1024x1024", "auto"},
		{"old: exact", old, `{"size":"1024x1024","quality":"high"}`, "0.17", "", ""},
		{"old: a size at one price whatever the quality", old, `{"size":"1536x1024","quality":"high"}`, "0.06", "", ""},
		{"default for a size not listed", withDefault, `{"size":"1792x1024","quality":"hd"}`, "0.30", "", ""},
		{"plain, no quality entry", withDefault, `{"size":"512x512","quality":"hd"}`, "0.02", "", ""},
		{"no default for a size priced by quality", withDefault, `{"size":"1024x1024","quality":"low"}`, "", "1024x1024", "low"},
		{"no table", nil, `{"size":"1024x1024"}`, "", "1024x1024", "auto"},
		{"a size/ prefix is not a size", map[string]string{"1024x1024/": "0.01", "1024": "0.02"}, `{"size":"1024x1024","quality":"x"}`, "", "1024x1024", "x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"m","prompt":"p",` + tt.body[1:]
			if tt.body == "{}" {
				body = `{"model":"m","prompt":"p"}`
			}
			info, err := upstream.InspectRequest([]byte(body), upstream.APIImages)
			if err != nil {
				t.Fatal(err)
			}
			got, err := imagePrice(info, table(t, tt.table))
			if tt.want != "" {
				if err != nil || got.PerImage != amountOf(t, tt.want) {
					t.Fatalf("priced %s (%v), want %s", got.PerImage, err, tt.want)
				}
				return
			}
			var me *meter.Error
			if !errors.As(err, &me) || me.Code != meter.ECodeImageNotPriced || me.Details["size"] != tt.size ||
				me.Details["quality"] != tt.quality || me.Details["model"] != "m" {
				t.Fatalf("err %#v, want image_not_priced for size %q quality %q", err, tt.size, tt.quality)
			}
		})
	}
}
