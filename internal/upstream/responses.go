package upstream

import "github.com/paymeter/paymeter/internal/meter"

// inspectResponses is InspectRequest for the OpenAI Responses API.
func inspectResponses(body []byte) (RequestInfo, error) {
	return RequestInfo{}, meter.Errorf(meter.ECodeBadRequest, "/v1/responses is not metered yet")
}

// parseResponsesAnswer is ParseResponse for a Responses API response.
func parseResponsesAnswer(body []byte) (meter.Usage, []byte, bool) { return meter.Usage{}, nil, false }

// observeResponses meters one Responses API stream event's data.
func (m *StreamMeter) observeResponses(data []byte) {}

// responsesWithCost is WithCost for the Responses API.
func responsesWithCost(data []byte, cost meter.Amount) []byte { return data }
