package upstream

import (
	"github.com/paymeter/paymeter/internal/meter"
)

// Image generations (POST /v1/images/generations) are priced per image
// (docs/design.md §2a): the hold is n images at the price of the request's
// size and quality, the capture the images the answer holds. A model that
// prices input (the GPT image models bill the prompt's text tokens) also
// holds the prompt's bound and is charged the input tokens the answer
// reports (ImagesCharged).

// imageField is a top-level field of an image generation request.
type imageField uint8

const (
	iNone imageField = iota
	iModel
	iPrompt
	iN
	iSize
	iQuality
	iResponseFormat
	iStyle
	iUser
	iBackground
	iModeration
	iOutputFormat
	iOutputCompression
	iStream
	iPartialImages
	iSafetyIdentifier
	numImageFields
)

// imageFieldNames are the OpenAI image generation request's fields.
var imageFieldNames = [numImageFields]string{
	iModel: "model", iPrompt: "prompt", iN: "n", iSize: "size", iQuality: "quality",
	iResponseFormat: "response_format", iStyle: "style", iUser: "user", iBackground: "background",
	iModeration: "moderation", iOutputFormat: "output_format", iOutputCompression: "output_compression",
	iStream: "stream", iPartialImages: "partial_images", iSafetyIdentifier: "safety_identifier",
}

// maxImages is the API's bound on "n".
const maxImages = 10

// maxImageOption bounds the length of a size or quality value: they name
// a price, and are quoted back in refusals.
const maxImageOption = 32

// imageFields is the image generation API's field table.
var imageFields = newFieldTable(imageFieldNames[:], nil)

// inspectImages is InspectRequest for /v1/images/generations. model and a
// non-empty prompt are required (the price is the model's); n is 1 to 10
// (1 when absent); size and quality are kept as sent to select the price,
// and must be lower-case (letters, digits, '-' and ':'), so that no other
// spelling of a dear option an upstream might accept is priced as a cheap
// one. A stream (stream: true, partial_images) is refused: partial images
// are billed apart from the images the answer holds.
func inspectImages(body []byte) (RequestInfo, error) {
	r := requestScan{s: scanner{data: body}}
	r.info.api = APIImages
	if err := r.scanImages(); err != nil {
		return RequestInfo{}, err
	}
	return r.info, nil
}

func (r *requestScan) scanImages() *meter.Error {
	r.n = -1
	for i := 0; ; i++ {
		f, more, err := r.nextField(imageFields, i)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if err := r.imageField(imageField(f)); err != nil {
			return err
		}
	}
	if !r.has(uint8(iModel)) {
		return badRequest(`"model" is required`)
	}
	if !r.has(uint8(iPrompt)) {
		return badRequest(`"prompt" is required`)
	}
	r.info.N = max(r.n, 1)
	return nil
}

// imageField reads the value of one image generation field.
func (r *requestScan) imageField(f imageField) *meter.Error {
	var err *meter.Error
	switch f {
	case iModel:
		r.info.Model, err = r.model()
	case iPrompt:
		err = r.imagePrompt()
	case iN:
		r.n, err = r.integer(`"n" must be an integer from 1 to 10`, 1, maxImages)
	case iSize:
		r.info.ImageSize, err = r.imageOption("size")
	case iQuality:
		r.info.ImageQuality, err = r.imageOption("quality")
	case iResponseFormat:
		err = r.responseFormat()
	case iOutputCompression:
		_, err = r.integer(`"output_compression" must be an integer from 0 to 100`, 0, 100)
	case iStream:
		var stream bool
		if stream, err = r.boolean(`"stream" must be a boolean`); err == nil && stream {
			err = unsupported("stream", `"stream" is not supported for image generation: partial images are billed apart`)
		}
	case iPartialImages:
		var n int64
		if n, err = r.integer(`"partial_images" must be an integer from 0 to 3`, 0, 3); err == nil && n > 0 {
			err = unsupported("partial_images", `"partial_images" is not supported: partial images are billed apart`)
		}
	default: // style, user, background, moderation, output_format, safety_identifier
		err = r.optionalString(imageFieldNames[f])
	}
	return err
}

func (r *requestScan) imagePrompt() *meter.Error {
	const msg = `"prompt" must be a non-empty string`
	s := &r.s
	if s.peek() != '"' {
		return r.invalid(msg)
	}
	raw, escaped := s.str()
	if s.bad {
		return badRequest(msgInvalidJSON)
	}
	if len(raw) == 2 {
		return badRequest(msg)
	}
	// The prompt's bound, held at the input rate of a model that has one.
	r.info.PromptBytes = decodedLen(raw, escaped)
	r.info.Messages = 1
	return nil
}

// imageOption reads a size or quality: null (""), or a short lower-case
// string, decoded.
func (r *requestScan) imageOption(name string) (string, *meter.Error) {
	msg := `"` + name + `" must be a string of at most 32 lower-case letters, digits, '-' or ':'`
	s := &r.s
	if s.peek() == 'n' {
		s.lit("null")
		return "", nil
	}
	var buf [maxImageOption]byte
	v, ok := r.str(buf[:])
	if s.bad {
		return "", badRequest(msgInvalidJSON)
	}
	if !ok || len(v) == 0 || len(v) > maxImageOption {
		return "", badRequest(msg)
	}
	for _, c := range v {
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '-' || c == ':') {
			return "", badRequest(msg)
		}
	}
	return string(v), nil
}

func (r *requestScan) responseFormat() *meter.Error {
	const msg = `"response_format" must be "url" or "b64_json"`
	s := &r.s
	if s.peek() == 'n' {
		s.lit("null")
		return nil
	}
	var buf [16]byte
	v, ok := r.str(buf[:])
	if s.bad {
		return badRequest(msgInvalidJSON)
	}
	if !ok || string(v) != "url" && string(v) != "b64_json" {
		return badRequest(msg)
	}
	return nil
}

// optionalString reads a string or null, forwarded as it is.
func (r *requestScan) optionalString(name string) *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '"':
		s.str()
		if s.bad {
			return badRequest(msgInvalidJSON)
		}
		return nil
	}
	return r.invalid(`"` + name + `" must be a string`)
}

// pricesInput reports whether p charges for input tokens at all. An image
// model that does not (the DALL·E models bill per image alone) is held and
// charged for its images only.
func pricesInput(p meter.Price) bool {
	return max(p.Input, p.CachedInput, p.CacheWrite, p.CacheWrite1h) > 0
}

// imagesWorstCase is WorstCase for an image generation: its n images, and,
// for a model that prices input (the GPT image models bill the prompt's
// text tokens), the prompt's bound (InputBound) at the dearest input rate.
func (r RequestInfo) imagesWorstCase(p meter.Price) meter.Usage {
	u := meter.Usage{Images: max(r.N, 1)}
	if pricesInput(p) {
		in := p.WorstInput(r.InputBound(p))
		in.Images = u.Images
		u = in
	}
	return u
}

// ImagesCharged is the usage an image generation is charged for, from the
// usage u its answer reports (ParseResponse): never more images than the
// request asked for and the hold covers; and, for a model that prices
// input, the input tokens the answer reports, capped at the prompt's bound,
// or that bound (at the dearest input rate, as held) when it reports none:
// a prompt is never empty, so no input tokens means no usable usage. For a
// model that does not price input, the images alone.
func (r RequestInfo) ImagesCharged(p meter.Price, u meter.Usage) meter.Usage {
	images := min(u.Images, max(r.N, 1))
	if !pricesInput(p) {
		return meter.Usage{Images: images}
	}
	bound := r.InputBound(p)
	if u.InputTokens+u.CachedInputTokens <= 0 { // their sum is the answer's input_tokens: no overflow
		in := p.WorstInput(bound)
		in.Images = images
		return in
	}
	input := min(u.InputTokens, bound)
	return meter.Usage{InputTokens: input, CachedInputTokens: min(u.CachedInputTokens, bound-input), Images: images}
}

// parseImagesAnswer is ParseResponse for an image generation response:
// one image per element of its top-level "data" array (ok false without
// one), the model, when the answer names it, and the prompt's input
// tokens when its (last) "usage" object reports them, as the GPT image
// models' does: input_tokens, cached_tokens split off as OpenAI's (its
// input_tokens_details). Its output_tokens are the images' tokens, priced
// per image (docs/design.md §2a), so they are not read.
func parseImagesAnswer(body []byte) (u meter.Usage, model []byte, ok bool) {
	s := scanner{data: body}
	if s.peek() != '{' {
		return meter.Usage{}, nil, false
	}
	var input meter.Usage
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "data"):
			u.Images, ok = s.countElements()
		case rawIs(raw, escaped, "model"):
			model = s.modelName()
		case rawIs(raw, escaped, "usage"):
			if iu, usable := s.openAIUsage(&responsesUsage); usable {
				input = meter.Usage{InputTokens: iu.InputTokens, CachedInputTokens: iu.CachedInputTokens}
			} else {
				input = meter.Usage{}
			}
		default:
			s.skip()
		}
	}
	if !s.finish() {
		return meter.Usage{}, nil, false
	}
	if !ok {
		return meter.Usage{}, model, false
	}
	u.InputTokens, u.CachedInputTokens = input.InputTokens, input.CachedInputTokens
	return u, model, true
}

// countElements reads an array and returns how many elements it holds;
// ok is false for anything else.
func (s *scanner) countElements() (n int64, ok bool) {
	if s.peek() != '[' {
		s.skip()
		return 0, false
	}
	s.open('[')
	for ; s.more(']', int(n)); n++ {
		s.skip()
	}
	return n, !s.bad
}

// imagesWithCost is WithCost for an image generation response: the cost
// goes into its last top-level "usage" object when it has one (the GPT
// image models'), else at the top level, as "paymeter_cost". Every
// paymeter_cost already in the body's usage objects or at its top level
// (an upstream that is itself a paymeter, or one that spoofs it) is
// dropped, so that the member is there once and says what this proxy
// charged. The edits are chat's (costEdits); everything else is kept byte
// for byte.
func imagesWithCost(data []byte, cost meter.Amount) []byte {
	value := []byte(cost.String())
	s := scanner{data: data}
	if s.peek() != '{' {
		return data
	}
	top := s.pos
	var usages []int // where each top-level usage object starts
	usage, taken := -1, false
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "usage"):
			usage = -1
			if s.peek() == '{' {
				usage = s.pos
				usages = append(usages, usage)
			}
		case rawIs(raw, escaped, costField):
			taken = true
		}
		s.skip()
	}
	if !s.finish() {
		return data
	}
	var sp splice
	if usage < 0 { // at the top level, which drops any there
		sp = costEdits(data, top, value)
	} else if taken {
		sp = costEdits(data, top, nil)
	}
	for _, at := range usages {
		v := value
		if at != usage {
			v = nil // dropped, not added: the client reads the last usage
		}
		sp.edits = append(sp.edits, costEdits(data, at, v).edits...)
	}
	sp.sort()
	return sp.apply(data)
}
