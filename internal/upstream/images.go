package upstream

import "github.com/paymeter/paymeter/internal/meter"

// inspectImages is InspectRequest for /v1/images/generations.
func inspectImages(body []byte) (RequestInfo, error) {
	return RequestInfo{}, meter.Errorf(meter.ECodeBadRequest, "/v1/images/generations is not metered yet")
}

// parseImagesAnswer is ParseResponse for an image generation response.
func parseImagesAnswer(body []byte) (meter.Usage, []byte, bool) { return meter.Usage{}, nil, false }

// imagesWithCost is WithCost for an image generation response.
func imagesWithCost(data []byte, cost meter.Amount) []byte { return data }
