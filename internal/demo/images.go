package demo

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
)

// imageSide is the width and height of every demo image, whatever size
// was asked for: a tiny PNG is enough to show that images are metered.
const imageSide = 4

// maxImages is the API's bound on n.
const maxImages = 10

type imageRequest struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	N              *int   `json:"n"`
	Size           string `json:"size"`
	Quality        string `json:"quality"`
	ResponseFormat string `json:"response_format"`
}

// imageSizes and imageQualities are the values the OpenAI image models
// accept, all of them served alike.
var (
	imageSizes = map[string]bool{"": true, "auto": true, "256x256": true, "512x512": true, "1024x1024": true,
		"1024x1536": true, "1536x1024": true, "1792x1024": true, "1024x1792": true}
	imageQualities = map[string]bool{"": true, "auto": true, "low": true, "medium": true, "high": true,
		"standard": true, "hd": true}
)

// imageTokens is the output tokens the demo reports per image, whatever
// was asked for: gpt-image-1's count for a low-quality square image.
const imageTokens = 272

// imageGeneration answers POST /v1/images/generations as the GPT image
// models do, {"created":…,"data":[…],"usage":{…}}: n images, each a tiny
// PNG whose colour is drawn from the prompt and the image's index, as
// "b64_json" (the default, as with the GPT image models) or, with
// response_format "url", as a data: URL; and a usage object whose
// input_tokens are the demo tokenizer's count of the prompt (all text
// tokens) and output_tokens imageTokens an image.
func (s *Server) imageGeneration(w http.ResponseWriter, r *http.Request) {
	var req imageRequest
	if !readJSON(w, r, &req) || !checkModel(w, req.Model, kindImage) {
		return
	}
	n, ok := imageCount(w, req)
	if !ok {
		return
	}
	b := append(make([]byte, 0, 256*n), `{"created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"data":[`...)
	seed := hashText([]byte(req.Prompt))
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		img := demoPNG(seed + uint64(i))
		if req.ResponseFormat == "url" {
			b = append(b, `{"url":"data:image/png;base64,`...)
		} else {
			b = append(b, `{"b64_json":"`...)
		}
		b = base64.StdEncoding.AppendEncode(b, img)
		b = append(b, `"}`...)
	}
	writeJSON(w, http.StatusOK, appendImageUsage(append(b, ']'), countTokens(len(req.Prompt)), n*imageTokens))
}

// appendImageUsage closes an image answer with a gpt-image usage object
// of input prompt tokens and output image tokens.
func appendImageUsage(b []byte, input, output int) []byte {
	b = append(b, `,"usage":{"total_tokens":`...)
	b = strconv.AppendInt(b, int64(input+output), 10)
	b = append(b, `,"input_tokens":`...)
	b = strconv.AppendInt(b, int64(input), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(output), 10)
	b = append(b, `,"input_tokens_details":{"text_tokens":`...)
	b = strconv.AppendInt(b, int64(input), 10)
	return append(b, `,"image_tokens":0}}}`...)
}

// imageCount checks the request's options and returns its n, answering
// 400 itself for a bad one.
func imageCount(w http.ResponseWriter, req imageRequest) (int, bool) {
	bad := func(param, msg string) (int, bool) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_value", param, msg)
		return 0, false
	}
	switch {
	case req.Prompt == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_required_parameter", "prompt",
			"You must provide a prompt.")
		return 0, false
	case req.N != nil && (*req.N < 1 || *req.N > maxImages):
		return bad("n", "n must be between 1 and "+strconv.Itoa(maxImages)+".")
	case !imageSizes[req.Size]:
		return bad("size", "Invalid size '"+req.Size+"'.")
	case !imageQualities[req.Quality]:
		return bad("quality", "Invalid quality '"+req.Quality+"'.")
	case req.ResponseFormat != "" && req.ResponseFormat != "url" && req.ResponseFormat != "b64_json":
		return bad("response_format", "response_format must be \"url\" or \"b64_json\".")
	}
	if req.N == nil {
		return 1, true
	}
	return *req.N, true
}

// demoPNG encodes a small image of one colour drawn from seed. The
// encoder's output depends only on the pixels, so it is deterministic.
func demoPNG(seed uint64) []byte {
	v := splitmix64(&seed)
	img := image.NewNRGBA(image.Rect(0, 0, imageSide, imageSide))
	c := color.NRGBA{R: uint8(v), G: uint8(v >> 8), B: uint8(v >> 16), A: 0xff}
	for y := range imageSide {
		for x := range imageSide {
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // cannot fail: the writer is memory
	return buf.Bytes()
}
