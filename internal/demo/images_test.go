package demo

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"strings"
	"testing"
)

type imagesReply struct {
	Created int64 `json:"created"`
	Data    []struct {
		B64JSON string `json:"b64_json"`
		URL     string `json:"url"`
	} `json:"data"`
	Usage struct {
		TotalTokens  int `json:"total_tokens"`
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
		InputDetails struct {
			TextTokens  int  `json:"text_tokens"`
			ImageTokens *int `json:"image_tokens"`
		} `json:"input_tokens_details"`
	} `json:"usage"`
}

func TestImageGeneration(t *testing.T) {
	url := start(t, &Server{}) + "/v1/images/generations"
	status, h, body := do(t, "POST", url, `{"model":"demo-image","prompt":"An otter.","n":3,"size":"1024x1024","quality":"high"}`)
	if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("status=%d content-type=%q: %s", status, h.Get("Content-Type"), body)
	}
	r := decode[imagesReply](t, body)
	if r.Created != created || len(r.Data) != 3 {
		t.Fatalf("created=%d, %d images, want %d and 3", r.Created, len(r.Data), created)
	}
	// "An otter." is 9 bytes: 3 demo tokens; 272 output tokens an image.
	if u := r.Usage; u.InputTokens != 3 || u.InputDetails.TextTokens != 3 || u.InputDetails.ImageTokens == nil ||
		*u.InputDetails.ImageTokens != 0 || u.OutputTokens != 3*272 || u.TotalTokens != 3+3*272 {
		t.Errorf("usage %+v, want 3 input (text) tokens and 816 output tokens", u)
	}
	var pngs []string
	for i, d := range r.Data {
		raw, err := base64.StdEncoding.DecodeString(d.B64JSON)
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil || img.Bounds().Dx() != imageSide || img.Bounds().Dy() != imageSide {
			t.Fatalf("image %d is not a %d-pixel PNG: %v", i, imageSide, err)
		}
		pngs = append(pngs, d.B64JSON)
	}
	if pngs[0] == pngs[1] {
		t.Errorf("images 0 and 1 are the same, want each its own colour")
	}
	if _, _, again := do(t, "POST", url, `{"model":"demo-image","prompt":"An otter.","n":3,"size":"1024x1024","quality":"high"}`); !bytes.Equal(again, body) {
		t.Errorf("the same request answered differently")
	}

	_, _, body = do(t, "POST", url, `{"model":"demo-image","prompt":"An otter.","response_format":"url"}`)
	r = decode[imagesReply](t, body)
	if len(r.Data) != 1 || !strings.HasPrefix(r.Data[0].URL, "data:image/png;base64,") ||
		strings.TrimPrefix(r.Data[0].URL, "data:image/png;base64,") != pngs[0] {
		t.Errorf("url reply %s, want one data: URL of the first image", body)
	}
}

func TestImageGenerationErrors(t *testing.T) {
	url := start(t, &Server{}) + "/v1/images/generations"
	for _, tt := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"model":"demo-image"}`, http.StatusBadRequest, "missing_required_parameter"},
		{`{"model":"demo-image","prompt":"p","n":11}`, http.StatusBadRequest, "invalid_value"},
		{`{"model":"demo-image","prompt":"p","n":0}`, http.StatusBadRequest, "invalid_value"},
		{`{"model":"demo-image","prompt":"p","size":"7x7"}`, http.StatusBadRequest, "invalid_value"},
		{`{"model":"demo-image","prompt":"p","quality":"ultra"}`, http.StatusBadRequest, "invalid_value"},
		{`{"model":"demo-image","prompt":"p","response_format":"png"}`, http.StatusBadRequest, "invalid_value"},
		{`{"model":"demo-small","prompt":"p"}`, http.StatusNotFound, "model_not_supported"},
		{`{"model":"nope","prompt":"p"}`, http.StatusNotFound, "model_not_found"},
	} {
		status, _, body := do(t, "POST", url, tt.body)
		if status != tt.status || !strings.Contains(string(body), `"code":"`+tt.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tt.body, status, body, tt.status, tt.code)
		}
	}
	if status, _, body := do(t, "POST", strings.TrimSuffix(url, "images/generations")+"chat/completions",
		`{"model":"demo-image","messages":[{"role":"user","content":"hi"}]}`); status != http.StatusNotFound {
		t.Errorf("chat with demo-image: %d %s, want 404", status, body)
	}
}
