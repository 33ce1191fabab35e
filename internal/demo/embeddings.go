package demo

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
)

// embeddingDims is the length of every demo embedding.
const embeddingDims = 8

// maxEmbeddingInputs is OpenAI's limit on items per embeddings request.
const maxEmbeddingInputs = 2048

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req embeddingRequest
	if !readJSON(w, r, &req) || !checkModel(w, req.Model, kindEmbed) {
		return
	}
	items, err := promptItems(req.Input)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_type", "input",
			"input "+err.Error()+".")
		return
	}
	if len(items) > maxEmbeddingInputs {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_value", "input",
			"input may hold at most "+strconv.Itoa(maxEmbeddingInputs)+" items.")
		return
	}
	// The official Python SDK asks for base64 unless told otherwise, so
	// both encodings are served.
	b64 := false
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		b64 = true
	default:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_value", "encoding_format",
			"encoding_format must be \"float\" or \"base64\".")
		return
	}

	b := append(make([]byte, 0, 64+len(items)*160), `{"object":"list","data":[`...)
	for i, item := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		b = appendEmbedding(b, embed(item), b64)
		b = append(b, '}')
	}
	b = append(b, `],"model":"`...)
	b = append(b, req.Model...)
	tokens := strconv.Itoa(itemTokens(items))
	b = append(b, `","usage":{"prompt_tokens":`+tokens+`,"total_tokens":`+tokens+`}}`...)
	writeJSON(w, http.StatusOK, b)
}

// embed derives a unit-length vector from a hash of the text: identical
// texts embed identically, different ones almost surely do not.
func embed(text string) [embeddingDims]float32 {
	state := hashText([]byte(text))
	var v [embeddingDims]float32
	var norm float64
	for i := range v {
		x := float64(splitmix64(&state)>>11)/(1<<53)*2 - 1
		v[i] = float32(x)
		norm += x * x
	}
	if norm == 0 {
		v[0], norm = 1, 1
	}
	scale := 1 / math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) * scale)
	}
	return v
}

// appendEmbedding writes v as a JSON array of numbers, or as OpenAI's base64
// string of little-endian float32s.
func appendEmbedding(b []byte, v [embeddingDims]float32, b64 bool) []byte {
	if b64 {
		var raw [embeddingDims * 4]byte
		for i, f := range v {
			binary.LittleEndian.PutUint32(raw[i*4:], math.Float32bits(f))
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, raw[:])
		return append(b, '"')
	}
	b = append(b, '[')
	for i, f := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
	}
	return append(b, ']')
}
