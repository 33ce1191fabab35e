package httpapi

import (
	"encoding/json"
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
)

// modelObject is one model of /v1/models: OpenAI's model object, with
// the price paymeter sells it at (decimal strings, credits per million
// tokens, or per request) and the bounds its holds use.
type modelObject struct {
	ID              string `json:"id"`
	Object          string `json:"object"`
	Created         int64  `json:"created"`
	OwnedBy         string `json:"owned_by"`
	InputPrice      string `json:"input_price"`
	OutputPrice     string `json:"output_price"`
	RequestPrice    string `json:"request_price"`
	MaxOutputTokens int64  `json:"max_output_tokens,omitempty"`
	MaxImageTokens  int64  `json:"max_image_tokens,omitempty"`
	MaxAudioTokens  int64  `json:"max_audio_tokens,omitempty"`
	MaxFileTokens   int64  `json:"max_file_tokens,omitempty"`

	CachedInputPrice  string            `json:"cached_input_price"`
	CacheWritePrice   string            `json:"cache_write_price"`
	CacheWrite1hPrice string            `json:"cache_write_1h_price"`
	MaxInputTokens    int64             `json:"max_input_tokens,omitempty"`
	ImagePrices       map[string]string `json:"image_prices,omitempty"`
}

func newModelObject(id string, p meter.Price) modelObject {
	return modelObject{
		ID: id, Object: "model", OwnedBy: "paymeter",
		InputPrice: p.Input.String(), OutputPrice: p.Output.String(), RequestPrice: p.PerRequest.String(),
		MaxOutputTokens: p.MaxOutputTokens, MaxImageTokens: p.MaxImageTokens,
		MaxAudioTokens: p.MaxAudioTokens, MaxFileTokens: p.MaxFileTokens,
		CachedInputPrice: p.CachedInput.String(), CacheWritePrice: p.CacheWrite.String(),
		CacheWrite1hPrice: p.CacheWrite1h.String(), MaxInputTokens: p.MaxInputTokens,
		ImagePrices: imagePrices(p.Images),
	}
}

func imagePrices(t map[string]meter.Amount) map[string]string {
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v.String()
	}
	return out
}

// modelsAllowed checks that the caller may list models.
func modelsAllowed(c *fiber.Ctx) error {
	p := principalOf(c)
	if p == nil {
		return missingCredentials()
	}
	if !p.Scopes.Has(meter.ScopeModels) {
		return meter.Errorf(meter.ECodeInsufficientScope, "this credential lacks the %q scope", meter.ScopeModels)
	}
	return nil
}

// listModels serves GET /v1/models from the price table: the models this
// proxy sells, in id order. It is never forwarded (docs/security.md): the
// upstream may serve more models than are priced, and a forwarded path is
// one more way to reach the upstream with the operator's key.
func (s *Server) listModels(c *fiber.Ctx) error {
	if err := modelsAllowed(c); err != nil {
		return err
	}
	ids := make([]string, 0, len(s.Prices))
	for id := range s.Prices {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	list := struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{Object: "list", Data: make([]modelObject, 0, len(ids))}
	for _, id := range ids {
		list.Data = append(list.Data, newModelObject(id, s.Prices[id]))
	}
	return sendJSON(c, list)
}

// getModel serves GET /v1/models/{id}, where id is the rest of the path,
// percent-decoded (model ids may hold a slash). An id that is not priced
// is 404 model_not_found, whatever it spells.
func (s *Server) getModel(c *fiber.Ctx) error {
	if err := modelsAllowed(c); err != nil {
		return err
	}
	raw := c.Params("*")
	id, err := url.PathUnescape(raw)
	p, ok := s.Prices[id]
	if err != nil || !ok || id == "" {
		return meter.Errorf(meter.ECodeModelNotFound, "no model with this id is priced on this proxy")
	}
	return sendJSON(c, newModelObject(id, p))
}

func sendJSON(c *fiber.Ctx, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}
